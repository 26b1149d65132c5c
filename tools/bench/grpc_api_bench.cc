// Which gRPC server API serving should be built on: the same GetOnlineFeatures handler on the
// sync, completion-queue and callback APIs (grpc_api_probe_server, out of process), each with
// a canned answer and with one real Redis HMGET of 51 fields per call, measured by the
// load generator at its maximum (closed loop) and at 2,000 req/s (open loop, p99).
// "pipelined" is the callback API with Redis reads of concurrent calls sharing round trips:
// handlers queue their HMGET and return; an I/O thread per connection sends all that is queued
// at once and finishes each call as its reply arrives. That is what serving is built on.
//
//   tools/bench/run grpc_api
#include <unistd.h>

#include <algorithm>
#include <iostream>
#include <string>
#include <vector>

#include "CLI/CLI.hpp"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/synchronization/mutex.h"

#include "libs/testing/ports.h"
#include "libs/testing/redis_server.h"
#include "libs/testing/subprocess.h"
#include "tools/bench/cpu_time.h"
#include "tools/bench/loadgen.h"
#include "tools/bench/report.h"

namespace granary::bench {
namespace {

using testing::Subprocess;

std::string Dir(const std::string& path) {
  size_t slash = path.rfind('/');
  return slash == std::string::npos ? "." : path.substr(0, slash);
}

int Main(int argc, char** argv) {
  absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);
  CLI::App app{"gRPC server API comparison"};
  std::string out = "bench-results/grpc_api.json";
  std::string server = Dir(argv[0]) + "/grpc_api_probe_server";
  int cq_threads = 4;
  std::vector<std::string> only;
  double seconds = 3;
  int repeats = 3;
  app.add_option("--out", out);
  app.add_option("--server", server, "path of grpc_api_probe_server");
  app.add_option("--cq_threads", cq_threads);
  app.add_option("--only", only, "APIs to run (default: all)");
  app.add_option("--seconds", seconds, "measured seconds per run");
  app.add_option("--repeats", repeats, "runs per figure; the median is reported")
      ->check(CLI::PositiveNumber);
  CLI11_PARSE(app, argc, argv);

  auto redis = testing::RedisServer::Start();
  if (!redis.ok()) {
    std::cerr << redis.status() << "\n";
    return 1;
  }
  std::vector<serving::v1::GetOnlineFeaturesRequest> requests(1);
  requests[0].mutable_features()->add_val("driver_hourly_stats:conv_rate");
  (*requests[0].mutable_entities())["driver_id"].add_val()->set_int64_val(1001);

  Report report("grpc_api");
  std::vector<std::string> cpu_notes;
  for (const std::string work : {"canned", "redis"}) {
    for (const std::string api : {"sync", "cq", "cq_health", "callback", "pipelined"}) {
      if (api == "pipelined" && work == "canned") continue;
      if (!only.empty() && std::find(only.begin(), only.end(), api) == only.end()) continue;
      auto port = testing::PickFreePort();
      if (!port.ok()) return 1;
      // cq_health: the completion-queue server with gRPC's default health service beside it.
      std::vector<std::string> args = {server, "--api=" + api.substr(0, api.find('_')),
                                       absl::StrCat("--port=", *port),
                                       absl::StrCat("--threads=", cq_threads)};
      if (api == "cq_health") args.push_back("--health");
      if (work == "redis") args.push_back("--redis=" + (*redis)->address());
      auto process = Subprocess::Start({.argv = args});
      if (!process.ok() || !(*process)->WaitForOutput("ready", absl::Seconds(10)).ok()) {
        std::cerr << "probe server did not start\n";
        return 1;
      }
      LoadOptions load{.target = absl::StrCat("127.0.0.1:", *port),
                       .concurrency = 64,
                       .duration = absl::Seconds(seconds),
                       .requests = &requests};
      // Medians over repeats: the machine is shared, single runs vary by a fifth.
      std::vector<double> throughputs;
      std::vector<absl::Duration> p99s;
      int64_t errors = 0;
      absl::Duration cpu[3] = {CpuTime(), CpuTime((*process)->pid()), CpuTime((*redis)->pid())};
      double calls = 0;
      for (int i = 0; i < repeats; ++i) {
        load.rate = 0;
        LoadResult max = RunLoad(load);
        throughputs.push_back(max.throughput);
        calls += static_cast<double>(max.ok + max.errors);
        errors += max.errors;
      }
      auto per_call = [&](absl::Duration used) {
        return absl::StrFormat("%.1f", absl::ToDoubleMicroseconds(used) / calls);
      };
      cpu_notes.push_back(absl::StrCat(
          api, ", ", work, ": CPU per call at max, us: load generator ",
          per_call(CpuTime() - cpu[0]), ", server ", per_call(CpuTime((*process)->pid()) - cpu[1]),
          ", redis ", per_call(CpuTime((*redis)->pid()) - cpu[2])));
      absl::Duration paced_cpu = CpuTime((*process)->pid());
      double paced_calls = 0;
      for (int i = 0; i < repeats; ++i) {
        load.rate = 2000;
        LoadResult paced = RunLoad(load);
        p99s.push_back(Percentile(paced.latencies, 99));
        paced_calls += paced.throughput * absl::ToDoubleSeconds(load.duration + load.warmup);
        errors += paced.errors;
      }
      paced_cpu = CpuTime((*process)->pid()) - paced_cpu;
      cpu_notes.push_back(absl::StrFormat("%s, %s: server CPU per call at 2,000 req/s: %.1f us",
                                          api, work,
                                          absl::ToDoubleMicroseconds(paced_cpu) / paced_calls));
      (void)(*process)->Stop();
      std::sort(throughputs.begin(), throughputs.end());
      std::sort(p99s.begin(), p99s.end());
      std::string name = absl::StrCat(api, ", ", work);
      report.Add({.name = name + ": max throughput",
                  .value = throughputs[throughputs.size() / 2],
                  .unit = "req/s"});
      report.Add({.name = name + ": p99 at 2,000 req/s",
                  .value = Ms(p99s[p99s.size() / 2]),
                  .unit = "ms"});
      if (errors > 0) report.Note(absl::StrFormat("%s: %d errors", name, errors));
    }
  }
  report.Note(absl::StrCat("completion-queue threads: ", cq_threads,
                           "; 64 requests in flight over 2 connections; medians of ", repeats,
                           " runs of ", seconds, " s; client, server and Redis share the cores"));
  for (std::string& note : cpu_notes) report.Note(std::move(note));
  report.Print(std::cout);
  return report.WriteJson(out).ok() ? 0 : 1;
}

}  // namespace
}  // namespace granary::bench

int main(int argc, char** argv) { return granary::bench::Main(argc, argv); }
