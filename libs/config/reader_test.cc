#include "libs/config/reader.h"

#include <cstdlib>
#include <fstream>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace granary::config {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Not;

Reader Parse(absl::string_view yaml) {
  absl::StatusOr<Reader> r = Reader::FromString(yaml, "test.yaml");
  EXPECT_TRUE(r.ok()) << r.status();
  return *r;
}

TEST(ReaderTest, ReadsTypedValuesAndDefaults) {
  Reader root = Parse(R"(
server:
  grpc_address: serving.example:7101
  drain_timeout: 250ms
  workers: 4
  verbose: yes
  ratio: 0.5
  tags: [a, b]
  labels: {team: ml}
)");
  Reader server = root.Section("server");
  EXPECT_EQ(server.Address("grpc_address", "x:1"), "serving.example:7101");
  EXPECT_EQ(server.Duration("drain_timeout", absl::Seconds(1)), absl::Milliseconds(250));
  EXPECT_EQ(server.Int("workers", 1, 1, 64), 4);
  EXPECT_TRUE(server.Bool("verbose", false));
  EXPECT_DOUBLE_EQ(server.Double("ratio", 1.0), 0.5);
  EXPECT_EQ(server.StringList("tags"), (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(server.StringMap("labels").at("team"), "ml");
  EXPECT_EQ(server.String("missing", "dflt"), "dflt");
  EXPECT_EQ(root.Section("absent").Int("n", 7), 7);
  EXPECT_TRUE(root.Finish().ok()) << root.Finish();
}

TEST(ReaderTest, ReportsEveryProblemWithFileLineAndPath) {
  Reader root = Parse(R"(server:
  grpc_address: nowhere
  workers: many
  drain_timeout: soon
redis:
  adress: redis.example:7102
)");
  Reader server = root.Section("server");
  server.Address("grpc_address", "default.example:7103");
  server.Int("workers", 1);
  server.Duration("drain_timeout", absl::Seconds(1));
  root.Section("redis").Address("address", "redis.example:7102");
  absl::Status s = root.Finish();
  ASSERT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(s.message(), HasSubstr("4 problems"));
  EXPECT_THAT(s.message(), HasSubstr("test.yaml:2: server.grpc_address: expected host:port"));
  EXPECT_THAT(s.message(), HasSubstr("test.yaml:3: server.workers: expected an integer"));
  EXPECT_THAT(s.message(), HasSubstr("test.yaml:4: server.drain_timeout: expected a duration"));
  EXPECT_THAT(s.message(), HasSubstr("test.yaml:6: redis.adress: unknown key"));
}

TEST(ReaderTest, HostAndPortIncludingIpv6) {
  Reader root = Parse("a: 10.0.0.1:7105\nb: '[fd00::1]:7104'\nc: fd00::1:7104\nd: host:70000\n");
  HostPort a = root.HostAndPort("a", "x:1");
  EXPECT_EQ(a.host, "10.0.0.1");
  EXPECT_EQ(a.port, 7105);
  HostPort b = root.HostAndPort("b", "x:1");
  EXPECT_EQ(b.host, "fd00::1");
  EXPECT_EQ(b.port, 7104);
  root.HostAndPort("c", "x:1");
  root.HostAndPort("d", "x:1");
  absl::Status s = root.Finish();
  EXPECT_THAT(s.message(), HasSubstr("c: expected host:port"));
  EXPECT_THAT(s.message(), HasSubstr("d: expected host:port"));
  EXPECT_THAT(s.message(), HasSubstr("2 problems"));
}

TEST(ReaderTest, RangeChecks) {
  Reader root = Parse("n: 100\nd: 2h\n");
  EXPECT_EQ(root.Int("n", 5, 1, 10), 5);
  EXPECT_EQ(root.Duration("d", absl::Seconds(1), absl::ZeroDuration(), absl::Minutes(1)),
            absl::Seconds(1));
  absl::Status s = root.Finish();
  EXPECT_THAT(s.message(), HasSubstr("n: must be between 1 and 10, got 100"));
  EXPECT_THAT(s.message(), HasSubstr("d: must be between 0 and 1m, got 2h"));
}

TEST(ReaderTest, SizesWithUnits) {
  Reader root = Parse("a: 65536\nb: 512KiB\nc: 64 MiB\nd: 2GiB\ne: 3MB\nf: lots\ng: 2KiB\n");
  EXPECT_EQ(root.Bytes("a", 0), 65536);
  EXPECT_EQ(root.Bytes("b", 0), 512 * 1024);
  EXPECT_EQ(root.Bytes("c", 0), 64 * 1024 * 1024);
  EXPECT_EQ(root.Bytes("d", 0), int64_t{2} << 30);
  EXPECT_EQ(root.Bytes("e", 0), 3000000);
  EXPECT_EQ(root.Bytes("f", 7), 7);
  EXPECT_EQ(root.Bytes("g", 9, 4096), 9);
  EXPECT_EQ(root.Bytes("missing", 11), 11);
  absl::Status s = root.Finish();
  EXPECT_THAT(s.message(), HasSubstr("f: expected a size such as 65536, 512KiB"));
  EXPECT_THAT(s.message(), HasSubstr("g: must be between 4096 and"));
  EXPECT_THAT(s.message(), Not(HasSubstr("a:")));
}

TEST(ReaderTest, RequiredStrings) {
  Reader root = Parse("name: \"\"\n");
  root.RequiredString("name");
  root.RequiredString("project");
  absl::Status s = root.Finish();
  EXPECT_THAT(s.message(), HasSubstr("name: must not be empty"));
  EXPECT_THAT(s.message(), HasSubstr("project: required"));
}

TEST(ReaderTest, WrongShapes) {
  Reader root = Parse("server: 3\nlist: {a: 1}\nscalar: [1]\n");
  root.Section("server");
  root.StringList("list");
  root.String("scalar", "");
  absl::Status s = root.Finish();
  EXPECT_THAT(s.message(), HasSubstr("server: expected a mapping"));
  EXPECT_THAT(s.message(), HasSubstr("list: expected a list"));
  EXPECT_THAT(s.message(), HasSubstr("scalar: expected a single value"));
}

TEST(ReaderTest, MalformedYamlNamesTheLine) {
  absl::StatusOr<Reader> r = Reader::FromString("a: 1\nb: [unclosed\n", "bad.yaml");
  ASSERT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(r.status().message(), HasSubstr("bad.yaml:"));
  EXPECT_THAT(r.status().message(), HasSubstr("malformed YAML"));
}

TEST(ReaderTest, TopLevelMustBeAMapping) {
  EXPECT_EQ(Reader::FromString("- a\n- b\n").status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(Reader::FromString("").ok());
}

TEST(ReaderTest, MissingFileIsNotFound) {
  EXPECT_EQ(Reader::FromFile("/nonexistent/granary.yaml").status().code(),
            absl::StatusCode::kNotFound);
}

TEST(ReaderTest, SecretsFromFileAndEnvironmentNeverInline) {
  std::string path = std::string(std::getenv("TEST_TMPDIR")) + "/pw";
  std::ofstream(path) << "s3cret\n";
  setenv("GRANARY_TEST_TOKEN", "tok", 1);
  Reader root = Parse("a: {file: " + path + "}\nb: {env: GRANARY_TEST_TOKEN}\nc: plain\n");
  EXPECT_EQ(root.SecretValue("a").value(), "s3cret");
  EXPECT_EQ(root.SecretValue("b").value(), "tok");
  EXPECT_TRUE(root.SecretValue("c").empty());
  EXPECT_TRUE(root.SecretValue("none").empty());
  absl::Status s = root.Finish();
  EXPECT_THAT(s.message(), HasSubstr("c: expected {file: PATH} or {env: VARIABLE}"));
  EXPECT_THAT(s.message(), Not(HasSubstr("plain")));
}

TEST(ReaderTest, InlineSecretsOnlyWhereAllowedAndThenNamed) {
  Reader root = Parse("db:\n  password: hunter2\n  token: {env: GRANARY_SURELY_UNSET_VARIABLE}\n");
  root.AllowInlineSecrets();
  Reader db = root.Section("db");
  EXPECT_EQ(db.SecretValue("password").value(), "hunter2");
  EXPECT_EQ(db.SecretValue("password").source(), "inline:db.password");
  db.SecretValue("token");
  EXPECT_THAT(root.InlineSecrets(), ElementsAre("db.password", "db.password"));
  // A reference that cannot be read is still an error.
  EXPECT_THAT(root.Finish().message(), HasSubstr("db.token: environment variable"));
}

TEST(ReaderTest, UnreadableSecretIsAnError) {
  Reader root = Parse("a: {file: /nonexistent/pw}\nb: {env: GRANARY_SURELY_UNSET_VARIABLE}\n");
  root.SecretValue("a");
  root.SecretValue("b");
  absl::Status s = root.Finish();
  EXPECT_THAT(s.message(), HasSubstr("a: cannot read secret file /nonexistent/pw"));
  EXPECT_THAT(s.message(), HasSubstr("b: environment variable GRANARY_SURELY_UNSET_VARIABLE"));
}

TEST(ReaderTest, AddErrorForCrossKeyChecks) {
  Reader root = Parse("tls:\n  cert: x\n");
  Reader tls = root.Section("tls");
  tls.String("cert", "");
  tls.AddError("key", "required when cert is set");
  EXPECT_THAT(root.Finish().message(), HasSubstr("tls.key: required when cert is set"));
}

}  // namespace
}  // namespace granary::config

namespace granary::config {
namespace {

TEST(ReaderListTest, ReadsListsOfMappingsWithPathsAndLines) {
  absl::StatusOr<Reader> root = Reader::FromString(R"(entities:
  - name: driver
    join_key: driver_id
  - name: customer
    join_kye: customer_id
  - just a string
)",
                                                   "repo.yaml");
  ASSERT_TRUE(root.ok());
  std::vector<Reader> items = root->List("entities");
  ASSERT_EQ(items.size(), 2u);
  EXPECT_EQ(items[0].String("name", ""), "driver");
  EXPECT_EQ(items[0].String("join_key", ""), "driver_id");
  EXPECT_EQ(items[0].line(), 2);
  EXPECT_EQ(items[1].Line("name"), 4);
  EXPECT_EQ(items[1].Path("name"), "entities[1].name");
  EXPECT_EQ(items[1].String("name", ""), "customer");
  items[1].String("join_key", "");
  absl::Status s = root->Finish();
  EXPECT_THAT(s.message(), ::testing::HasSubstr("repo.yaml:5: entities[1].join_kye: unknown key"));
  EXPECT_THAT(s.message(), ::testing::HasSubstr(
                               "repo.yaml:6: entities[2]: expected a mapping of keys to values"));
}

TEST(ReaderListTest, NestedListsAndNotAList) {
  absl::StatusOr<Reader> root = Reader::FromString(
      "views:\n  - name: v\n    schema:\n      - {name: a, dtype: INT64}\n      - {name: b, "
      "dtyp: FLOAT}\nother: {a: 1}\n",
      "r.yaml");
  ASSERT_TRUE(root.ok());
  std::vector<Reader> views = root->List("views");
  ASSERT_EQ(views.size(), 1u);
  views[0].String("name", "");
  std::vector<Reader> schema = views[0].List("schema");
  ASSERT_EQ(schema.size(), 2u);
  for (Reader& f : schema) {
    f.String("name", "");
    f.String("dtype", "");
  }
  root->List("other");
  absl::Status s = root->Finish();
  EXPECT_THAT(s.message(), ::testing::HasSubstr("r.yaml:5: views[0].schema[1].dtyp: unknown key"));
  EXPECT_THAT(s.message(), ::testing::HasSubstr("other: expected a list"));
}

}  // namespace
}  // namespace granary::config
