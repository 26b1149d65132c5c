// deploy.yaml as `granary init` writes it and `granary verify` reads it: the local stack's
// ports and secret files go in, each service's sections read back with the services' own
// readers; a secret written in clear is named by verify and never printed; backends that do
// not answer fail with a line that says which credential and why.
#include "tools/cli/deploy_config.h"

#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

#include "libs/testing/ports.h"
#include "libs/testing/status_matchers.h"
#include "libs/testing/temp_dir.h"
#include "libs/trace/test_receiver.h"
#include "tools/cli/verify_command.h"
#include "tools/cli/verify_tracing.h"

namespace granary::cli {
namespace {

using ::granary::testing::StatusIs;
using ::testing::HasSubstr;
using ::testing::Not;

constexpr const char* kSecrets[] = {
    "pg-registry",   "pg-offline-reader", "pg-offline-writer", "redis-serving",     "redis-writer",
    "nats-registry", "nats-serving",      "nats-ingestion",    "nats-materializer", "nats-gateway"};

class DeployConfigTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_OK_AND_ASSIGN(testing::TempDir dir, testing::TempDir::Create("deploy"));
    dir_ = std::make_unique<testing::TempDir>(std::move(dir));
    stack_ = dir_->path() + "/.granary";
    std::filesystem::create_directories(stack_ + "/secrets");
    std::ofstream(stack_ + "/ports.env")
        << "REDIS_PORT=" << Port() << "\nPOSTGRES_PORT=" << Port() << "\nNATS_PORT=" << Port()
        << "\nGATEWAY_PORT=7001\nGATEWAY_HTTP_PORT=7002\n";
    for (const char* name : kSecrets) {
      std::ofstream(absl::StrCat(stack_, "/secrets/", name)) << "pw-" << name << "\n";
    }
    std::ofstream(stack_ + "/jwt.secret") << std::string(64, 'a') << "\n";
  }
  // A loopback port nothing listens on: the backends of these tests do not answer.
  int Port() {
    absl::StatusOr<int> port = testing::PickFreePort();
    EXPECT_OK(port);
    return port.ok() ? *port : 1;
  }
  std::string Write(const std::string& name, const std::string& text) {
    std::string path = absl::StrCat(dir_->path(), "/", name);
    std::ofstream(path) << text;
    return path;
  }

  std::unique_ptr<testing::TempDir> dir_;
  std::string stack_;
};

TEST_F(DeployConfigTest, TheLocalStacksFileReadsBackWithEveryCredential) {
  ASSERT_OK_AND_ASSIGN(DeployConfig c,
                       ReadDeployConfig(Write("deploy.yaml", DeployYamlFor(stack_))));
  EXPECT_EQ(c.target, "local");
  EXPECT_EQ(c.gateway_endpoint, "127.0.0.1:7001");
  EXPECT_EQ(c.http_endpoint, "127.0.0.1:7002");
  ASSERT_TRUE(c.serving_redis && c.materializer_redis);
  EXPECT_EQ(c.serving_redis->user, "granary-serving");
  EXPECT_EQ(c.serving_redis->password.value(), "pw-redis-serving");
  EXPECT_EQ(c.materializer_redis->user, "granary-writer");
  ASSERT_TRUE(c.registry_postgres && c.offline_reader && c.offline_writer);
  EXPECT_EQ(c.registry_postgres->user, "granary_registry");
  EXPECT_EQ(c.offline_reader->user, "granary_offline_reader");
  EXPECT_EQ(c.offline_writer->password.value(), "pw-pg-offline-writer");
  ASSERT_EQ(c.nats.size(), 5u);
  EXPECT_EQ(c.nats["ingestion"].user, "granary-ingestion");
  EXPECT_EQ(c.nats["gateway"].password.value(), "pw-nats-gateway");
  ASSERT_TRUE(c.gateway_auth);
  EXPECT_EQ(c.gateway_auth->type, "jwt");
  EXPECT_EQ(c.gateway_auth->hs256_secret.value(), std::string(64, 'a'));
  EXPECT_TRUE(c.inline_secrets.empty());
  EXPECT_TRUE(c.replicas.empty());  // left to the target
}

TEST_F(DeployConfigTest, TheTemplateNamesTheSecretFilesItNeeds) {
  // Without a local stack the file is a template: its secret files do not exist yet, and
  // reading it says which.
  EXPECT_THAT(ReadDeployConfig(Write("template.yaml", DeployYamlFor(""))),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("cannot read secret file secrets/pg-registry")));
}

TEST_F(DeployConfigTest, UnknownKeysAndTargetsAreRefused) {
  std::string text =
      absl::StrReplaceAll(DeployYamlFor(stack_), {{"target: local", "target: mars"}});
  text += "replica: {serving: 2}\n";
  absl::StatusOr<DeployConfig> c = ReadDeployConfig(Write("bad.yaml", text));
  EXPECT_THAT(c, StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("target: expected local")));
  EXPECT_THAT(c.status().message(), HasSubstr("replica"));
}

TEST_F(DeployConfigTest, VerifyNamesASecretInClearAndFailsOnBackendsThatDoNotAnswer) {
  std::string text = absl::StrReplaceAll(
      DeployYamlFor(stack_), {{absl::StrCat("user: granary-serving, password: {file: '", stack_,
                                            "/secrets/redis-serving'}"),
                               "user: granary-serving, password: hunter2-in-clear"}});
  ASSERT_OK_AND_ASSIGN(DeployConfig c, ReadDeployConfig(Write("clear.yaml", text)));
  EXPECT_THAT(c.inline_secrets, ::testing::Contains("services.serving.redis.password"));
  VerifyReport report = Verify(c);
  std::ostringstream out;
  report.Print(out);
  EXPECT_TRUE(report.failed());
  EXPECT_THAT(out.str(),
              HasSubstr("WARN  secrets   services.serving.redis.password is written in clear"));
  EXPECT_THAT(out.str(), Not(HasSubstr("hunter2")));
  EXPECT_THAT(out.str(), Not(HasSubstr("pw-")));
  EXPECT_THAT(out.str(), HasSubstr("FAIL  redis     serving's user granary-serving cannot log in"));
  EXPECT_THAT(out.str(),
              HasSubstr("FAIL  postgres  the offline reader granary_offline_reader cannot log in"));
  EXPECT_THAT(out.str(),
              HasSubstr("FAIL  nats      ingestion's user granary-ingestion cannot log in"));
  EXPECT_THAT(out.str(), HasSubstr("PASS  auth      the HS256 secret is readable and long enough"));
  EXPECT_THAT(out.str(), HasSubstr("fix: check the address, the user and its password"));
}

TEST_F(DeployConfigTest, TracingIsReadAndItsReceiverChecked) {
  trace::TestReceiver receiver;
  ASSERT_OK_AND_ASSIGN(
      DeployConfig c,
      ReadDeployConfig(
          Write("traced.yaml", absl::StrCat(DeployYamlFor(stack_), "tracing: {otlp_endpoint: '",
                                            receiver.address(), "', sample_ratio: 0.25}\n"))));
  ASSERT_TRUE(c.tracing.has_value());
  EXPECT_EQ(c.tracing->otlp_endpoint, receiver.address());
  EXPECT_EQ(c.tracing->sample_ratio, 0.25);
  VerifyReport report;
  VerifyTracing(*c.tracing, &report);
  ASSERT_EQ(report.lines().size(), 1u);
  EXPECT_EQ(report.lines()[0].result, VerifyReport::Result::kPass) << report.lines()[0].what;
  EXPECT_THAT(report.lines()[0].what, HasSubstr("takes spans; 25% of the traces"));
  EXPECT_EQ(receiver.calls(), 1) << "one empty export, and nothing recorded";
  EXPECT_TRUE(receiver.Spans().empty());

  // Nothing listens there.
  c.tracing->otlp_endpoint = absl::StrCat("127.0.0.1:", Port());
  VerifyReport unreachable;
  VerifyTracing(*c.tracing, &unreachable);
  ASSERT_EQ(unreachable.lines().size(), 1u);
  EXPECT_EQ(unreachable.lines()[0].result, VerifyReport::Result::kFail);
  EXPECT_THAT(unreachable.lines()[0].what, HasSubstr("did not take an export"));
  EXPECT_THAT(unreachable.lines()[0].fix, HasSubstr("4317"));

  // A refusing receiver (wrong protocol or port) fails too.
  receiver.Refuse(true);
  c.tracing->otlp_endpoint = receiver.address();
  VerifyReport refused;
  VerifyTracing(*c.tracing, &refused);
  ASSERT_EQ(refused.lines().size(), 1u);
  EXPECT_EQ(refused.lines()[0].result, VerifyReport::Result::kFail);

  EXPECT_THAT(
      ReadDeployConfig(Write("bad-tracing.yaml",
                             absl::StrCat(DeployYamlFor(stack_), "tracing: {sample_ratio: 3}\n"))),
      StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("tracing.sample_ratio")));
}

}  // namespace
}  // namespace granary::cli
