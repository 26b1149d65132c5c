// The granary binary itself: help, version, and exit code 2 for every kind of bad usage.
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include <sys/wait.h>

#include "libs/testing/status_matchers.h"
#include "libs/testing/subprocess.h"

namespace granary::cli {
namespace {

using ::granary::testing::Subprocess;
using ::testing::HasSubstr;

struct Result {
  int exit_code;
  std::string output;
};

Result Granary(std::vector<std::string> args) {
  args.insert(args.begin(), "tools/cli/granary");
  auto p = Subprocess::Start({.argv = args});
  if (!p.ok()) return {-1, std::string(p.status().message())};
  absl::StatusOr<int> status = (*p)->Wait(absl::Seconds(30));
  int code = status.ok() && WIFEXITED(*status) ? WEXITSTATUS(*status) : -1;
  return {code, (*p)->Output()};
}

TEST(CliTest, HelpListsTheCommands) {
  Result r = Granary({"--help"});
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_THAT(r.output, HasSubstr("status"));
  EXPECT_THAT(r.output, HasSubstr("version"));
}

TEST(CliTest, Version) {
  Result r = Granary({"version"});
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_THAT(r.output, HasSubstr("granary 0."));
}

TEST(CliTest, BadUsageExitsTwo) {
  EXPECT_EQ(Granary({}).exit_code, 2);
  EXPECT_EQ(Granary({"frobnicate"}).exit_code, 2);
  EXPECT_EQ(Granary({"status", "--no-such-flag"}).exit_code, 2);
  Result timeout = Granary({"status", "--timeout", "soon"});
  EXPECT_EQ(timeout.exit_code, 2);
  EXPECT_THAT(timeout.output, HasSubstr("--timeout"));
  Result endpoints = Granary({"status", "--endpoints", "/nonexistent/endpoints.yaml"});
  EXPECT_EQ(endpoints.exit_code, 2);
  EXPECT_THAT(endpoints.output, HasSubstr("/nonexistent/endpoints.yaml"));
  EXPECT_EQ(Granary({"push", "--file", "rows.csv"}).exit_code, 2);  // no --push-source
  // The global flags follow any verb.
  Result global = Granary({"status", "--token", "t", "--gateway", "1.2.3.4:5", "--timeout", "x"});
  EXPECT_EQ(global.exit_code, 2);
  EXPECT_THAT(global.output, HasSubstr("--timeout"));
  EXPECT_EQ(Granary({"token", "--roles", "reader"}).exit_code, 2);  // no --user
  Result ttl = Granary({"token", "--user", "ana", "--ttl", "soon"});
  EXPECT_EQ(ttl.exit_code, 2);
  EXPECT_THAT(ttl.output, HasSubstr("--ttl"));
  Result to = Granary({"push", "--push-source", "s", "--file", "rows.csv", "--to", "redis"});
  EXPECT_EQ(to.exit_code, 2);
  EXPECT_THAT(to.output, HasSubstr("--to: expected online, offline or online_and_offline"));
}

TEST(CliTest, TokenWithoutASecretFailsNamingIt) {
  Result r = Granary({"token", "--user", "ana", "--secret-file", "/nonexistent/jwt.secret"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.output, HasSubstr("/nonexistent/jwt.secret"));
}

TEST(CliTest, PushHelpExplainsNowInTimestamps) {
  Result r = Granary({"push", "--help"});
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_THAT(r.output, HasSubstr("--batch-rows"));
  EXPECT_THAT(r.output, HasSubstr("now-5m"));
}

}  // namespace
}  // namespace granary::cli
