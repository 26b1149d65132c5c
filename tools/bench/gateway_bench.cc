// The gateway's cost, measured against serving reached directly in the same run: GetOnlineFeatures
// 1 x 50 with JWT on (HS256 verified per call), the caller's permission decided from the
// registry's index, the identity signed for serving and an audit line written to a file.
// Then Feast's HTTP route, POST /get-online-features (1 x 50), closed loop with wrk, on each of
// the two HTTP server candidates, beside the gRPC closed-loop figure of the same run.
//
//   tools/bench/run gateway
#include <unistd.h>

#include <algorithm>
#include <fstream>
#include <iostream>
#include <map>
#include <string>
#include <vector>

#include "CLI/CLI.hpp"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "nlohmann/json.hpp"
#include <sys/wait.h>

#include "libs/auth/jwt_authenticator.h"
#include "libs/base/status_macros.h"
#include "libs/testing/ports.h"
#include "libs/testing/subprocess.h"
#include "tools/bench/cpu_time.h"
#include "tools/bench/loadgen.h"
#include "tools/bench/report.h"
#include "tools/bench/serving_stack.h"

namespace granary::bench {
namespace {

using Request = serving::v1::GetOnlineFeaturesRequest;

const BenchView kView{"narrow", "driver_id", 50};

struct Flags {
  std::string bin_dir;
  std::string out = "bench-results/gateway.json";
  int entities = 10'000;
  double rate = 2000;
  int runs = 3;
  int concurrency = 64;
  int http_connections = 32;
  double seconds = 5;
};

double Median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v.empty() ? 0 : v[v.size() / 2];
}

std::string Spread(const std::vector<double>& v, const char* format) {
  auto [lo, hi] = std::minmax_element(v.begin(), v.end());
  return absl::StrCat(absl::StrFormat(format, *lo), "-", absl::StrFormat(format, *hi));
}

absl::Status WriteFile(const std::string& path, const std::string& text) {
  std::ofstream out(path);
  out << text;
  out.close();
  return out ? absl::OkStatus() : absl::InternalError(absl::StrCat("cannot write ", path));
}

// Why calls failed, when some did: a figure measured over failures means nothing.
void PrintErrors(const std::string& what, const LoadResult& r) {
  for (const auto& [kind, count] : r.errors_by_kind) {
    std::cout << "  " << what << ": " << count << " failed: " << kind << std::endl;
  }
}

// The gateway's audit lines of HTTP calls that were not answered OK, counted by decision and
// status (the same file holds the gRPC runs' lines).
void PrintRefusals(const std::string& audit_path) {
  std::ifstream in(audit_path);
  std::map<std::string, int64_t> counts;
  for (std::string line; std::getline(in, line);) {
    nlohmann::json entry = nlohmann::json::parse(line, nullptr, false);
    if (!entry.is_object() || !absl::StartsWith(entry.value("method", ""), "POST ")) continue;
    const std::string status = entry.value("status", "");
    if (status == "OK" || status == "200") continue;
    ++counts[absl::StrCat(entry.value("decision", "?"), " ", entry.value("status", "?"))];
  }
  for (const auto& [kind, count] : counts) {
    std::cout << "  audit: " << count << " answered " << kind << std::endl;
  }
}

// One request by curl after a run that had failures, to print what the gateway answered (the
// audit says only the status).
void ProbeOnce(int port, const std::string& body, const std::string& token) {
  auto curl = testing::Subprocess::Start(
      {.argv = {"curl", "-sS", "-X", "POST", "-H", "Content-Type: application/json", "-H",
                absl::StrCat("Authorization: Bearer ", token), "--data", body, "-w",
                " (HTTP %{http_code})",
                absl::StrCat("http://127.0.0.1:", port, "/get-online-features")}});
  if (!curl.ok() || !(*curl)->Wait(absl::Seconds(30)).ok()) return;
  std::string out = (*curl)->Output();
  if (out.size() > 400) out = out.substr(0, 200) + " ... " + out.substr(out.size() - 100);
  std::cout << "  a request after the run: " << out << std::endl;
}

struct Paced {
  double p50_us = 0;
  double p99_us = 0;
  double cpu_us = 0;  // the measured process's CPU per request
  int64_t errors = 0;
};

Paced RunPaced(const std::string& target, const std::vector<Request>& requests,
               const std::vector<std::pair<std::string, std::string>>& metadata, pid_t measured,
               const Flags& flags) {
  absl::Duration cpu_before = CpuTime(measured);
  LoadResult r = RunLoad({.target = target,
                          .rate = flags.rate,
                          .concurrency = 1000,
                          .duration = absl::Seconds(flags.seconds),
                          .requests = &requests,
                          .metadata = metadata,
                          .check_every = 50});
  absl::Duration cpu = CpuTime(measured) - cpu_before;
  Paced p;
  p.p50_us = absl::ToDoubleMicroseconds(Percentile(r.latencies, 50));
  p.p99_us = absl::ToDoubleMicroseconds(Percentile(r.latencies, 99));
  // The warm-up's requests are in the CPU time too: count them.
  double requests_sent = r.throughput * (flags.seconds + 1);
  p.cpu_us = requests_sent > 0 ? absl::ToDoubleMicroseconds(cpu) / requests_sent : 0;
  p.errors = r.errors;
  PrintErrors(target, r);
  return p;
}

struct Wrk {
  double rps = 0;
  int64_t bad = 0;
  double cpu_us = 0;
};

// wrk, closed loop, one thread, POSTing `body` with the token; the gateway's CPU per request.
absl::StatusOr<Wrk> RunWrk(int port, const std::string& script, pid_t gateway, const Flags& flags) {
  absl::Duration cpu_before = CpuTime(gateway);
  ASSIGN_OR_RETURN(
      auto wrk,
      testing::Subprocess::Start(
          {.argv = {"wrk", "-t1", absl::StrCat("-c", flags.http_connections),
                    absl::StrCat("-d", static_cast<int>(flags.seconds), "s"), "-s", script,
                    absl::StrCat("http://127.0.0.1:", port, "/get-online-features")}}));
  ASSIGN_OR_RETURN(int code, wrk->Wait(absl::Seconds(flags.seconds + 60)));
  absl::Duration cpu = CpuTime(gateway) - cpu_before;
  std::string output = wrk->Output();
  if (!WIFEXITED(code) || WEXITSTATUS(code) != 0) {
    return absl::InternalError(absl::StrCat("wrk failed: ", output));
  }
  Wrk w;
  size_t at = output.find("Requests/sec:");
  if (at == std::string::npos) return absl::InternalError(absl::StrCat("wrk said: ", output));
  w.rps = std::stod(output.substr(at + 13));
  at = output.find("Non-2xx or 3xx responses:");
  if (at != std::string::npos) w.bad = std::stoll(output.substr(at + 25));
  at = output.find(" requests in ");
  size_t start = output.rfind('\n', at);
  double requests = std::stod(output.substr(start + 1, at - start - 1));
  w.cpu_us = requests > 0 ? absl::ToDoubleMicroseconds(cpu) / requests : 0;
  return w;
}

int Main(int argc, char** argv) {
  Flags flags;
  CLI::App app{"gateway benchmark"};
  app.add_option("--bin_dir", flags.bin_dir, "where services/*/* binaries are");
  app.add_option("--out", flags.out);
  app.add_option("--entities", flags.entities);
  app.add_option("--rate", flags.rate, "paced requests per second");
  app.add_option("--runs", flags.runs, "runs of each scenario (the median is reported)");
  app.add_option("--seconds", flags.seconds, "length of each measured run");
  app.add_option("--concurrency", flags.concurrency, "closed loop: gRPC calls in flight");
  app.add_option("--http_connections", flags.http_connections, "closed loop: wrk connections");
  CLI11_PARSE(app, argc, argv);

  std::cout << "starting the stack and filling Redis (" << flags.entities << " x " << kView.features
            << ")..." << std::endl;
  auto started = ServingStack::Start({.bin_dir = flags.bin_dir, .views = {kView}});
  if (!started.ok()) {
    std::cerr << started.status() << "\n";
    return 1;
  }
  ServingStack& s = **started;
  testing::TestStack& stack = s.test_stack();
  absl::Status ready = s.Populate(kView, flags.entities);
  // A permission to decide, as a deployment has: readers may READ_ONLINE.
  registry::v1::FeatureRepo repo = stack.repo();
  auto* readers = repo.add_permissions();
  readers->set_name("readers");
  readers->add_actions(registry::v1::Permission::READ_ONLINE);
  readers->mutable_policy()->add_roles("reader");
  if (ready.ok()) ready = stack.Apply(repo).status();
  const std::string secret = "bench-hs256-secret-of-at-least-32-bytes!!";
  if (ready.ok()) ready = WriteFile(stack.dir() + "/jwt.secret", secret);
  if (ready.ok()) ready = WriteFile(stack.dir() + "/gateway.secret", secret + "-signature");
  if (!ready.ok()) {
    std::cerr << ready << "\n";
    return 1;
  }
  auto token = auth::MintHs256Token(secret, {"bench", {"reader"}, {}}, absl::Now(), absl::Hours(2),
                                    "granary-bench", "granary");
  if (!token.ok()) {
    std::cerr << token.status() << "\n";
    return 1;
  }
  std::vector<std::pair<std::string, std::string>> auth = {
      {"authorization", absl::StrCat("Bearer ", *token)}};

  // One gateway per HTTP library; gRPC is measured on the first.
  struct Gateway {
    std::string library;
    int http_port = 0;
    testing::TestService* service = nullptr;
  };
  std::vector<Gateway> gateways = {{"civetweb"}, {"httplib"}};
  for (Gateway& g : gateways) {
    auto ports = testing::PickFreePorts(1);
    if (!ports.ok()) return 1;
    g.http_port = (*ports)[0];
    std::string section = absl::StrCat(
        "project: ", kBenchProject, ", upstreams: {serving: '", s.serving_address(),
        "'}, auth: {type: jwt, algorithms: [HS256], hs256_secret: {file: '", stack.dir(),
        "/jwt.secret'}, issuer: granary-bench, audiences: [granary]}, signature: {secret: {file: '",
        stack.dir(), "/gateway.secret'}}, audit: {path: '", stack.dir(), "/audit-", g.library,
        ".log'}, http: {address: '127.0.0.1:", g.http_port, "', library: ", g.library, "}");
    auto spawned = stack.Spawn("gateway", {.section = section, .server = "log_level: warning"});
    if (!spawned.ok()) {
      std::cerr << spawned.status() << "\n";
      return 1;
    }
    g.service = *spawned;
  }
  std::vector<Request> requests = BenchRequests(kView, flags.entities, 1, 10'000);
  const std::string gateway_target = gateways[0].service->address();
  // Wait until the gateway holds the catalog (its first call may find it loading).
  for (absl::Time give_up = absl::Now() + absl::Seconds(30);;) {
    LoadResult probe = RunLoad({.target = gateway_target,
                                .rate = 100,
                                .concurrency = 10,
                                .warmup = absl::ZeroDuration(),
                                .duration = absl::Seconds(0.2),
                                .requests = &requests,
                                .metadata = auth});
    if (probe.errors == 0 && probe.ok > 0) break;
    if (absl::Now() > give_up) {
      std::cerr << "the gateway did not answer: " << probe.errors_by_kind.begin()->first << "\n";
      return 1;
    }
  }

  Report report("gateway");
  std::vector<double> direct_p50, direct_p99, gw_p50, gw_p99, added_p50, added_p99, gw_cpu;
  int64_t errors = 0;
  for (int run = 0; run < flags.runs; ++run) {
    Paced direct = RunPaced(s.serving_address(), requests, {}, s.serving_pid(), flags);
    Paced through = RunPaced(gateway_target, requests, auth, gateways[0].service->pid(), flags);
    errors += direct.errors + through.errors;
    direct_p50.push_back(direct.p50_us);
    direct_p99.push_back(direct.p99_us);
    gw_p50.push_back(through.p50_us);
    gw_p99.push_back(through.p99_us);
    added_p50.push_back(through.p50_us - direct.p50_us);
    added_p99.push_back(through.p99_us - direct.p99_us);
    gw_cpu.push_back(through.cpu_us);
    std::cout << absl::StrFormat(
                     "run %d at %.0f req/s: direct p50 %.0f p99 %.0f us; gateway p50 %.0f p99 "
                     "%.0f us; gateway CPU %.1f us/request",
                     run + 1, flags.rate, direct.p50_us, direct.p99_us, through.p50_us,
                     through.p99_us, through.cpu_us)
              << std::endl;
  }
  std::string rate = absl::StrFormat("%.0f req/s, median of %d (spread ", flags.rate, flags.runs);
  report.Add({.name = absl::StrCat("1x50 added p50, ", rate, Spread(added_p50, "%.0f"), ")"),
              .value = Median(added_p50),
              .unit = "us",
              .raw = Median(direct_p50),
              .raw_name = "serving direct p50",
              .target = "<= 100 us",
              .met = Median(added_p50) <= 100});
  report.Add({.name = absl::StrCat("1x50 added p99, ", rate, Spread(added_p99, "%.0f"), ")"),
              .value = Median(added_p99),
              .unit = "us",
              .raw = Median(direct_p99),
              .raw_name = "serving direct p99",
              .target = "<= 300 us",
              .met = Median(added_p99) <= 300});
  report.Add({.name = absl::StrCat("gateway CPU per request (spread ", Spread(gw_cpu, "%.1f"), ")"),
              .value = Median(gw_cpu),
              .unit = "us"});

  // Closed loop, gRPC: through the gateway and straight to serving.
  LoadResult closed_direct = RunLoad({.target = s.serving_address(),
                                      .concurrency = flags.concurrency,
                                      .duration = absl::Seconds(flags.seconds),
                                      .requests = &requests,
                                      .check_every = 50});
  LoadResult closed_gateway = RunLoad({.target = gateway_target,
                                       .concurrency = flags.concurrency,
                                       .duration = absl::Seconds(flags.seconds),
                                       .requests = &requests,
                                       .metadata = auth,
                                       .check_every = 50});
  errors += closed_direct.errors + closed_gateway.errors;
  PrintErrors("closed loop, straight to serving", closed_direct);
  PrintErrors("closed loop, through the gateway", closed_gateway);
  report.Add({.name = "1x50 gRPC closed loop through the gateway",
              .value = closed_gateway.throughput,
              .unit = "req/s",
              .raw = closed_direct.throughput,
              .raw_name = "straight to serving"});

  // HTTP, closed loop, on each candidate.
  nlohmann::json body = {{"entities", {{kView.join_key, {7}}}},
                         {"features", nlohmann::json::array()}};
  for (int i = 0; i < kView.features; ++i) {
    body["features"].push_back(absl::StrFormat("%s:f%03d", kView.name, i));
  }
  const std::string script = stack.dir() + "/post.lua";
  absl::Status wrote =
      WriteFile(script, absl::StrCat("wrk.method = \"POST\"\nwrk.body = [[", body.dump(),
                                     "]]\nwrk.headers[\"Content-Type\"] = \"application/json\"\n"
                                     "wrk.headers[\"Authorization\"] = \"Bearer ",
                                     *token, "\"\n"));
  if (!wrote.ok()) {
    std::cerr << wrote << "\n";
    return 1;
  }
  for (const Gateway& g : gateways) {
    std::vector<double> rps, cpu;
    for (int run = 0; run < flags.runs; ++run) {
      auto w = RunWrk(g.http_port, script, g.service->pid(), flags);
      if (!w.ok()) {
        std::cerr << g.library << ": " << w.status() << "\n";
        return 1;
      }
      errors += w->bad;
      if (w->bad > 0) ProbeOnce(g.http_port, body.dump(), *token);
      rps.push_back(w->rps);
      cpu.push_back(w->cpu_us);
      std::cout << absl::StrFormat(
                       "HTTP %s run %d: %.0f req/s, gateway CPU %.1f us/request, %d non-2xx",
                       g.library, run + 1, w->rps, w->cpu_us, w->bad)
                << std::endl;
    }
    PrintRefusals(absl::StrCat(stack.dir(), "/audit-", g.library, ".log"));
    report.Add(
        {.name = absl::StrCat("HTTP POST /get-online-features 1x50 closed loop, ", g.library,
                              ", median of ", flags.runs, " (spread ", Spread(rps, "%.0f"), ")"),
         .value = Median(rps),
         .unit = "req/s",
         .raw = closed_gateway.throughput,
         .raw_name = "gRPC through the gateway",
         .target = ">= 10000 req/s",
         .met = Median(rps) >= 10000});
    report.Add({.name = absl::StrCat("HTTP gateway CPU per request, ", g.library),
                .value = Median(cpu),
                .unit = "us"});
  }
  report.Note(
      absl::StrCat("errors (non-2xx, failed calls, wrong answers) over all runs: ", errors));
  report.Note(
      "Serving runs without requiring the gateway's signature: the figures are the "
      "gateway's cost alone, not serving's HMAC check.");
  report.Publish(flags.out, std::cout);
  if (errors > 0) return 1;
  return report.AllMet() ? 0 : 3;
}

}  // namespace
}  // namespace granary::bench

int main(int argc, char** argv) { return granary::bench::Main(argc, argv); }
