#include "libs/server/server_config.h"

#include <cstdlib>
#include <fstream>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

#include "libs/testing/status_matchers.h"

namespace granary::server {
namespace {

using ::granary::testing::StatusIs;
using ::testing::AllOf;
using ::testing::HasSubstr;
using ::testing::Not;

constexpr char kSecret[] = "0123456789abcdef0123456789abcdef";

// Reads `server:` from the YAML; the problems Finish reports, if any.
absl::Status Read(const std::string& yaml, ServerConfig* out = nullptr) {
  absl::StatusOr<config::Reader> root = config::Reader::FromString(yaml, "test.yaml");
  if (!root.ok()) return root.status();
  ServerConfig c = ReadServerConfig(root->Section("server"), {"127.0.0.1:0", "127.0.0.1:0"});
  if (out != nullptr) *out = c;
  return root->Finish();
}

std::string SecretFile(absl::string_view contents) {
  std::string path = absl::StrCat(std::getenv("TEST_TMPDIR"), "/secret-",
                                  ::testing::UnitTest::GetInstance()->current_test_info()->name());
  std::ofstream(path) << contents << "\n";
  return path;
}

TEST(ServerConfigTest, TracingExportsNothingUntilAnEndpointIsGiven) {
  ServerConfig c;
  ASSERT_OK(Read("server: {}", &c));
  EXPECT_EQ(c.tracing.otlp_endpoint, "");
  EXPECT_EQ(c.tracing.sample_ratio, 1.0);
  ASSERT_OK(
      Read("server: {tracing: {otlp_endpoint: 'otel:4317', sample_ratio: 0.1, "
           "export_interval: 1s, max_batch: 100, max_queue: 1000, otlp_tls: true}}",
           &c));
  EXPECT_EQ(c.tracing.otlp_endpoint, "otel:4317");
  EXPECT_EQ(c.tracing.sample_ratio, 0.1);
  EXPECT_EQ(c.tracing.export_interval, absl::Seconds(1));
  EXPECT_EQ(c.tracing.max_batch, 100);
  EXPECT_EQ(c.tracing.max_queue, 1000);
  EXPECT_TRUE(c.tracing.otlp_tls);
}

TEST(ServerConfigTest, BadTracingSettingsAreNamed) {
  EXPECT_THAT(Read("server: {tracing: {otlp_endpoint: otel}}"),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("otlp_endpoint")));
  EXPECT_THAT(Read("server: {tracing: {sample_ratio: 2}}"),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("sample_ratio")));
  EXPECT_THAT(Read("server: {tracing: {max_batch: 100, max_queue: 10}}"),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("max_queue")));
  EXPECT_THAT(Read("server: {tracing: {exporter: zipkin}}"),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("exporter")));
}

TEST(ServerConfigTest, TheGatewaySignatureIsNotRequiredByDefault) {
  ServerConfig c;
  ASSERT_OK(Read("", &c));
  EXPECT_FALSE(c.gateway_signature.required);
  EXPECT_TRUE(c.gateway_signature.secret.empty());
  EXPECT_EQ(c.gateway_signature.leeway, absl::Seconds(5));
}

TEST(ServerConfigTest, ARequiredSignatureReadsItsSecretFromAFile) {
  std::string file = SecretFile(kSecret);
  ServerConfig c;
  ASSERT_OK(Read(absl::StrCat("server: {gateway_signature: {required: true, secret_file: '", file,
                              "', leeway: 2s}}"),
                 &c));
  EXPECT_TRUE(c.gateway_signature.required);
  EXPECT_EQ(c.gateway_signature.secret.value(), kSecret);
  EXPECT_EQ(c.gateway_signature.secret.source(), absl::StrCat("file:", file));
  EXPECT_EQ(c.gateway_signature.leeway, absl::Seconds(2));
}

TEST(ServerConfigTest, OrFromAnEnvironmentVariable) {
  setenv("GRANARY_TEST_GATEWAY_SECRET", kSecret, 1);
  ServerConfig c;
  ASSERT_OK(
      Read("server: {gateway_signature: {required: true, "
           "secret_env: GRANARY_TEST_GATEWAY_SECRET}}",
           &c));
  EXPECT_EQ(c.gateway_signature.secret.value(), kSecret);
}

TEST(ServerConfigTest, ARequiredSignatureWithoutASecretNamesTheKey) {
  EXPECT_THAT(Read("server: {gateway_signature: {required: true}}"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("server.gateway_signature.secret_file: required")));
}

TEST(ServerConfigTest, ExactlyOneSourceOfTheSecret) {
  setenv("GRANARY_TEST_GATEWAY_SECRET", kSecret, 1);
  EXPECT_THAT(Read(absl::StrCat("server: {gateway_signature: {secret_file: '", SecretFile(kSecret),
                                "', secret_env: GRANARY_TEST_GATEWAY_SECRET}}")),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("server.gateway_signature.secret_env: set secret_file or "
                                 "secret_env, not both")));
}

TEST(ServerConfigTest, AMissingOrShortSecretIsAnErrorNamingTheKey) {
  EXPECT_THAT(Read("server: {gateway_signature: {required: true, secret_file: /nonexistent/x}}"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("server.gateway_signature.secret_file: cannot read")));
  unsetenv("GRANARY_TEST_UNSET");
  EXPECT_THAT(Read("server: {gateway_signature: {required: true, secret_env: GRANARY_TEST_UNSET}}"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("server.gateway_signature.secret_env: environment variable")));
  absl::Status shorter = Read(absl::StrCat(
      "server: {gateway_signature: {required: true, secret_file: '", SecretFile("short"), "'}}"));
  EXPECT_THAT(shorter, StatusIs(absl::StatusCode::kInvalidArgument,
                                AllOf(HasSubstr("server.gateway_signature.secret_file"),
                                      HasSubstr("at least 32"))));
  // The secret itself never appears in a message.
  EXPECT_THAT(shorter.message(), Not(HasSubstr("short\n")));
}

TEST(ServerConfigTest, TheSecretIsNeverWrittenInline) {
  EXPECT_THAT(
      Read(absl::StrCat("server: {gateway_signature: {required: true, secret: '", kSecret, "'}}")),
      StatusIs(absl::StatusCode::kInvalidArgument,
               AllOf(HasSubstr("server.gateway_signature.secret"), Not(HasSubstr(kSecret)))));
}

TEST(ServerConfigTest, TheLeewayIsBounded) {
  EXPECT_THAT(
      Read("server: {gateway_signature: {leeway: 1h}}"),
      StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("server.gateway_signature.leeway")));
}

}  // namespace
}  // namespace granary::server
