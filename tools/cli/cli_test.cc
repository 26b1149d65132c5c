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
  Result to = Granary({"push", "--push-source", "s", "--file", "rows.csv", "--to", "redis"});
  EXPECT_EQ(to.exit_code, 2);
  EXPECT_THAT(to.output, HasSubstr("--to: expected online, offline or online_and_offline"));
}

TEST(CliTest, PushHelpExplainsNowInTimestamps) {
  Result r = Granary({"push", "--help"});
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_THAT(r.output, HasSubstr("--batch-rows"));
  EXPECT_THAT(r.output, HasSubstr("now-5m"));
}

}  // namespace
}  // namespace granary::cli
