// The serving benchmark: GetOnlineFeatures on the serving binary (its own process) over Redis
// filled in Feast's layout, driven by the async load generator with keys drawn at random from
// the populated keyspace; every response is checked (all values PRESENT). Beside each figure,
// the raw backend's for the same reads on the same Redis (HGETALL of hashes with as many
// fields as serving's, which serving reads whole), measured in the same run: paced alone at the
// scenario's rate by one connection for the latencies, redis-benchmark for throughput. Each
// scenario runs --runs times (3) and prints the median and the range; a latency target is met
// only when every run meets it:
//
//   1 x 50 at 2,000 req/s          p99 <= 1 ms (--separated: 0.5 ms); serving's CPU per
//                                  request <= 1.3x that of a canned reply of the same size
//                                  from a bare completion-queue gRPC server
//                                  (grpc_api_probe_server) at the same rate
//   1 x 50 closed loop             ratio to redis-benchmark HMGET of every field at the same
//                                  concurrency >= 0.5 (and, printed, to its HGETALL)
//   1 x 50 maximum                 >= 20,000 req/s at p99 <= 5 ms
//   1 x 250 at 1,000 req/s         p99 <= 2 ms
//   100 x 50 at 200 req/s          p99 <= 5 ms
//
// Every paced run also prints the client's p50 / p99 / p99.9, the server's own p50 / p99 (its
// latency histogram), serving's CPU per request (/proc), how late the generator itself sent
// (its p99), and, per thread name, the CPU and context switches per request of serving, the
// generator and Redis. --separated pins Redis and the generator to CPU 0 and serving to CPU 1,
// so that serving's own tail shows without the generator taking its core.
//   1 x 50 + 5 on-demand outputs   p99 within 10% of the same requests without them, with
//   at 2,000 req/s                 serving's CPU per request for both
//
//   tools/bench/run serving
#include <unistd.h>

#include <algorithm>
#include <iostream>
#include <random>

#include "CLI/CLI.hpp"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"
#include "absl/synchronization/mutex.h"

#include "libs/base/log.h"
#include "libs/base/status_macros.h"
#include "libs/testing/ports.h"
#include "libs/testing/subprocess.h"
#include "tools/bench/cpu_time.h"
#include "tools/bench/histogram_scrape.h"
#include "tools/bench/loadgen.h"
#include "tools/bench/paced_redis.h"
#include "tools/bench/proc_threads.h"
#include "tools/bench/report.h"
#include "tools/bench/serving_stack.h"
#include "tools/bench/wake_probe.h"

namespace granary::bench {
namespace {

using Request = serving::v1::GetOnlineFeaturesRequest;
using Response = serving::v1::GetOnlineFeaturesResponse;

struct Flags {
  std::string out = "bench-results/serving.json";
  // Where services/serving/serving is.
  std::string bin_dir;
  int entities = 100'000;
  int wide_entities = 20'000;
  double seconds = 10;
  int concurrency = 64;
  // Which parts to run (all by default): paced, closed, search, wide, ondemand, batch.
  std::vector<std::string> only;
  std::vector<std::string> serving_env;
  std::vector<std::string> serving_config;
  int runs = 3;
  bool separated = false;
  bool keep_registry = false;
  // The bare gRPC server of the canned reply (grpc_api_probe_server).
  std::string probe_server;
  bool Runs(const std::string& part) const {
    return only.empty() || std::find(only.begin(), only.end(), part) != only.end();
  }
};

constexpr int kOpenLoopInFlight = 1000;

const BenchView kNarrow{"narrow", "driver_id", 50};
const BenchView kWide{"wide", "rider_id", 250};

// Every entity was populated: anything but PRESENT is a wrong answer.
bool AllPresent(const Response& r) {
  if (r.results_size() < 2) return false;
  for (const auto& column : r.results()) {
    for (int status : column.statuses()) {
      if (status != serving::v1::PRESENT) return false;
    }
  }
  return true;
}

LoadResult Load(const std::string& target, const std::vector<Request>& requests, double rate,
                const Flags& flags, double seconds = 0) {
  return RunLoad({.target = target,
                  .rate = rate,
                  // Closed loop: this many in flight. Open loop: a bound that only a server
                  // far behind its schedule reaches (each request then counts as an error).
                  .concurrency = rate > 0 ? kOpenLoopInFlight : flags.concurrency,
                  .warmup = absl::Seconds(1),
                  .duration = absl::Seconds(seconds > 0 ? seconds : flags.seconds),
                  .timeout = absl::Seconds(1),
                  .requests = &requests,
                  .check = AllPresent,
                  // Paced runs check every answer; at the ceiling, one in four (the parse
                  // would otherwise take CPU from the server it measures).
                  .check_every = rate > 0 && rate <= 2000 ? 1 : 4});
}

std::string Errors(const LoadResult& r) {
  std::string out;
  for (const auto& [kind, n] : r.errors_by_kind) absl::StrAppend(&out, " ", kind, "=", n);
  return out;
}

// The figures of one run, shared by the parts.
struct Context {
  const Flags& flags;
  ServingStack& stack;
  Report& report;
  // redis-benchmark: HMGET of every field, 64 clients (the closed loop's yardstick), and
  // HGETALL (the reads serving makes) for the others.
  RawFigures raw_max, raw_one, raw_wide, raw_batch, raw_max_whole;
  std::vector<Request> one_narrow, one_wide, batch;
  // The same reads of the raw keyspace, for Redis paced alone.
  std::vector<std::vector<std::vector<std::string>>> redis_one_narrow, redis_one_wide, redis_batch;
  double ceiling = 0;
};

// Serving's own latency histogram for the method the load calls.
HistogramScrape ServerLatency(const ServingStack& stack) {
  absl::StatusOr<std::string> text = stack.ServingScrape();
  return HistogramScrape::Parse(
      text.ok() ? *text : "", "grpc_server_handling_seconds",
      {"grpc_method=\"GetOnlineFeatures\"", "grpc_service=\"granary.serving.v1.ServingService\""});
}

// A paced scenario's figures over its runs (one entry per run).
struct PacedFigures {
  std::vector<double> p50, p99, p999, lag_p99, server_p50, server_p99, cpu_us;
  // Redis alone, paced at the same rate with the same reads, one connection.
  std::vector<double> raw_p50, raw_p99, raw_p999, raw_lag_p99;
  // Per second of the run, in ms of CPU: what the hypervisor stole, what processes other than
  // serving, Redis and the generator took (with what the kernel did outside any process), and
  // what the machine counted in interrupts. Interrupts overlap the others: with tick-based
  // accounting (this kernel's) an interrupt's tick is also charged to the process it
  // interrupted; with IRQ time accounting it is charged to none, so it is in "others".
  std::vector<double> steal_ms, interrupts_ms, others_ms;
  // Per request, how long the process's threads were runnable but not running.
  std::vector<double> serving_wait_us, generator_wait_us, redis_wait_us;
  int64_t errors = 0;
  std::string errors_by_kind;
  std::string threads;  // of the last run
};

// One paced run against serving: the client's percentiles and send lag, the server's own
// percentiles, serving's CPU per request handled, and the threads' CPU and context switches.
void PacedRun(Context& c, const std::vector<Request>& requests, double rate, PacedFigures& f) {
  const pid_t serving = c.stack.serving_pid(), redis = c.stack.redis_pid();
  const HistogramScrape server_before = ServerLatency(c.stack);
  const ThreadCounts serving_threads = ThreadsOf(serving), generator_threads = ThreadsOf(),
                     redis_threads = ThreadsOf(redis);
  const absl::Duration cpu_before = CpuTime(serving), ours_before = CpuTime() + CpuTime(redis);
  const MachineCpu machine_before = MachineCpuTime();
  const absl::Time started = absl::Now();
  LoadResult r = Load(c.stack.serving_address(), requests, rate, c.flags);
  const double seconds = absl::ToDoubleSeconds(absl::Now() - started);
  const absl::Duration cpu = CpuTime(serving) - cpu_before;
  const MachineCpu machine = MachineCpuTime();
  const absl::Duration others =
      (machine.busy - machine_before.busy) - cpu - (CpuTime() + CpuTime(redis) - ours_before);
  f.steal_ms.push_back(Ms(machine.steal - machine_before.steal) / seconds);
  f.interrupts_ms.push_back(Ms(machine.interrupts - machine_before.interrupts) / seconds);
  f.others_ms.push_back(Ms(others) / seconds);
  // Warm-up included on both sides: every request serving handled, against all its CPU.
  const HistogramScrape server = ServerLatency(c.stack).Minus(server_before);
  const double handled = std::max(1.0, server.count());
  f.p50.push_back(Ms(Percentile(r.latencies, 50)));
  f.p99.push_back(Ms(Percentile(r.latencies, 99)));
  f.p999.push_back(Ms(Percentile(r.latencies, 99.9)));
  f.lag_p99.push_back(Ms(Percentile(r.send_lags, 99)));
  f.server_p50.push_back(1000 * server.Quantile(0.5));
  f.server_p99.push_back(1000 * server.Quantile(0.99));
  f.cpu_us.push_back(absl::ToDoubleMicroseconds(cpu) / handled);
  f.errors += r.errors;
  absl::StrAppend(&f.errors_by_kind, Errors(r));
  const ThreadCounts serving_after = ThreadsOf(serving), generator_after = ThreadsOf(),
                     redis_after = ThreadsOf(redis);
  f.serving_wait_us.push_back(absl::ToDoubleMicroseconds(RunDelay(serving_threads, serving_after)) /
                              handled);
  f.generator_wait_us.push_back(
      absl::ToDoubleMicroseconds(RunDelay(generator_threads, generator_after)) / handled);
  f.redis_wait_us.push_back(absl::ToDoubleMicroseconds(RunDelay(redis_threads, redis_after)) /
                            handled);
  f.threads =
      absl::StrCat("serving: ", PerRequest(serving_threads, serving_after, handled),
                   " | generator: ", PerRequest(generator_threads, generator_after, handled),
                   " | Redis: ", PerRequest(redis_threads, redis_after, handled));
}

// The canned 1 x 50 reply of a bare completion-queue gRPC server (one thread, as serving's
// default on two cores) at `rate`: its CPU per request and client p99, the floor serving is
// measured against.
struct CannedRun {
  double cpu_us = 0;
  double p99 = 0;
};
absl::StatusOr<CannedRun> Canned(Context& c, double rate) {
  ASSIGN_OR_RETURN(int port, testing::PickFreePort());
  ASSIGN_OR_RETURN(
      std::unique_ptr<testing::Subprocess> probe,
      testing::Subprocess::Start({.argv = {c.flags.probe_server, "--api=cq",
                                           absl::StrCat("--port=", port), "--threads=1"}}));
  RETURN_IF_ERROR(probe->WaitForOutput("ready", absl::Seconds(10)));
  if (c.flags.separated) RETURN_IF_ERROR(PinToCpu(probe->pid(), 1));
  const absl::Duration before = CpuTime(probe->pid());
  LoadResult r = Load(absl::StrCat("127.0.0.1:", port), c.one_narrow, rate, c.flags);
  const absl::Duration cpu = CpuTime(probe->pid()) - before;
  (void)probe->Stop();
  const double sent =
      rate * absl::ToDoubleSeconds(absl::Seconds(1) + absl::Seconds(c.flags.seconds));
  if (r.errors > 0) return absl::InternalError(absl::StrCat("canned replies failed:", Errors(r)));
  return CannedRun{.cpu_us = absl::ToDoubleMicroseconds(cpu) / sent,
                   .p99 = Ms(Percentile(r.latencies, 99))};
}

// Redis alone at the scenario's rate, right after its run: the raw backend's paced tail.
absl::Status RawPacedRun(Context& c,
                         const std::vector<std::vector<std::vector<std::string>>>& requests,
                         double rate, PacedFigures& f) {
  ASSIGN_OR_RETURN(PacedRedisResult r, RunPacedRedis({.port = c.stack.redis_port(),
                                                      .rate = rate,
                                                      .duration = absl::Seconds(c.flags.seconds),
                                                      .requests = &requests}));
  f.raw_p50.push_back(Ms(Percentile(r.latencies, 50)));
  f.raw_p99.push_back(Ms(Percentile(r.latencies, 99)));
  f.raw_p999.push_back(Ms(Percentile(r.latencies, 99.9)));
  f.raw_lag_p99.push_back(Ms(Percentile(r.send_lags, 99)));
  return absl::OkStatus();
}

// A target is met when it is in each of at least 3 runs (one run proves little here).
template <typename Meets>
bool EveryRun(const Context& c, const std::vector<double>& figures, Meets meets) {
  return c.flags.runs >= 3 && static_cast<int>(figures.size()) == c.flags.runs &&
         std::all_of(figures.begin(), figures.end(), meets);
}

std::string Join(const std::vector<double>& values) {
  return absl::StrJoin(values, ", ", [](std::string* out, double v) {
    absl::StrAppend(out, absl::StrFormat("%.2f", v));
  });
}

// `name` at `rate`, --runs times: the p99 against `target` (met when every run meets it),
// beside Redis paced alone with the same reads (`raw`, named `raw_name`) after each run, and
// redis-benchmark's unpaced p99 for them (`unpaced_p99`).
PacedFigures Paced(Context& c, const std::vector<Request>& requests, double rate,
                   const std::string& name,
                   const std::vector<std::vector<std::vector<std::string>>>& raw,
                   const std::string& raw_name, double unpaced_p99, absl::Duration target,
                   std::vector<CannedRun>* canned = nullptr) {
  PacedFigures f;
  for (int run = 0; run < c.flags.runs; ++run) {
    PacedRun(c, requests, rate, f);
    if (absl::Status paced = RawPacedRun(c, raw, rate, f); !paced.ok()) {
      c.report.Note(absl::StrCat("Redis paced alone: ", paced.ToString()));
    }
    if (canned == nullptr) continue;
    absl::StatusOr<CannedRun> floor = Canned(c, rate);
    if (!floor.ok()) {
      c.report.Note(absl::StrCat("canned reply: ", floor.status().ToString()));
      continue;
    }
    canned->push_back(*floor);
  }
  const bool every_run_met = EveryRun(c, f.p99, [&](double p) { return p <= Ms(target); });
  c.report.Add({.name = absl::StrCat(name, ": p99"),
                .value = SpreadOf(f.p99).median,
                .unit = "ms",
                .raw = SpreadOf(f.raw_p99).median,
                .raw_name = absl::StrCat(raw_name, ", paced at the same rate, p99"),
                .target = absl::StrCat("<= ", absl::FormatDuration(target), " in every run"),
                .met = every_run_met && f.errors == 0});
  c.report.Note(absl::StrFormat(
      "%s, %d runs (median (range)): client p50 %s ms, p99 %s ms [%s], p99.9 %s ms; server "
      "p50 %s ms, p99 %s ms; serving CPU %s us per request; generator send lag p99 %s ms; "
      "per second of the run: %s ms stolen by the hypervisor, %s ms in interrupts (irq, "
      "softirq, also counted in processes or others), %s ms of CPU taken by other processes "
      "and the kernel outside processes (negative: accounting noise); errors %d%s",
      name, c.flags.runs, Show(SpreadOf(f.p50), 3), Show(SpreadOf(f.p99), 3), Join(f.p99),
      Show(SpreadOf(f.p999), 3), Show(SpreadOf(f.server_p50), 3), Show(SpreadOf(f.server_p99), 3),
      Show(SpreadOf(f.cpu_us), 1), Show(SpreadOf(f.lag_p99), 3), Show(SpreadOf(f.steal_ms), 1),
      Show(SpreadOf(f.interrupts_ms), 1), Show(SpreadOf(f.others_ms), 1), f.errors,
      f.errors_by_kind));
  c.report.Note(absl::StrFormat(
      "%s, the raw backend, %d runs: %s paced alone at the same rate: p50 %s ms, p99 %s ms "
      "[%s], p99.9 %s ms, its send lag p99 %s ms; the same unpaced (redis-benchmark, 1 "
      "client): p99 %.3f ms",
      name, static_cast<int>(f.raw_p99.size()), raw_name, Show(SpreadOf(f.raw_p50), 3),
      Show(SpreadOf(f.raw_p99), 3), Join(f.raw_p99), Show(SpreadOf(f.raw_p999), 3),
      Show(SpreadOf(f.raw_lag_p99), 3), unpaced_p99));
  c.report.Note(absl::StrFormat(
      "%s, runnable but waiting for a CPU, per request (schedstat run delay): serving %s us, "
      "generator %s us, Redis %s us",
      name, Show(SpreadOf(f.serving_wait_us), 1), Show(SpreadOf(f.generator_wait_us), 1),
      Show(SpreadOf(f.redis_wait_us), 1)));
  c.report.Note(absl::StrCat(name, ", per thread name, per request (last run): ", f.threads));
  return f;
}

void PacedNarrow(Context& c) {
  std::vector<CannedRun> canned;
  const absl::Duration target = absl::Microseconds(c.flags.separated ? 500 : 1000);
  PacedFigures f = Paced(
      c, c.one_narrow, 2000, "1 x 50 at 2,000 req/s", c.redis_one_narrow,
      absl::StrFormat("Redis HGETALL of a %d-field hash, 1 connection", FieldsStored(kNarrow)),
      c.raw_one.p99_ms, target, &canned);
  if (canned.size() != f.cpu_us.size()) return;  // noted where it failed
  std::vector<double> floor_cpu, floor_p99, ratios;
  for (size_t i = 0; i < canned.size(); ++i) {
    floor_cpu.push_back(canned[i].cpu_us);
    floor_p99.push_back(canned[i].p99);
    ratios.push_back(f.cpu_us[i] / canned[i].cpu_us);
  }
  const Spread ratio = SpreadOf(ratios);
  c.report.Add({.name = "1 x 50 at 2,000 req/s: serving CPU per request",
                .value = SpreadOf(f.cpu_us).median,
                .unit = "us",
                .raw = SpreadOf(floor_cpu).median,
                .raw_name = "a canned 1 x 50 reply from a bare completion-queue gRPC server",
                .target = "<= 1.3x the canned reply in every run",
                .met = EveryRun(c, ratios, [](double r) { return r <= 1.3; })});
  c.report.Note(absl::StrFormat(
      "canned 1 x 50 reply at 2,000 req/s: server CPU %s us per request, client p99 %s ms; "
      "serving's CPU / the canned reply's, per run: %s",
      Show(SpreadOf(floor_cpu), 1), Show(SpreadOf(floor_p99), 3), Show(ratio, 2)));
  for (std::string& line : WakeFloorNotes(c.flags.runs)) c.report.Note(std::move(line));
}

// Closed loop, --runs times: the ceiling, and where the CPU goes.
void Closed(Context& c) {
  const pid_t serving = c.stack.serving_pid(), redis = c.stack.redis_pid();
  std::vector<double> throughput, ratio, serving_cpu, redis_cpu, generator_cpu, p99;
  int64_t errors = 0;
  std::string error_kinds;
  for (int run = 0; run < c.flags.runs; ++run) {
    const HistogramScrape server_before = ServerLatency(c.stack);
    absl::Duration cpu[3] = {CpuTime(), CpuTime(serving), CpuTime(redis)};
    LoadResult closed = Load(c.stack.serving_address(), c.one_narrow, 0, c.flags);
    const double handled = std::max(1.0, ServerLatency(c.stack).Minus(server_before).count());
    generator_cpu.push_back(absl::ToDoubleMicroseconds(CpuTime() - cpu[0]) / handled);
    serving_cpu.push_back(absl::ToDoubleMicroseconds(CpuTime(serving) - cpu[1]) / handled);
    redis_cpu.push_back(absl::ToDoubleMicroseconds(CpuTime(redis) - cpu[2]) / handled);
    throughput.push_back(closed.throughput);
    ratio.push_back(closed.throughput / c.raw_max.rps);
    p99.push_back(Ms(Percentile(closed.latencies, 99)));
    errors += closed.errors;
    absl::StrAppend(&error_kinds, Errors(closed));
  }
  const Spread ratios = SpreadOf(ratio);
  c.report.Add({.name = "1 x 50 closed loop: throughput",
                .value = SpreadOf(throughput).median,
                .unit = "req/s",
                .raw = c.raw_max.rps,
                .raw_name = absl::StrFormat("redis-benchmark HMGET of 52 fields, %d clients",
                                            c.flags.concurrency),
                .target = "ratio >= 0.5 in every run",
                .met = errors == 0 && EveryRun(c, ratio, [](double r) { return r >= 0.5; })});
  std::vector<double> whole_ratio;
  for (double t : throughput) whole_ratio.push_back(t / c.raw_max_whole.rps);
  c.report.Add(
      {.name = "1 x 50 closed loop: throughput, against the reads serving makes",
       .value = SpreadOf(throughput).median,
       .unit = "req/s",
       .raw = c.raw_max_whole.rps,
       .raw_name = absl::StrFormat("redis-benchmark HGETALL of %d-field hashes, %d clients",
                                   FieldsStored(kNarrow), c.flags.concurrency),
       .target = ""});
  c.report.Note(absl::StrFormat(
      "closed loop, %d in flight, %d runs: %s req/s, ratio to redis-benchmark HMGET (%.0f "
      "req/s) %s, to redis-benchmark HGETALL, the reads serving makes (%.0f req/s), %s; p99 %s "
      "ms, errors %d%s; CPU per request, us: serving %s, Redis %s, load generator %s",
      c.flags.concurrency, c.flags.runs, Show(SpreadOf(throughput), 0), c.raw_max.rps,
      Show(ratios, 2), c.raw_max_whole.rps, Show(SpreadOf(whole_ratio), 2), Show(SpreadOf(p99), 3),
      errors, error_kinds, Show(SpreadOf(serving_cpu), 1), Show(SpreadOf(redis_cpu), 1),
      Show(SpreadOf(generator_cpu), 1)));
  c.ceiling = SpreadOf(throughput).median;
}

// The highest rate served with p99 <= 5 ms and no errors, stepping down from the ceiling.
void Search(Context& c) {
  double best = 0;
  double start = c.ceiling > 0 ? c.ceiling * 1.05 : 30000;
  for (double rate = start; rate >= 1000; rate *= 0.9) {
    LoadResult r = Load(c.stack.serving_address(), c.one_narrow, rate, c.flags,
                        std::min(c.flags.seconds, 5.0));
    absl::Duration q = Percentile(r.latencies, 99);
    c.report.Note(
        absl::StrFormat("  open loop at %.0f req/s: served %.0f req/s, p99 %.3f ms, "
                        "errors %d%s",
                        rate, r.throughput, Ms(q), r.errors, Errors(r)));
    if (r.errors == 0 && q <= absl::Milliseconds(5)) {
      best = r.throughput;
      break;
    }
  }
  c.report.Add({.name = "1 x 50 maximum at p99 <= 5 ms",
                .value = best,
                .unit = "req/s",
                .raw = c.raw_max.rps,
                .raw_name = absl::StrFormat("redis-benchmark HMGET of 52 fields, %d clients",
                                            c.flags.concurrency),
                .target = ">= 20000 req/s",
                .met = best >= 20000});
}

// On-demand features: the 1 x 50 requests at 2,000 req/s, alone and with 5 on-demand outputs
// computed from features they read anyway, in alternating runs (3 of each), with the serving
// process's CPU time per request, the figure noise moves least.
void OnDemand(Context& c) {
  // 0: without; 1: with 5 outputs computed at read time; 2: the same 5 stored at write time.
  std::vector<Request> variants[3] = {c.one_narrow, c.one_narrow, c.one_narrow};
  for (int v = 1; v <= 2; ++v) {
    const std::string view = v == 1 ? OnDemandViewOf(kNarrow) : WriteTimeViewOf(kNarrow);
    for (Request& r : variants[v]) {
      for (int i = 0; i < kOnDemandOutputs; ++i) {
        r.mutable_features()->add_val(absl::StrFormat("%s:o%d", view, i));
      }
    }
  }
  const pid_t serving = c.stack.serving_pid();
  std::vector<double> p99[3], cpu[3];
  int errors = 0;
  for (int round = 0; round < 3; ++round) {
    for (int v = 0; v < 3; ++v) {
      const absl::Duration before = CpuTime(serving);
      LoadResult r = Load(c.stack.serving_address(), variants[v], 2000, c.flags);
      const double calls = std::max(1.0, static_cast<double>(r.ok + r.errors));
      cpu[v].push_back(absl::ToDoubleMicroseconds(CpuTime(serving) - before) / calls);
      p99[v].push_back(Ms(Percentile(r.latencies, 99)));
      errors += r.errors;
    }
  }
  const double without_p99 = SpreadOf(p99[0]).median, with_p99 = SpreadOf(p99[1]).median;
  const double stored_p99 = SpreadOf(p99[2]).median;
  c.report.Add({.name = "1 x 50 + 5 on-demand outputs at 2,000 req/s: p99",
                .value = with_p99,
                .unit = "ms",
                .raw = without_p99,
                .raw_name = "the same requests without the on-demand outputs, p99",
                .target = "<= 1.1x without",
                .met = with_p99 <= 1.1 * without_p99 && errors == 0});
  c.report.Add({.name = "1 x 50 + 5 write-time outputs (stored) at 2,000 req/s: p99",
                .value = stored_p99,
                .unit = "ms",
                .raw = without_p99,
                .raw_name = "the same requests without the outputs, p99",
                .target = "<= 1.1x without",
                .met = stored_p99 <= 1.1 * without_p99 && errors == 0});
  c.report.Note(absl::StrFormat(
      "on-demand: serving CPU per request %.1f us with 5 outputs computed, %.1f us with 5 "
      "stored at write time, %.1f us without (medians of 3 alternating runs); p99 computed %s "
      "ms, stored %s ms, without %s ms; errors %d",
      SpreadOf(cpu[1]).median, SpreadOf(cpu[2]).median, SpreadOf(cpu[0]).median,
      absl::StrJoin(p99[1], ", ", absl::StreamFormatter()),
      absl::StrJoin(p99[2], ", ", absl::StreamFormatter()),
      absl::StrJoin(p99[0], ", ", absl::StreamFormatter()), errors));
}

int Run(const Flags& flags) {
  base::SetLogLevel(base::LogLevel::kWarning);
  std::cout << "starting the stack and filling Redis (" << flags.entities << " x "
            << kNarrow.features << ", " << flags.wide_entities << " x " << kWide.features << ")..."
            << std::endl;
  auto stack = ServingStack::Start({.bin_dir = flags.bin_dir,
                                    .serving_env = flags.serving_env,
                                    .serving_config = flags.serving_config,
                                    .views = {kNarrow, kWide}});
  if (!stack.ok()) {
    std::cerr << stack.status() << "\n";
    return 1;
  }
  ServingStack& s = **stack;
  for (auto [view, n] : {std::pair{kNarrow, flags.entities}, {kWide, flags.wide_entities}}) {
    if (absl::Status st = s.Populate(view, n); !st.ok()) {
      std::cerr << st << "\n";
      return 1;
    }
  }
  // The registry runs in this process: with it stopped, no server of gRPC's here takes the
  // load generator's socket events (serving holds its catalog).
  if (!flags.keep_registry) s.test_stack().StopRegistry();
  if (flags.separated) {
    // Threads started later (the generator's channels, redis-benchmark) inherit the pinning.
    for (auto [pid, cpu] : {std::pair{s.serving_pid(), 1}, {s.redis_pid(), 0}, {0, 0}}) {
      if (absl::Status pinned = PinToCpu(pid, cpu); !pinned.ok()) {
        std::cerr << pinned << "\n";
        return 1;
      }
    }
  }
  const int narrow_fields = FieldsRead(kNarrow), wide_fields = FieldsRead(kWide);
  auto raw_max = s.RedisBenchmark(narrow_fields, flags.entities, flags.concurrency, 1, 400'000,
                                  /*whole=*/false);
  auto raw_max_whole =
      s.RedisBenchmark(narrow_fields, flags.entities, flags.concurrency, 1, 400'000);
  auto raw_one = s.RedisBenchmark(narrow_fields, flags.entities, 1, 1, 20'000);
  auto raw_wide = s.RedisBenchmark(wide_fields, flags.wide_entities, 1, 1, 10'000);
  auto raw_batch = s.RedisBenchmark(narrow_fields, flags.entities, 1, 100, 200'000);
  if (!raw_max.ok() || !raw_one.ok() || !raw_wide.ok() || !raw_batch.ok() || !raw_max_whole.ok()) {
    std::cerr << "redis-benchmark: " << raw_max.status() << raw_one.status() << raw_wide.status()
              << raw_batch.status() << raw_max_whole.status() << "\n";
    return 1;
  }

  Report report("serving");
  Context c{flags, s, report, *raw_max, *raw_one, *raw_wide, *raw_batch, *raw_max_whole};
  c.one_narrow = BenchRequests(kNarrow, flags.entities, 1, 10'000);
  c.one_wide = BenchRequests(kWide, flags.wide_entities, 1, 5'000);
  c.batch = BenchRequests(kNarrow, flags.entities, 100, 1'000);
  c.redis_one_narrow = ServingStack::RawRequests(narrow_fields, flags.entities, 1, 10'000);
  c.redis_one_wide = ServingStack::RawRequests(wide_fields, flags.wide_entities, 1, 5'000);
  c.redis_batch = ServingStack::RawRequests(narrow_fields, flags.entities, 100, 1'000);
  auto part = [&](const char* name) {
    if (!flags.Runs(name)) return false;
    std::cout << "measuring: " << name << std::endl;
    return true;
  };
  if (part("paced")) PacedNarrow(c);
  if (part("closed")) Closed(c);
  if (part("search")) Search(c);
  if (part("wide")) {
    Paced(c, c.one_wide, 1000, "1 x 250 at 1,000 req/s", c.redis_one_wide,
          absl::StrFormat("Redis HGETALL of a %d-field hash, 1 connection", FieldsStored(kWide)),
          c.raw_wide.p99_ms, absl::Milliseconds(2));
  }
  if (part("ondemand")) OnDemand(c);
  if (part("batch")) {
    Paced(c, c.batch, 200, "100 x 50 at 200 req/s", c.redis_batch,
          absl::StrFormat("Redis 100 HGETALLs of %d-field hashes pipelined, 1 connection",
                          FieldsStored(kNarrow)),
          c.raw_batch.p99_ms, absl::Milliseconds(5));
  }
  report.Note(absl::StrFormat(
      "%d s per run after 1 s of warm-up; closed loop: %d requests in flight; 2 client "
      "connections; %s",
      static_cast<int>(flags.seconds), flags.concurrency,
      flags.separated
          ? "separated: serving on CPU 1, Redis and the load generator on CPU 0"
          : absl::StrCat(sysconf(_SC_NPROCESSORS_ONLN), " cores shared by everything")));
  report.Print(std::cout);
  absl::Status written = report.WriteJson(flags.out);
  std::cout << (written.ok() ? "results: " + flags.out : std::string(written.message())) << "\n";
  return 0;
}

}  // namespace
}  // namespace granary::bench

int main(int argc, char** argv) {
  absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);
  granary::bench::Flags flags;
  std::string self = argv[0];
  flags.bin_dir = self.substr(0, self.rfind('/') + 1) + "../..";
  flags.probe_server = self.substr(0, self.rfind('/') + 1) + "grpc_api_probe_server";
  CLI::App app{"serving benchmark"};
  app.add_option("--out", flags.out);
  app.add_option("--bin_dir", flags.bin_dir, "where services/serving/serving is");
  app.add_option("--entities", flags.entities, "populated entities of the 50-feature view");
  app.add_option("--wide_entities", flags.wide_entities, "of the 250-feature view");
  app.add_option("--seconds", flags.seconds, "measured seconds per paced run");
  app.add_option("--concurrency", flags.concurrency, "requests in flight at most");
  app.add_option("--only", flags.only,
                 "parts to run: paced, closed, search, wide, ondemand, batch");
  app.add_option("--runs", flags.runs, "runs per scenario; the median and range are printed")
      ->check(CLI::PositiveNumber);
  app.add_flag("--separated", flags.separated,
               "serving on CPU 1, Redis and the load generator on CPU 0");
  app.add_flag("--keep_registry", flags.keep_registry,
               "leave the registry running in the benchmark's process during the load");
  app.add_option("--probe_server", flags.probe_server, "path of grpc_api_probe_server");
  app.add_option("--serving_env", flags.serving_env, "NAME=VALUE for the serving process");
  app.add_option("--serving_config", flags.serving_config,
                 "KEY: VALUE added to serving's `serving:` section (read_connections: 2)");
  CLI11_PARSE(app, argc, argv);
  return granary::bench::Run(flags);
}
