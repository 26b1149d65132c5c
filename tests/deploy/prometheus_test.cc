// deploy/prometheus and deploy/grafana as an operator gets them: promtool accepts the scrape
// config and the rules, the rules' unit tests pass (each alert fires on its series, and not
// before its `for`), the dashboard is Grafana JSON whose every query promtool parses, and every
// metric the rules and the dashboard name is one that serving, ingestion or the materializer
// export (a live scrape of each after a pushed row; the registry and the gateway export only
// the shared families).
#include <cstring>
#include <fstream>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "gmock/gmock.h"
#include "granary/ingestion/v1/ingestion.grpc.pb.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "re2/re2.h"

#include "libs/testing/eventually.h"
#include "libs/testing/grpc_probes.h"
#include "libs/testing/status_matchers.h"
#include "libs/testing/test_stack.h"
#include "tests/deploy/programs.h"

namespace granary::testing {
namespace {

constexpr char kConfig[] = "deploy/prometheus/prometheus.yml";
constexpr char kRules[] = "deploy/prometheus/rules/granary.rules.yml";
constexpr char kRulesTest[] = "deploy/prometheus/rules/granary.rules.test.yml";
constexpr char kDashboard[] = "deploy/grafana/dashboards/granary.json";
constexpr char kAlertmanager[] = "deploy/prometheus/alertmanager.yml";

// promtool's exit status and output.
std::pair<int, std::string> Promtool(std::vector<std::string> args) {
  args.insert(args.begin(), "promtool");
  Result r = RunProgram(args);
  return {r.status, r.output};
}

TEST(PrometheusTest, PromtoolAcceptsTheConfigAndTheRulesAndTheirTestsPass) {
  auto [config_code, config_out] = Promtool({"check", "config", kConfig});
  EXPECT_EQ(config_code, 0) << config_out;
  auto [rules_code, rules_out] = Promtool({"check", "rules", kRules});
  EXPECT_EQ(rules_code, 0) << rules_out;
  auto [test_code, test_out] = Promtool({"test", "rules", kRulesTest});
  EXPECT_EQ(test_code, 0) << test_out;
  EXPECT_THAT(test_out, ::testing::HasSubstr("SUCCESS"));
}

TEST(PrometheusTest, TheDashboardIsGrafanaJsonAndEveryQueryParses) {
  nlohmann::json dashboard = nlohmann::json::parse(ReadFile(kDashboard), nullptr, false);
  ASSERT_FALSE(dashboard.is_discarded()) << kDashboard << " is not JSON";
  ASSERT_TRUE(dashboard.contains("panels") && dashboard.at("panels").is_array());
  EXPECT_GE(dashboard.at("panels").size(), 8u);
  // Every query, as a recording rule promtool must accept ($__rate_interval is Grafana's).
  std::string rules = "groups:\n  - name: dashboard\n    rules:\n";
  int n = 0;
  for (const nlohmann::json& panel : dashboard.at("panels")) {
    const std::string title = panel.value("title", "(untitled)");
    ASSERT_TRUE(panel.contains("targets") && panel.at("targets").is_array()) << title;
    ASSERT_FALSE(panel.at("targets").empty()) << title;
    for (const nlohmann::json& target : panel.at("targets")) {
      ASSERT_TRUE(target.contains("expr") && target.at("expr").is_string()) << title;
      ASSERT_TRUE(target.contains("datasource")) << title;
      EXPECT_EQ(target.at("datasource").value("uid", ""), "granary-prometheus") << title;
      std::string expr = target.at("expr").get<std::string>();
      RE2::GlobalReplace(&expr, R"(\$__rate_interval)", "1m");
      rules += absl::StrCat("      - record: dashboard_query_", n++,
                            "\n        expr: ", nlohmann::json(expr).dump(), "\n");
    }
  }
  const std::string path = absl::StrCat(std::getenv("TEST_TMPDIR"), "/dashboard.rules.yml");
  std::ofstream(path) << rules;
  auto [code, out] = Promtool({"check", "rules", path});
  EXPECT_EQ(code, 0) << out << rules;
}

// Alertmanager takes the routing and the inhibit rules, and every alert an inhibit rule names
// is one the rules define (a renamed alert would otherwise silently page twice again).
TEST(PrometheusTest, AmtoolAcceptsTheAlertmanagerConfigAndItsAlertsExist) {
  Result amtool = RunProgram({"amtool", "check-config", kAlertmanager});
  EXPECT_EQ(amtool.status, 0) << amtool.output;
  EXPECT_THAT(amtool.output, ::testing::HasSubstr("2 inhibit rules"));

  std::set<std::string> defined;
  const std::string rules = ReadFile(kRules);
  re2::StringPiece input(rules);
  std::string name;
  while (RE2::FindAndConsume(&input, R"(- alert: (\w+))", &name)) defined.insert(name);
  ASSERT_GE(defined.size(), 10u);
  const std::string config = ReadFile(kAlertmanager);
  re2::StringPiece named(config);
  int checked = 0;
  while (RE2::FindAndConsume(&named, R"((Granary\w+))", &name)) {
    EXPECT_EQ(defined.count(name), 1u) << kAlertmanager << " names " << name;
    ++checked;
  }
  EXPECT_GE(checked, 4);
}

// The metric names a rules file or dashboard uses (histogram series named by their family).
std::set<std::string> MetricsNamedIn(const std::string& path) {
  const std::string text = ReadFile(path);
  std::set<std::string> names;
  re2::StringPiece input(text);
  std::string name;
  while (RE2::FindAndConsume(&input, R"(\b((?:granary|grpc_server)_[a-z_]+))", &name)) {
    for (const char* suffix : {"_bucket", "_sum", "_count"}) {
      if (absl::EndsWith(name, suffix) && name.find("_seconds") != std::string::npos) {
        name.resize(name.size() - strlen(suffix));
      }
    }
    names.insert(name);
  }
  return names;
}

// The families a scrape exports ("# TYPE <name> <type>").
std::set<std::string> Families(const std::string& scrape) {
  std::set<std::string> families;
  for (absl::string_view line : absl::StrSplit(scrape, '\n')) {
    std::vector<absl::string_view> words = absl::StrSplit(line, ' ');
    if (words.size() >= 3 && words[0] == "#" && words[1] == "TYPE") {
      families.insert(std::string(words[2]));
    }
  }
  return families;
}

TEST(PrometheusTest, EveryMetricTheRulesAndTheDashboardNameIsExported) {
  std::set<std::string> named = MetricsNamedIn(kRules);
  ASSERT_GE(named.size(), 8u) << "the rules name fewer metrics than expected";
  std::set<std::string> charted = MetricsNamedIn(kDashboard);
  ASSERT_GE(charted.size(), 10u) << "the dashboard names fewer metrics than expected";
  ASSERT_OK_AND_ASSIGN(auto stack, TestStack::Start({}));
  std::vector<TestService*> services;
  for (const char* service : {"serving", "ingestion", "materializer"}) {
    ASSERT_OK_AND_ASSIGN(TestService * spawned, stack->Spawn(service));
    services.push_back(spawned);
  }
  // One pushed row written online: the per-view freshness series exist from then on.
  ingestion::v1::PushRequest push;
  push.set_push_source_name("driver_stats_push");
  auto& columns = *push.mutable_columns();
  const int64_t now = absl::ToUnixSeconds(absl::Now());
  columns["driver_id"].add_val()->set_int64_val(1001);
  columns["event_timestamp"].add_val()->set_unix_timestamp_val(now);
  columns["created"].add_val()->set_unix_timestamp_val(now);
  columns["conv_rate"].add_val()->set_float_val(0.5f);
  columns["acc_rate"].add_val()->set_float_val(0.5f);
  columns["avg_daily_trips"].add_val()->set_int64_val(7);
  grpc::ClientContext ctx;
  ctx.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(20)));
  ingestion::v1::PushResponse response;
  auto channel = grpc::CreateChannel(services[1]->address(), grpc::InsecureChannelCredentials());
  ASSERT_TRUE(ingestion::v1::IngestionService::NewStub(channel)->Push(&ctx, push, &response).ok());

  // Some families appear with their first series: per view after a write, per writer after
  // the trimmer's pass (every second). Every name should be there within the timeout.
  std::set<std::string> wanted = named;
  wanted.insert(charted.begin(), charted.end());
  std::set<std::string> exported;
  std::string scraped;  // the materializer's last scrape
  bool all_there = Eventually(
      [&] {
        exported.clear();
        for (TestService* service : services) {
          auto scrape = HttpGet("127.0.0.1", service->metrics_port(), "/metrics");
          if (!scrape.ok()) return false;
          std::set<std::string> families = Families(*scrape);
          exported.insert(families.begin(), families.end());
          scraped = *scrape;
        }
        for (const std::string& name : wanted) {
          if (!exported.count(name)) return false;
        }
        return true;
      },
      absl::Seconds(30));
  std::string missing;
  for (const std::string& name : wanted) {
    if (!exported.count(name)) absl::StrAppend(&missing, " ", name);
  }
  ASSERT_TRUE(all_there) << "not exported within 30 s:" << missing;
  // The TTL is the view's (driver_hourly_stats: 1d), in seconds.
  EXPECT_THAT(scraped, ::testing::HasSubstr(absl::StrCat(
                           "granary_materializer_feature_view_ttl_seconds{feature_view=",
                           "\"driver_hourly_stats\",project=\"", stack->project(), "\"} 86400")));
  for (const std::string& name : named) {
    EXPECT_TRUE(exported.count(name))
        << name << " is named by " << kRules << " but no service exports it";
  }
  for (const std::string& name : charted) {
    EXPECT_TRUE(exported.count(name))
        << name << " is charted by " << kDashboard << " but no service exports it";
  }
}

}  // namespace
}  // namespace granary::testing
