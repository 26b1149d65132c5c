// The granary binary against a real registry (in-process, with PostgreSQL and NATS) and the
// example repository: apply prints the diff and a version, a second apply reports no changes,
// plan on an edited repo shows field-level changes and flags breaking ones, list and describe
// show what was applied, a broken repo exits non-zero listing every problem with nothing
// written, and history, registry-dump, delete and --json work.
#include <filesystem>
#include <fstream>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include <sys/wait.h>

#include "libs/testing/nats_server.h"
#include "libs/testing/postgres_server.h"
#include "libs/testing/status_matchers.h"
#include "libs/testing/subprocess.h"
#include "libs/testing/temp_dir.h"
#include "services/registry/registry_service.h"

namespace granary {
namespace {

using ::testing::AllOf;
using ::testing::HasSubstr;
using ::testing::Not;
namespace fs = std::filesystem;

struct CliRun {
  int code;
  std::string output;
};

class CliRegistryTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    auto pg = testing::PostgresServer::Start();
    auto nats = testing::NatsServer::Start();
    ASSERT_OK(pg);
    ASSERT_OK(nats);
    pg_ = pg->release();
    nats_ = nats->release();
    ASSERT_OK(pg_->CreateDatabase("granary"));
    auto rt = server::StartInProcess(
        registry::Definition(),
        absl::StrCat("postgres: {address: 127.0.0.1:", pg_->port(),
                     ", user: postgres, database: granary, sslmode: disable}\n", "nats: {url: '",
                     nats_->url(), "'}\n"));
    ASSERT_OK(rt);
    registry_ = rt->release();
  }
  static void TearDownTestSuite() {
    delete registry_;
    delete nats_;
    delete pg_;
  }

  void SetUp() override {
    ASSERT_OK_AND_ASSIGN(dir_, testing::TempDir::Create("cli"));
    // The example, pointed at this test's registry (instead of the gateway, straight to the
    // registry, which requires no gateway signature here).
    for (const auto& entry : fs::directory_iterator("examples/driver_stats")) {
      if (entry.path().extension() == ".yaml") fs::copy(entry.path(), dir_.path());
    }
    Edit("granary.yaml", "127.0.0.1:6565", absl::StrCat("127.0.0.1:", registry_->grpc_port()));
  }

  void Edit(const std::string& file, const std::string& from, const std::string& to) {
    std::string path = dir_.path() + "/" + file;
    std::stringstream text;
    text << std::ifstream(path).rdbuf();
    std::string edited = absl::StrReplaceAll(text.str(), {{from, to}});
    ASSERT_NE(edited, text.str()) << "nothing to edit in " << file;
    std::ofstream(path) << edited;
  }

  CliRun Granary(std::vector<std::string> args) {
    args.insert(args.begin(), fs::absolute("tools/cli/granary").string());
    auto p = testing::Subprocess::Start(
        {.argv = args, .env = {"USER=tester"}, .working_dir = dir_.path()});
    if (!p.ok()) return {-1, std::string(p.status().message())};
    absl::StatusOr<int> status = (*p)->Wait(absl::Seconds(60));
    int code = status.ok() && WIFEXITED(*status) ? WEXITSTATUS(*status) : -1;
    return {code, (*p)->Output()};
  }

  static testing::PostgresServer* pg_;
  static testing::NatsServer* nats_;
  static server::ServiceRuntime* registry_;
  testing::TempDir dir_ = std::move(testing::TempDir::Create("unused").value());
};

testing::PostgresServer* CliRegistryTest::pg_ = nullptr;
testing::NatsServer* CliRegistryTest::nats_ = nullptr;
server::ServiceRuntime* CliRegistryTest::registry_ = nullptr;

TEST_F(CliRegistryTest, TheAdminWorkflow) {
  CliRun apply = Granary({"apply"});
  ASSERT_EQ(apply.code, 0) << apply.output;
  EXPECT_THAT(apply.output, AllOf(HasSubstr("+ feature_view driver_hourly_stats"),
                                  HasSubstr("+ feature_service driver_activity"),
                                  HasSubstr("Project driver_stats is now at version 1")));

  CliRun again = Granary({"apply"});
  ASSERT_EQ(again.code, 0) << again.output;
  EXPECT_THAT(again.output, HasSubstr("No changes: project driver_stats is at version 1"));

  Edit("driver_stats.yaml", "{name: conv_rate, dtype: FLOAT", "{name: conv_rate, dtype: DOUBLE");
  Edit("driver_stats.yaml", "ttl: 1d", "ttl: 12h");
  CliRun plan = Granary({"plan"});
  ASSERT_EQ(plan.code, 0) << plan.output;
  EXPECT_THAT(plan.output,
              AllOf(HasSubstr("~ feature_view driver_hourly_stats   [breaking]"),
                    HasSubstr("schema[conv_rate].dtype: FLOAT -> DOUBLE   [breaking]"),
                    HasSubstr("ttl: 24h -> 12h"),
                    HasSubstr("! feature service driver_activity uses driver_hourly_stats:"
                              "conv_rate"),
                    HasSubstr("apply needs --allow-breaking")));

  CliRun refused = Granary({"apply"});
  EXPECT_EQ(refused.code, 1);
  EXPECT_THAT(refused.output, HasSubstr("nothing applied"));
  CliRun forced = Granary({"apply", "--allow-breaking", "-m", "conv_rate is a double now"});
  ASSERT_EQ(forced.code, 0) << forced.output;
  EXPECT_THAT(forced.output, HasSubstr("now at version 2"));

  CliRun list = Granary({"list", "feature-views"});
  ASSERT_EQ(list.code, 0) << list.output;
  EXPECT_THAT(list.output, ::testing::ContainsRegex("driver_hourly_stats +driver +3 +12h +yes"));
  CliRun tagged = Granary({"list", "feature-views", "--tags", "team=nobody"});
  EXPECT_THAT(tagged.output, Not(HasSubstr("driver_hourly_stats")));

  CliRun describe = Granary({"describe", "feature-view", "driver_hourly_stats"});
  ASSERT_EQ(describe.code, 0) << describe.output;
  EXPECT_THAT(describe.output, AllOf(HasSubstr("name: conv_rate\n    dtype: DOUBLE"),
                                     HasSubstr("updated_version: 2")));

  CliRun history = Granary({"history"});
  ASSERT_EQ(history.code, 0) << history.output;
  EXPECT_THAT(history.output,
              AllOf(::testing::ContainsRegex("2 +[-0-9T:.Z]+ +tester +0 to create, 1 to update"),
                    HasSubstr("conv_rate is a double now")));

  CliRun dump = Granary({"registry-dump"});
  ASSERT_EQ(dump.code, 0) << dump.output;
  nlohmann::json snapshot = nlohmann::json::parse(dump.output);
  EXPECT_EQ(snapshot["version"], "2");  // int64 is a string in proto JSON
  EXPECT_EQ(snapshot["repo"]["feature_views"][0]["name"], "driver_hourly_stats");

  CliRun json_list = Granary({"list", "entities", "--json"});
  ASSERT_EQ(json_list.code, 0) << json_list.output;
  EXPECT_EQ(nlohmann::json::parse(json_list.output)[0]["join_key"], "driver_id");
}

TEST_F(CliRegistryTest, ABrokenRepoListsEveryProblemAndWritesNothing) {
  ASSERT_EQ(Granary({"apply", "--project", "x"}).code, 2);  // not an apply flag
  Edit("driver_stats.yaml", "features: [conv_rate, acc_rate, avg_daily_trips]",
       "features: [conv_rate, speed]");
  Edit("driver_stats.yaml", "entities: [driver]", "entities: [rider]");
  Edit("granary.yaml", "project: driver_stats", "project: broken_example");
  CliRun apply = Granary({"apply"});
  EXPECT_EQ(apply.code, 1);
  EXPECT_THAT(apply.output,
              AllOf(HasSubstr("2 problems in the repo"),
                    HasSubstr("driver_stats.yaml:25: feature_views[driver_hourly_stats]."
                              "entities[0]: no entity named rider"),
                    HasSubstr("driver_stats.yaml:70: feature_services[driver_activity]."
                              "features[0].features[1]: driver_hourly_stats has no feature "
                              "\"speed\"")));
  // Nothing was written: the project does not exist.
  CliRun list = Granary({"list", "feature-views"});
  EXPECT_EQ(list.code, 1);
  EXPECT_THAT(list.output, HasSubstr("project broken_example not found"));
}

TEST_F(CliRegistryTest, DeleteAndUsageErrors) {
  Edit("granary.yaml", "project: driver_stats", "project: deletions");
  ASSERT_EQ(Granary({"apply"}).code, 0);
  CliRun referenced = Granary({"delete", "feature-view", "driver_hourly_stats"});
  EXPECT_EQ(referenced.code, 1);
  EXPECT_THAT(referenced.output, HasSubstr("other objects still use it"));
  CliRun service = Granary({"delete", "feature-service", "driver_activity", "--allow-breaking"});
  EXPECT_EQ(service.code, 0) << service.output;
  EXPECT_THAT(service.output, HasSubstr("- feature_service driver_activity"));
  EXPECT_EQ(Granary({"delete", "feature-service", "driver_ranking", "--allow-breaking"}).code, 0);
  // The on-demand view reads it too.
  EXPECT_EQ(Granary({"delete", "feature-view", "driver_hourly_stats"}).code, 1);
  EXPECT_EQ(Granary({"delete", "on-demand-feature-view", "transformed_conv_rate"}).code, 0);
  EXPECT_EQ(Granary({"delete", "feature-view", "driver_hourly_stats"}).code, 1);
  EXPECT_EQ(Granary({"delete", "on-demand-feature-view", "driver_rates"}).code, 0);
  EXPECT_EQ(Granary({"delete", "feature-view", "driver_hourly_stats"}).code, 0);
  EXPECT_EQ(Granary({"list", "views"}).code, 2);
  EXPECT_EQ(Granary({"describe", "entity", "nobody"}).code, 1);
  CliRun project = Granary({"delete", "project", "deletions"});
  EXPECT_EQ(project.code, 0) << project.output;
  // Projects are listed from anywhere: no repo needed.
  CliRun projects = Granary({"list", "projects", "--repo", "/nonexistent", "--endpoint",
                             absl::StrCat("127.0.0.1:", registry_->grpc_port())});
  EXPECT_EQ(projects.code, 0) << projects.output;
  EXPECT_THAT(projects.output, AllOf(HasSubstr("NAME"), Not(HasSubstr("deletions"))));
}

TEST_F(CliRegistryTest, InitScaffoldsARepoThatPlans) {
  CliRun init = Granary({"init", "fresh_repo"});
  ASSERT_EQ(init.code, 0) << init.output;
  CliRun refused = Granary({"init", "fresh_repo"});
  EXPECT_EQ(refused.code, 1);
  EXPECT_EQ(Granary({"init", "Not-A-Name"}).code, 1);
  CliRun plan = Granary({"plan", "--repo", "fresh_repo", "--endpoint",
                         absl::StrCat("127.0.0.1:", registry_->grpc_port())});
  ASSERT_EQ(plan.code, 0) << plan.output;
  EXPECT_THAT(plan.output, HasSubstr("+ feature_view driver_hourly_stats"));
}

}  // namespace
}  // namespace granary
