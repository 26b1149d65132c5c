// The local stack end to end, through the script users run: `tools/dev up` starts Redis,
// PostgreSQL, NATS and the five services, secure by default; the CLI reaches every service
// through the gateway with the token `up` wrote, a call without a token is refused, and so is
// a call that skips the gateway; `tools/dev status` reports each process SERVING; each /metrics
// shows request counters and latency histograms; stopping Redis turns the services that need
// it NOT_SERVING and starting it brings them back without a restart; `tools/dev down` leaves
// no process behind. Ports are picked free; binaries come from this build.
#include <signal.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <regex>
#include <set>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "gmock/gmock.h"
#include "granary/registry/v1/registry_service.grpc.pb.h"
#include "granary/serving/v1/serving.grpc.pb.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include <sys/prctl.h>
#include <sys/wait.h>

#include "libs/base/status_macros.h"
#include "libs/testing/grpc_probes.h"
#include "libs/testing/ports.h"
#include "libs/testing/process_guard.h"
#include "libs/testing/status_matchers.h"
#include "libs/testing/subprocess.h"

namespace granary {
namespace {

using ::granary::testing::HttpGet;
using ::granary::testing::LiveProcesses;
using ::granary::testing::PickFreePorts;
using ::granary::testing::ProcessGuard;
using ::granary::testing::ProcessInfo;
using ::granary::testing::ReadProcessInfo;
using ::granary::testing::Subprocess;
using ::granary::testing::WaitForHealth;
using ::grpc::health::v1::HealthCheckResponse;
using ::testing::ContainsRegex;
using ::testing::HasSubstr;

const char* const kServices[] = {"gateway", "registry", "serving", "ingestion", "materializer"};

std::string Upper(std::string s) {
  for (char& c : s) c = static_cast<char>(toupper(c));
  return s;
}

bool Running(pid_t pid) {
  absl::StatusOr<ProcessInfo> info = ReadProcessInfo(pid);
  return info.ok() && info->state != 'Z';
}

std::string CommandLine(pid_t pid) {
  std::ifstream in(absl::StrCat("/proc/", pid, "/cmdline"));
  std::string s((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  for (char& c : s) c = c == '\0' ? ' ' : c;
  return s;
}

// A file's text without its trailing line break.
std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  std::string s((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  return std::string(absl::StripTrailingAsciiWhitespace(s));
}

// A time as the training set's CSV writes it.
std::string RfcSeconds(absl::Time t) {
  return absl::FormatTime("%Y-%m-%dT%H:%M:%SZ", t, absl::UTCTimeZone());
}

class LocalStackTest : public ::testing::Test {
 protected:
  void SetUp() override {
    // Orphans of the script (daemons, setsid'd services) become our children: reaped, checked.
    ASSERT_EQ(prctl(PR_SET_CHILD_SUBREAPER, 1), 0);
    runfiles_ = absl::StrCat(std::getenv("TEST_SRCDIR"), "/", std::getenv("TEST_WORKSPACE"));
    home_ = absl::StrCat(std::getenv("TEST_TMPDIR"), "/stack");
    // The CLI finds the stack as a user's shell would after `up`: its token in GRANARY_HOME,
    // the gateway's (free) port in the endpoints file. No token from the environment.
    env_ = {absl::StrCat("GRANARY_HOME=", home_), absl::StrCat("GRANARY_BIN_DIR=", runfiles_),
            absl::StrCat("GRANARY_ENDPOINTS=", home_, "/endpoints.yaml"), "GRANARY_TOKEN="};
    // However this test ends (even killed by a timeout), whatever tools/dev started goes.
    ASSERT_OK_AND_ASSIGN(
        guard_, ProcessGuard::Start(absl::StrCat(
                    "for f in ", home_, "/pids/*.pid; do p=$(cat \"$f\" 2>/dev/null) && ",
                    "kill -9 -- \"-$p\" \"$p\" 2>/dev/null; done; d=$(readlink -f ", home_,
                    "/postgres); case \"$d\" in /tmp/granary-postgres-*) rm -rf \"$d\";; esac")));
    ASSERT_OK_AND_ASSIGN(std::vector<int> ports, PickFreePorts(15));
    size_t next = 0;
    http_port_ = ports[next++];
    env_.push_back(absl::StrCat("GRANARY_GATEWAY_HTTP_PORT=", http_port_));
    ui_port_ = ports[next++];
    env_.push_back(absl::StrCat("GRANARY_GATEWAY_UI_PORT=", ui_port_));
    for (const char* name : {"redis", "postgres", "nats"}) {
      ports_[name] = ports[next++];
      env_.push_back(absl::StrCat("GRANARY_", Upper(name), "_PORT=", ports_[name]));
    }
    for (const char* svc : kServices) {
      ports_[svc] = ports[next++];
      metrics_ports_[svc] = ports[next++];
      env_.push_back(absl::StrCat("GRANARY_", Upper(svc), "_PORT=", ports_[svc]));
      env_.push_back(absl::StrCat("GRANARY_", Upper(svc), "_METRICS_PORT=", metrics_ports_[svc]));
    }
  }

  void TearDown() override {
    // Whatever happened above, take the stack down, then let the guard remove what is left.
    Run({"tools/dev", "down"}).IgnoreError();
    guard_.reset();
    for (pid_t pid : LiveProcesses(getpid())) kill(pid, SIGKILL);
    while (waitpid(-1, nullptr, WNOHANG) > 0) {
    }
  }

  // Runs a command from the runfiles root; returns its exit code (and keeps its output).
  absl::StatusOr<int> Run(std::vector<std::string> argv) {
    argv[0] = absl::StrCat(runfiles_, "/", argv[0]);
    // All of its output, not a tail: verify's report is long.
    const std::string log = absl::StrCat(std::getenv("TEST_TMPDIR"), "/run-", ++runs_, ".log");
    ASSIGN_OR_RETURN(
        auto p,
        Subprocess::Start({.argv = argv, .env = env_, .working_dir = runfiles_, .log_path = log}));
    absl::StatusOr<int> status = p->Wait(absl::Seconds(180));
    last_output_ = ReadFile(log);
    if (!status.ok()) return status.status();
    return WIFEXITED(*status) ? WEXITSTATUS(*status) : 128 + WTERMSIG(*status);
  }

  // SQL as the stack's superuser (its password is the one `up` made).
  absl::Status AdminSql(const std::string& sql) {
    std::vector<std::string> env = env_;
    env.push_back(absl::StrCat(
        "PGPASSWORD=", absl::StripAsciiWhitespace(ReadFile(home_ + "/secrets/postgres-admin"))));
    ASSIGN_OR_RETURN(auto p, Subprocess::Start({.argv = {"/usr/bin/psql", "-X", "-q", "-v",
                                                         "ON_ERROR_STOP=1", "-h", "127.0.0.1", "-p",
                                                         absl::StrCat(ports_["postgres"]), "-U",
                                                         "postgres", "-d", "granary", "-c", sql},
                                                .env = env}));
    ASSIGN_OR_RETURN(int status, p->Wait(absl::Seconds(60)));
    if (status != 0) return absl::InternalError(p->RecentOutput());
    return absl::OkStatus();
  }

  std::shared_ptr<grpc::Channel> Channel(const std::string& svc) {
    return grpc::CreateChannel(absl::StrCat("127.0.0.1:", ports_[svc]),
                               grpc::InsecureChannelCredentials());
  }

  std::map<std::string, pid_t> Pids() {
    std::map<std::string, pid_t> pids;
    for (const auto& entry : std::filesystem::directory_iterator(home_ + "/pids")) {
      std::ifstream in(entry.path());
      pid_t pid = 0;
      in >> pid;
      pids[entry.path().stem().string()] = pid;
    }
    return pids;
  }

  std::string runfiles_;
  std::string home_;
  std::vector<std::string> env_;
  std::map<std::string, int> ports_;
  std::map<std::string, int> metrics_ports_;
  int http_port_ = 0;
  int ui_port_ = 0;
  std::string last_output_;
  int runs_ = 0;
  std::unique_ptr<ProcessGuard> guard_;
};

#define ASSERT_EXIT_CODE(cmd, code)       \
  do {                                    \
    absl::StatusOr<int> rc = (cmd);       \
    ASSERT_TRUE(rc.ok()) << rc.status();  \
    ASSERT_EQ(*rc, code) << last_output_; \
  } while (false)

TEST_F(LocalStackTest, UpStatusMetricsRedisOutageAndDown) {
  ASSERT_EXIT_CODE(Run({"tools/dev", "up"}), 0);
  std::map<std::string, pid_t> pids = Pids();
  ASSERT_EQ(pids.size(), 8u) << "expected 3 backends and 5 services";

  // The example repo was applied: the registry knows its feature view.
  EXPECT_THAT(last_output_, HasSubstr("Project driver_stats is now at version 1"));

  // `tools/dev status`: each process's own health, one line each, all SERVING, exit 0.
  ASSERT_EXIT_CODE(Run({"tools/dev", "status"}), 0);
  for (const char* svc : kServices) {
    EXPECT_THAT(last_output_,
                ContainsRegex(absl::StrCat(svc, " +127.0.0.1:", ports_[svc], " +SERVING")));
  }
  // `granary status` with the endpoints file `up` wrote: every service through the gateway.
  std::string endpoints = home_ + "/endpoints.yaml";
  ASSERT_EXIT_CODE(Run({"tools/cli/granary", "status", "--endpoints", endpoints}), 0);
  for (const char* svc : kServices) {
    EXPECT_THAT(last_output_,
                ContainsRegex(absl::StrCat(svc, " +127.0.0.1:", ports_["gateway"], " +SERVING")));
  }

  // Secure by default. Without a token the gateway refuses the call; a service reached
  // directly refuses it too (no gateway signature); health stays open.
  {
    grpc::ClientContext ctx;
    ctx.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(10)));
    registry::v1::ListProjectsRequest req;
    registry::v1::ListProjectsResponse resp;
    grpc::Status s =
        registry::v1::RegistryService::NewStub(Channel("gateway"))->ListProjects(&ctx, req, &resp);
    EXPECT_EQ(s.error_code(), grpc::StatusCode::UNAUTHENTICATED) << s.error_message();
  }
  {
    grpc::ClientContext ctx;
    ctx.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(10)));
    ctx.AddMetadata("authorization", "Bearer " + ReadFile(home_ + "/token"));
    serving::v1::GetOnlineFeaturesRequest req;
    serving::v1::GetOnlineFeaturesResponse resp;
    grpc::Status s = serving::v1::ServingService::NewStub(Channel("serving"))
                         ->GetOnlineFeatures(&ctx, req, &resp);
    EXPECT_EQ(s.error_code(), grpc::StatusCode::UNAUTHENTICATED) << s.error_message();
  }
  // The CLI sends the writer's token `up` wrote (.granary/token): it reads the catalog ...
  ASSERT_EXIT_CODE(Run({"tools/cli/granary", "list", "feature-views", "--project", "driver_stats"}),
                   0);
  EXPECT_THAT(last_output_, HasSubstr("driver_hourly_stats"));
  // ... and a token the gateway did not issue is refused, the message naming where it came
  // from and never the token itself.
  ASSERT_EXIT_CODE(Run({"tools/cli/granary", "list", "feature-views", "--project", "driver_stats",
                        "--token", "not.a-real.token"}),
                   1);
  EXPECT_THAT(last_output_, HasSubstr("the token from --token was refused"));

  // The example answers real values: fresh, past the ttl, unknown.
  ASSERT_EXIT_CODE(
      Run({"tools/cli/granary", "get-online-features", "--feature-service", "driver_activity",
           "--entity", "driver_id=1001,1005,9999", "--project", "driver_stats"}),
      0);
  // From `up`: 1001 is fresh, 1005 retired (no row in 36 h: past the 1-day ttl), 9999 unknown.
  EXPECT_THAT(last_output_, ContainsRegex("1001 +conv_rate +0\\.[0-9]+ +PRESENT +20[0-9-]+T"));
  EXPECT_THAT(last_output_, ContainsRegex("1005 +conv_rate +- +OUTSIDE_MAX_AGE"));
  EXPECT_THAT(last_output_, ContainsRegex("9999 +conv_rate +- +NOT_FOUND"));

  // An on-demand feature: driver 1001's conv_rate (read in the same round trip, not returned
  // unless asked) plus the value sent with the request.
  ASSERT_EXIT_CODE(
      Run({"tools/cli/granary", "get-online-features", "--features",
           "driver_hourly_stats:conv_rate,transformed_conv_rate:conv_rate_plus_val1", "--entity",
           "driver_id=1001", "--request", "val_to_add=10", "--project", "driver_stats"}),
      0);
  {
    std::smatch conv, plus;
    const std::regex conv_line("1001 +conv_rate +([0-9.]+) +PRESENT");
    const std::regex plus_line("1001 +conv_rate_plus_val1 +([0-9.]+) +PRESENT");
    ASSERT_TRUE(std::regex_search(last_output_, conv, conv_line)) << last_output_;
    ASSERT_TRUE(std::regex_search(last_output_, plus, plus_line)) << last_output_;
    // The table prints six significant digits.
    EXPECT_NEAR(std::stod(plus[1]), std::stod(conv[1]) + 10, 1e-3) << last_output_;
  }

  // A write-time on-demand feature: computed and stored when `up` materialized; served stored.
  ASSERT_EXIT_CODE(
      Run({"tools/cli/granary", "get-online-features", "--features",
           "driver_hourly_stats:conv_rate,driver_hourly_stats:acc_rate,driver_rates:completed_"
           "share",
           "--entity", "driver_id=1001,9999", "--project", "driver_stats"}),
      0);
  {
    std::smatch conv, acc, share;
    ASSERT_TRUE(std::regex_search(last_output_, conv, std::regex("1001 +conv_rate +([0-9.]+) ")))
        << last_output_;
    ASSERT_TRUE(std::regex_search(last_output_, acc, std::regex("1001 +acc_rate +([0-9.]+) ")))
        << last_output_;
    ASSERT_TRUE(std::regex_search(last_output_, share,
                                  std::regex("1001 +completed_share +([0-9.e-]+) +PRESENT")))
        << last_output_;
    EXPECT_NEAR(std::stod(share[1]), std::stod(conv[1]) * std::stod(acc[1]), 1e-4) << last_output_;
    EXPECT_THAT(last_output_, ContainsRegex("9999 +completed_share +- +NOT_FOUND"));
  }
  // Both kinds through a feature service.
  ASSERT_EXIT_CODE(Run({"tools/cli/granary", "get-online-features", "--feature-service",
                        "driver_ranking", "--entity", "driver_id=1001", "--request",
                        "val_to_add=10", "--project", "driver_stats"}),
                   0);
  EXPECT_THAT(last_output_, ContainsRegex("1001 +conv_rate_plus_val1 +[0-9.]+ +PRESENT"));
  EXPECT_THAT(last_output_, ContainsRegex("1001 +completed_share +[0-9.e-]+ +PRESENT"));

  // The two jobs `up` ran, and a training set from the example's entity rows.
  ASSERT_EXIT_CODE(Run({"tools/cli/granary", "jobs", "--project", "driver_stats"}), 0);
  EXPECT_THAT(last_output_, ContainsRegex("SUCCEEDED +[0-9]+/[0-9]+ .*driver_hourly_stats"));
  const std::string train = home_ + "/train.csv";
  ASSERT_EXIT_CODE(Run({"tools/cli/granary", "get-historical-features", "--entities",
                        "examples/driver_stats/entities.csv", "--feature-service",
                        "driver_activity", "--project", "driver_stats", "--out", train}),
                   0);
  std::ifstream in(train);
  std::vector<std::string> lines;
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  ASSERT_EQ(lines.size(), 22u) << "a header and the 21 entity rows";
  EXPECT_EQ(lines[0],
            "driver_id,event_timestamp,trip_completed,val_to_add,conv_rate,acc_rate,"
            "avg_daily_trips");
  EXPECT_THAT(lines[1],
              ContainsRegex("^1001,20[0-9-]+T[0-9:]+Z,1,10,0\\.[0-9]+,0\\.[0-9]+,[0-9]+$"));
  EXPECT_THAT(lines[4], ContainsRegex("^1001,20[0-9-]+T[0-9:]+Z,0,0,,,$")) << "older than the data";
  EXPECT_THAT(lines[21], ContainsRegex("^1099,20[0-9-]+T[0-9:]+Z,0,3,,,$")) << "no such driver";

  // The training set of a model that reads on-demand features, from the same entity rows:
  // conv_rate_plus_val1 computed from each row's val_to_add, completed_share from the joined
  // row (null where the driver has no row in its TTL, as nothing was stored online).
  const std::string ranking = home_ + "/ranking.csv";
  ASSERT_EXIT_CODE(Run({"tools/cli/granary", "get-historical-features", "--entities",
                        "examples/driver_stats/entities.csv", "--feature-service", "driver_ranking",
                        "--project", "driver_stats", "--out", ranking}),
                   0);
  {
    std::ifstream ranking_in(ranking);
    std::vector<std::string> rows;
    for (std::string line; std::getline(ranking_in, line);) rows.push_back(line);
    ASSERT_EQ(rows.size(), 22u);
    EXPECT_EQ(rows[0],
              "driver_id,event_timestamp,trip_completed,val_to_add,conv_rate,acc_rate,"
              "conv_rate_plus_val1,completed_share");
    const std::vector<std::string> first = absl::StrSplit(rows[1], ',');
    ASSERT_EQ(first.size(), 8u) << rows[1];
    const double conv = std::stod(first[4]), acc = std::stod(first[5]);
    EXPECT_NEAR(std::stod(first[6]), conv + 10, 1e-6) << rows[1];
    EXPECT_NEAR(std::stod(first[7]), conv * acc, 1e-6) << rows[1];
    EXPECT_THAT(rows[21], ContainsRegex("^1099,20[0-9-]+T[0-9:]+Z,0,3,,,,$")) << "no such driver";
  }

  // A training set right value by value: entity rows at whole seconds (so the CSV's times are
  // exactly the rows' times), every row checked against a brute-force point-in-time answer
  // computed here from the offline rows themselves (read with psql): the newest row at or
  // before the entity row's time and no older than the one-day ttl, ties on created time.
  {
    const absl::Time base =
        absl::FromUnixSeconds(absl::ToUnixSeconds(absl::Now()) / 3600 * 3600) - absl::Minutes(30);
    std::vector<std::pair<int64_t, absl::Time>> asked;
    std::string entities = "driver_id,event_timestamp\n";
    for (int64_t driver = 1001; driver <= 1012; ++driver) {
      for (int hours : {0, 5, 23, 30, 50, 100, 170}) {
        const absl::Time t = base - absl::Hours(hours);
        asked.emplace_back(driver, t);
        absl::StrAppend(&entities, driver, ",", RfcSeconds(t), "\n");
      }
    }
    const std::string asked_csv = home_ + "/asked.csv", asked_train = home_ + "/asked_train.csv";
    std::ofstream(asked_csv) << entities;
    ASSERT_EXIT_CODE(Run({"tools/cli/granary", "get-historical-features", "--entities", asked_csv,
                          "--feature-service", "driver_activity", "--project", "driver_stats",
                          "--out", asked_train}),
                     0);
    const std::string offline = home_ + "/offline_rows.txt";
    // As the offline reader `up` created, with the password it made (SELECT is all it needs).
    std::vector<std::string> reader_env = env_;
    reader_env.push_back(absl::StrCat(
        "PGPASSWORD=", absl::StripAsciiWhitespace(ReadFile(home_ + "/secrets/pg-offline-reader"))));
    ASSERT_OK_AND_ASSIGN(
        auto psql,
        Subprocess::Start(
            {.argv = {"/usr/bin/psql", "-X", "-At", "-F", "|", "-h", "127.0.0.1", "-p",
                      absl::StrCat(ports_["postgres"]), "-U", "granary_offline_reader", "-d",
                      "granary", "-o", offline, "-c",
                      "SELECT driver_id, (extract(epoch FROM event_timestamp) * 1e6)::bigint, "
                      "(extract(epoch FROM created) * 1e6)::bigint, conv_rate, acc_rate, "
                      "avg_daily_trips FROM driver_stats WHERE driver_id BETWEEN 1001 AND 1012"},
             .env = reader_env}));
    ASSERT_OK_AND_ASSIGN(int psql_status, psql->Wait(absl::Seconds(60)));
    ASSERT_EQ(psql_status, 0) << psql->RecentOutput();
    struct OfflineRow {
      int64_t event_us = 0;
      std::optional<int64_t> created_us;
      std::vector<std::string> features;  // conv_rate, acc_rate, avg_daily_trips as text
    };
    std::map<int64_t, std::vector<OfflineRow>> rows;
    std::ifstream offline_in(offline);
    for (std::string line; std::getline(offline_in, line);) {
      std::vector<std::string> f = absl::StrSplit(line, '|');
      ASSERT_EQ(f.size(), 6u) << line;
      int64_t driver = 0, created = 0;
      OfflineRow row;
      ASSERT_TRUE(absl::SimpleAtoi(f[0], &driver) && absl::SimpleAtoi(f[1], &row.event_us));
      if (absl::SimpleAtoi(f[2], &created)) row.created_us = created;
      row.features = {f[3], f[4], f[5]};
      rows[driver].push_back(std::move(row));
    }
    ASSERT_FALSE(rows.empty());
    std::ifstream train_in(asked_train);
    std::vector<std::string> got;
    for (std::string line; std::getline(train_in, line);) got.push_back(line);
    ASSERT_EQ(got.size(), asked.size() + 1);
    EXPECT_EQ(got[0], "driver_id,event_timestamp,conv_rate,acc_rate,avg_daily_trips");
    int matched = 0;
    for (size_t i = 0; i < asked.size(); ++i) {
      const auto& [driver, t] = asked[i];
      const int64_t at = absl::ToUnixMicros(t), oldest = at - 24LL * 3600 * 1'000'000;
      const OfflineRow* best = nullptr;
      for (const OfflineRow& r : rows[driver]) {
        if (r.event_us > at || r.event_us < oldest) continue;
        if (best == nullptr || r.event_us > best->event_us ||
            (r.event_us == best->event_us &&
             r.created_us.value_or(INT64_MIN) > best->created_us.value_or(INT64_MIN))) {
          best = &r;
        }
      }
      std::vector<std::string> cells = absl::StrSplit(got[i + 1], ',');
      ASSERT_EQ(cells.size(), 5u) << got[i + 1];
      EXPECT_EQ(cells[0], absl::StrCat(driver)) << "row " << i + 1;
      EXPECT_EQ(cells[1], RfcSeconds(t)) << "row " << i + 1;
      for (int f = 0; f < 3; ++f) {
        const std::string want = best == nullptr ? "" : best->features[f];
        if (want.empty() || f == 2) {
          EXPECT_EQ(cells[2 + f], want) << "row " << i + 1 << ": " << got[i + 1];
          continue;
        }
        // REAL features: the same float, however each side prints it.
        float want_value = 0, got_value = 0;
        ASSERT_TRUE(absl::SimpleAtof(want, &want_value) &&
                    absl::SimpleAtof(cells[2 + f], &got_value))
            << got[i + 1];
        EXPECT_EQ(got_value, want_value) << "row " << i + 1 << ": " << got[i + 1];
      }
      if (best != nullptr) ++matched;
    }
    // The data has both kinds: rows with a match and rows past the ttl or before the data.
    EXPECT_GT(matched, 0);
    EXPECT_LT(matched, static_cast<int>(asked.size()));
  }

  // Materializing again from where the last job ended: the CLI follows it to its summary.
  ASSERT_EXIT_CODE(
      Run({"tools/cli/granary", "materialize-incremental", "now", "--project", "driver_stats"}), 0);
  EXPECT_THAT(last_output_, ContainsRegex("job [^ ]+ SUCCEEDED: [0-9]+/[0-9]+ tasks, [0-9,]+ rows "
                                          "read, [0-9,]+ written"));

  // A push reaches serving: driver 1005's stale row is replaced by the sample's fresh one.
  const std::vector<std::string> push = {"tools/cli/granary",
                                         "push",
                                         "--push-source",
                                         "driver_stats_push",
                                         "--file",
                                         "examples/driver_stats/push_sample.csv",
                                         "--to",
                                         "online_and_offline",
                                         "--project",
                                         "driver_stats"};
  ASSERT_EXIT_CODE(Run(push), 0);
  EXPECT_THAT(last_output_, HasSubstr("pushed 5 rows"));
  std::vector<std::string> read = {
      "tools/cli/granary", "get-online-features", "--features", "driver_hourly_stats:conv_rate",
      "--entity",          "driver_id=1005",      "--project",  "driver_stats"};
  bool served = false;
  for (absl::Time give_up = absl::Now() + absl::Seconds(10); !served && absl::Now() < give_up;) {
    ASSERT_EXIT_CODE(Run(read), 0);
    served = ::testing::Matches(ContainsRegex("1005 +conv_rate +0.57 +PRESENT"))(last_output_);
  }
  EXPECT_TRUE(served) << last_output_;

  // A reader's token from `granary token` (the secret `up` made, found in GRANARY_HOME): the
  // example's permissions let it read features, not write them.
  ASSERT_EXIT_CODE(Run({"tools/cli/granary", "token", "--user", "ana", "--roles", "reader"}), 0);
  const std::string reader(absl::StripAsciiWhitespace(last_output_));
  read.insert(read.end(), {"--token", reader});
  ASSERT_EXIT_CODE(Run(read), 0);
  EXPECT_THAT(last_output_, ContainsRegex("1005 +conv_rate +0.57 +PRESENT"));
  std::vector<std::string> reader_push = push;
  reader_push.insert(reader_push.end(), {"--token", reader});
  ASSERT_EXIT_CODE(Run(reader_push), 1);
  EXPECT_THAT(last_output_, HasSubstr("PERMISSION_DENIED"));
  EXPECT_THAT(last_output_, ::testing::Not(HasSubstr(reader)));
  // The refusal is in the gateway's audit log, with who and what; the token is not.
  const std::string audit = ReadFile(home_ + "/logs/audit.log");
  EXPECT_THAT(audit, ContainsRegex("\"user\":\"ana\",\"roles\":\\[\"reader\"\\]"
                                   ".*\"decision\":\"deny\""));
  EXPECT_THAT(audit, ::testing::Not(HasSubstr(reader)));
  // The HTTP door documents itself; the UI is on the port browsers accept, as `granary ui` says.
  ASSERT_OK_AND_ASSIGN(std::string docs, HttpGet("127.0.0.1", http_port_, "/docs"));
  EXPECT_THAT(docs, HasSubstr("/get-online-features"));
  ASSERT_EXIT_CODE(Run({"tools/cli/granary", "ui", "--no-open"}), 0);
  EXPECT_THAT(last_output_, HasSubstr(absl::StrCat("http://127.0.0.1:", ui_port_, "/ui/")));
  ASSERT_OK_AND_ASSIGN(std::string page, HttpGet("127.0.0.1", ui_port_, "/ui/"));
  EXPECT_THAT(page, HasSubstr("<title>Granary</title>"));

  // Each /metrics counts requests per method (the status calls above hit every health check).
  for (const char* svc : kServices) {
    ASSERT_OK_AND_ASSIGN(std::string text, HttpGet("127.0.0.1", metrics_ports_[svc], "/metrics"));
    EXPECT_THAT(text, ContainsRegex("grpc_server_handled_total\\{grpc_code=\"OK\",grpc_method="
                                    "\"Check\",grpc_service=\"grpc.health.v1.Health\"\\} [1-9]"))
        << svc;
    EXPECT_THAT(text, HasSubstr("grpc_server_handling_seconds_bucket{grpc_method=\"Check\""))
        << svc;
    EXPECT_THAT(text, HasSubstr(absl::StrCat("granary_build_info{service=\"", svc, "\"")));
  }

  // Each service ran all of the above as its own backend user (deploy/) and was refused nothing.
  const std::string nats_log = ReadFile(home_ + "/logs/nats.log");
  EXPECT_THAT(nats_log, HasSubstr("Using configuration file"));
  EXPECT_THAT(nats_log, ::testing::Not(HasSubstr("Violation")));
  EXPECT_THAT(nats_log, ::testing::Not(HasSubstr("authentication error")));
  const std::string postgres_log = ReadFile(home_ + "/logs/postgres.log");
  EXPECT_THAT(postgres_log, ::testing::Not(HasSubstr("permission denied")));
  EXPECT_THAT(postgres_log, ::testing::Not(HasSubstr("password authentication failed")));

  // `granary init` writes a deploy.yaml for this stack; `granary verify` passes (after the log
  // checks above: its refused publishes are logged as violations, on purpose).
  ASSERT_EXIT_CODE(Run({"tools/cli/granary", "init", "demo", "--dir", home_}), 0);
  const std::string deploy = home_ + "/demo/deploy.yaml";
  ASSERT_EXIT_CODE(Run({"tools/cli/granary", "verify", "-f", deploy}), 0);
  EXPECT_THAT(last_output_, ContainsRegex(" 0 failed"));
  EXPECT_THAT(last_output_,
              HasSubstr("PASS  redis     serving's user granary-serving may only read"));
  EXPECT_THAT(last_output_, HasSubstr("PASS  postgres  the offline reader granary_offline_reader "
                                      "has exactly the offline reader's privileges"));
  EXPECT_THAT(last_output_, HasSubstr("PASS  nats      ingestion's user granary-ingestion may "
                                      "not publish to granary.registry.verify"));
  // A wrong password: the line names the credential and PostgreSQL's reason.
  const std::string wrong = home_ + "/wrong-password";  // a file with another password
  std::ofstream(wrong) << "not-the-password\n";
  std::string text = ReadFile(deploy);
  const std::string reader_secret = home_ + "/secrets/pg-offline-reader";
  ASSERT_THAT(text, HasSubstr(reader_secret));
  std::ofstream(home_ + "/wrong.yaml") << absl::StrReplaceAll(text, {{reader_secret, wrong}});
  ASSERT_EXIT_CODE(Run({"tools/cli/granary", "verify", "-f", home_ + "/wrong.yaml"}), 1);
  EXPECT_THAT(last_output_, HasSubstr("FAIL  postgres  the offline reader granary_offline_reader "
                                      "cannot log in: "));
  EXPECT_THAT(last_output_, HasSubstr("password authentication failed"));
  // A role with more than it needs, then one with less.
  ASSERT_OK(AdminSql("GRANT INSERT ON driver_stats TO granary_offline_reader"));
  ASSERT_EXIT_CODE(Run({"tools/cli/granary", "verify", "-f", deploy}), 1);
  EXPECT_THAT(last_output_, HasSubstr("may do more than the offline reader needs: INSERT into "
                                      "driver_stats"));
  ASSERT_OK(AdminSql("REVOKE INSERT, SELECT ON driver_stats FROM granary_offline_reader"));
  ASSERT_EXIT_CODE(Run({"tools/cli/granary", "verify", "-f", deploy}), 1);
  EXPECT_THAT(last_output_, HasSubstr("granary_offline_reader lacks SELECT on driver_stats"));
  ASSERT_OK(AdminSql("GRANT SELECT ON driver_stats TO granary_offline_reader"));
  ASSERT_EXIT_CODE(Run({"tools/cli/granary", "verify", "-f", deploy}), 0);

  // `granary deploy --overlay prod --dry-run` prints the prod manifests with these settings
  // (from a copy of the checkout: kustomize refuses the symbolic links of runfiles).
  const std::string repo = home_ + "/repo";
  for (const char* dir : {"/deploy", "/tools"}) std::filesystem::create_directories(repo + dir);
  std::filesystem::copy(runfiles_ + "/deploy/k8s", repo + "/deploy/k8s",
                        std::filesystem::copy_options::recursive);
  std::filesystem::copy(runfiles_ + "/tools/dev", repo + "/tools/dev");
  ASSERT_EXIT_CODE(Run({"tools/cli/granary", "deploy", "-f", deploy, "--overlay", "prod",
                        "--dry-run", "--repo", repo}),
                   0);
  const std::string manifests = last_output_;
  EXPECT_THAT(manifests, HasSubstr("image: \"granary:latest\""));  // deploy.yaml's, in each
  EXPECT_THAT(manifests, HasSubstr("name: granary-serving\n  namespace: \"granary\"\n"));
  EXPECT_THAT(manifests, HasSubstr("(the local stack): the manifests keep the overlay's"));

  // Redis goes away: serving and the materializer need it; the others do not.
  ASSERT_EXIT_CODE(Run({"tools/dev", "stop", "redis"}), 0);
  ASSERT_OK(
      WaitForHealth(Channel("serving"), "", HealthCheckResponse::NOT_SERVING, absl::Seconds(20)));
  ASSERT_OK(WaitForHealth(Channel("materializer"), "", HealthCheckResponse::NOT_SERVING,
                          absl::Seconds(20)));
  ASSERT_OK_AND_ASSIGN(auto registry, testing::CheckHealth(Channel("registry")));
  EXPECT_EQ(registry, HealthCheckResponse::SERVING);
  ASSERT_EXIT_CODE(Run({"tools/dev", "status"}), 1);
  EXPECT_THAT(last_output_, ContainsRegex("serving +127.0.0.1:[0-9]+ +NOT_SERVING"));

  // Redis is back: the same processes recover by themselves.
  ASSERT_EXIT_CODE(Run({"tools/dev", "start", "redis"}), 0);
  ASSERT_OK(WaitForHealth(Channel("serving"), "", HealthCheckResponse::SERVING, absl::Seconds(30)));
  ASSERT_OK(
      WaitForHealth(Channel("materializer"), "", HealthCheckResponse::SERVING, absl::Seconds(30)));
  EXPECT_EQ(Pids()["serving"], pids["serving"]);
  EXPECT_TRUE(Running(pids["serving"]));

  // Down: nothing is left, not one backend worker.
  ASSERT_EXIT_CODE(Run({"tools/dev", "down"}), 0);
  while (waitpid(-1, nullptr, WNOHANG) > 0) {
  }
  for (const auto& [name, pid] : Pids()) ADD_FAILURE() << name << " still has a pid file";
  for (pid_t pid : LiveProcesses(getpid())) {
    if (pid == guard_->pid()) continue;  // ours, and meant to be there
    ADD_FAILURE() << "left behind: pid " << pid << " " << CommandLine(pid);
  }
  for (const auto& [name, pid] : pids) EXPECT_FALSE(Running(pid)) << name << " still runs";
}

}  // namespace
}  // namespace granary
