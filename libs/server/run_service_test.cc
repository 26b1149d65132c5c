// RunService as a real process: flags, config validation, SIGTERM drain.
#include <fstream>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include <sys/wait.h>

#include "libs/testing/grpc_probes.h"
#include "libs/testing/ports.h"
#include "libs/testing/status_matchers.h"
#include "libs/testing/subprocess.h"

namespace granary::server {
namespace {

using ::granary::testing::PickFreePort;
using ::granary::testing::Subprocess;
using ::granary::testing::WaitForHealth;
using ::grpc::health::v1::HealthCheckResponse;
using ::testing::HasSubstr;

constexpr char kBinary[] = "libs/server/echo_server_for_test";

std::string WriteConfig(const std::string& name, const std::string& yaml) {
  std::string path = absl::StrCat(std::getenv("TEST_TMPDIR"), "/", name);
  std::ofstream(path) << yaml;
  return path;
}

int ExitCode(Subprocess& p) {
  absl::StatusOr<int> status = p.Wait(absl::Seconds(30));
  return status.ok() && WIFEXITED(*status) ? WEXITSTATUS(*status) : -1;
}

TEST(RunServiceTest, VersionAndHelp) {
  ASSERT_OK_AND_ASSIGN(auto version, Subprocess::Start({.argv = {kBinary, "--version"}}));
  EXPECT_EQ(ExitCode(*version), 0);
  EXPECT_THAT(version->RecentOutput(), HasSubstr("granary-echo 0."));
  ASSERT_OK_AND_ASSIGN(auto help, Subprocess::Start({.argv = {kBinary, "--help"}}));
  EXPECT_EQ(ExitCode(*help), 0);
  EXPECT_THAT(help->RecentOutput(), HasSubstr("--config FILE"));
}

TEST(RunServiceTest, UnknownArgumentExitsWithUsageError) {
  ASSERT_OK_AND_ASSIGN(auto p, Subprocess::Start({.argv = {kBinary, "--frobnicate"}}));
  EXPECT_EQ(ExitCode(*p), 2);
  EXPECT_THAT(p->RecentOutput(), HasSubstr("unknown argument \"--frobnicate\""));
}

TEST(RunServiceTest, BadConfigExitsNamingEveryKey) {
  std::string path = WriteConfig("bad.yaml",
                                 "server:\n  grpc_address: nowhere\n  drain_timout: 5s\n"
                                 "echo:\n  healthy_file: [1, 2]\n");
  ASSERT_OK_AND_ASSIGN(auto p, Subprocess::Start({.argv = {kBinary, "--config", path}}));
  EXPECT_EQ(ExitCode(*p), 2);
  std::string out = p->RecentOutput();
  EXPECT_THAT(out, HasSubstr("bad.yaml:2: server.grpc_address: expected host:port"));
  EXPECT_THAT(out, HasSubstr("bad.yaml:3: server.drain_timout: unknown key"));
  EXPECT_THAT(out, HasSubstr("bad.yaml:5: echo.healthy_file: expected a single value"));
}

TEST(RunServiceTest, CheckConfigAcceptsAGoodFile) {
  std::string path = WriteConfig("good.yaml", "server:\n  log_level: debug\n");
  ASSERT_OK_AND_ASSIGN(auto p,
                       Subprocess::Start({.argv = {kBinary, "--config", path, "--check-config"}}));
  EXPECT_EQ(ExitCode(*p), 0);
  EXPECT_THAT(p->RecentOutput(), HasSubstr("configuration OK"));
}

TEST(RunServiceTest, ServesThenDrainsOnSigterm) {
  ASSERT_OK_AND_ASSIGN(int port, PickFreePort());
  std::string path =
      WriteConfig("serve.yaml", absl::StrCat("server:\n  grpc_address: 127.0.0.1:", port,
                                             "\n  metrics_address: 127.0.0.1:0\n"
                                             "  malloc_arenas: 3\n"));
  ASSERT_OK_AND_ASSIGN(auto p, Subprocess::Start({.argv = {kBinary, "--config", path}}));
  ASSERT_OK(p->WaitForOutput("msg=started", absl::Seconds(30)));
  EXPECT_THAT(p->RecentOutput(), HasSubstr("malloc_arenas=3"));
  auto channel =
      grpc::CreateChannel(absl::StrCat("127.0.0.1:", port), grpc::InsecureChannelCredentials());
  ASSERT_OK(WaitForHealth(channel, "", HealthCheckResponse::SERVING, absl::Seconds(10)));

  kill(p->pid(), SIGTERM);
  EXPECT_EQ(ExitCode(*p), 0);
  std::string out = p->RecentOutput();
  EXPECT_THAT(out, HasSubstr("service=echo msg=\"signal received\""));
  EXPECT_THAT(out, HasSubstr("msg=draining"));
  EXPECT_THAT(out, HasSubstr("msg=stopped"));
}

}  // namespace
}  // namespace granary::server
