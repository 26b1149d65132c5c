#include "tools/cli/status_command.h"

#include <atomic>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"

#include "libs/server/echo_service_fixture.h"
#include "libs/testing/ports.h"
#include "libs/testing/status_matchers.h"

namespace granary::cli {
namespace {

using ::testing::ContainsRegex;
using ::testing::SizeIs;

class StatusCommandTest : public ::testing::Test {
 protected:
  void SetUp() override {
    for (int i = 0; i < 5; ++i) {
      ASSERT_OK_AND_ASSIGN(auto rt,
                           server::StartInProcess(server::EchoDefinition(&healthy_[i]), ""));
      runtimes_.push_back(std::move(rt));
    }
    auto addr = [this](int i) { return absl::StrCat("127.0.0.1:", runtimes_[i]->grpc_port()); };
    endpoints_ = {addr(0), addr(1), addr(2), addr(3), addr(4)};
  }

  std::atomic<bool> healthy_[5] = {true, true, true, true, true};
  std::vector<std::unique_ptr<server::ServiceRuntime>> runtimes_;
  Endpoints endpoints_;
};

TEST_F(StatusCommandTest, AllServingExitsZeroWithOneLineEach) {
  std::ostringstream out;
  EXPECT_EQ(RunStatus(endpoints_, {}, out), 0);
  std::vector<std::string> lines = absl::StrSplit(out.str(), '\n', absl::SkipEmpty());
  ASSERT_THAT(lines, SizeIs(5));
  EXPECT_THAT(lines[0], ContainsRegex("^gateway +127.0.0.1:[0-9]+ +SERVING +[0-9.]+ ms$"));
  EXPECT_THAT(lines[4], ContainsRegex("^materializer +127.0.0.1:[0-9]+ +SERVING"));
}

TEST_F(StatusCommandTest, ServicesThroughTheGatewayShowItsHealth) {
  const std::string gateway = endpoints_.gateway;
  Endpoints through{gateway, gateway, gateway, gateway, gateway};
  std::ostringstream out;
  EXPECT_EQ(RunStatus(through, {}, out), 0);
  std::vector<std::string> lines = absl::StrSplit(out.str(), '\n', absl::SkipEmpty());
  ASSERT_THAT(lines, SizeIs(5));
  EXPECT_THAT(lines[2], ContainsRegex("^serving +" + gateway + " +SERVING"));
}

TEST_F(StatusCommandTest, NotServingOrUnreachableExitsOne) {
  // Health is known when a runtime starts: this one answers NOT_SERVING from the first call.
  std::atomic<bool> down{false};
  ASSERT_OK_AND_ASSIGN(auto rt, server::StartInProcess(server::EchoDefinition(&down), ""));
  endpoints_.ingestion = absl::StrCat("127.0.0.1:", rt->grpc_port());
  ASSERT_OK_AND_ASSIGN(int nobody, testing::PickFreePort());  // free: nothing listens there
  endpoints_.serving = absl::StrCat("127.0.0.1:", nobody);
  std::ostringstream out;
  EXPECT_EQ(RunStatus(endpoints_, {.timeout = absl::Seconds(2)}, out), 1);
  EXPECT_THAT(out.str(),
              ContainsRegex(absl::StrCat("\nserving +127.0.0.1:", nobody, " +UNREACHABLE ")));
  EXPECT_THAT(out.str(), ContainsRegex("\ningestion +127.0.0.1:[0-9]+ +NOT_SERVING "));
}

TEST_F(StatusCommandTest, JsonForScripts) {
  std::atomic<bool> unhealthy{false};
  ASSERT_OK_AND_ASSIGN(auto down, server::StartInProcess(server::EchoDefinition(&unhealthy), ""));
  endpoints_.materializer = absl::StrCat("127.0.0.1:", down->grpc_port());
  std::ostringstream out;
  EXPECT_EQ(RunStatus(endpoints_, {.json = true}, out), 1);
  nlohmann::json report = nlohmann::json::parse(out.str());
  ASSERT_EQ(report.size(), 5u);
  EXPECT_EQ(report[0]["service"], "gateway");
  EXPECT_EQ(report[0]["status"], "SERVING");
  EXPECT_EQ(report[4]["service"], "materializer");
  EXPECT_EQ(report[4]["status"], "NOT_SERVING");
}

TEST_F(StatusCommandTest, HealthOfOneProcessForContainerChecks) {
  std::ostringstream serving;
  EXPECT_EQ(RunHealth(endpoints_.serving, absl::Seconds(2), serving), 0);
  EXPECT_EQ(serving.str(), "SERVING\n");

  std::atomic<bool> down{false};
  ASSERT_OK_AND_ASSIGN(auto rt, server::StartInProcess(server::EchoDefinition(&down), ""));
  std::ostringstream not_serving;
  EXPECT_EQ(RunHealth(absl::StrCat("127.0.0.1:", rt->grpc_port()), absl::Seconds(2), not_serving),
            1);
  EXPECT_EQ(not_serving.str(), "NOT_SERVING\n");

  ASSERT_OK_AND_ASSIGN(int nobody, testing::PickFreePort());
  std::ostringstream unreachable;
  EXPECT_EQ(RunHealth(absl::StrCat("127.0.0.1:", nobody), absl::Seconds(2), unreachable), 1);
  EXPECT_THAT(unreachable.str(), ContainsRegex("^UNREACHABLE: "));
}

}  // namespace
}  // namespace granary::cli
