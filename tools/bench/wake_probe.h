// The machine's floor for any request that crosses threads: how long a thread blocked on an
// eventfd takes to run after another thread writes to it, the writer sleeping between writes
// as a paced client does (so both sides start from idle, as at 2,000 req/s). Every hop of a
// request (client -> serving -> Redis -> serving -> client) pays one such wake-up.
//
//   std::vector<absl::Duration> w = WakeLatencies({.rate = 2000});
//   Percentile(w, 99);
#ifndef GRANARY_TOOLS_BENCH_WAKE_PROBE_H_
#define GRANARY_TOOLS_BENCH_WAKE_PROBE_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace granary::bench {

struct WakeProbeOptions {
  double rate = 2000;  // writes per second
  absl::Duration duration = absl::Seconds(5);
  // Pin the writer and the sleeper to these CPUs (-1: leave them where the scheduler puts
  // them). On different CPUs every wake-up is a cross-CPU one, as when serving and its client
  // run on separate cores.
  int writer_cpu = -1;
  int sleeper_cpu = -1;
};

// One latency per write: from just before the write to when the sleeper ran.
absl::StatusOr<std::vector<absl::Duration>> WakeLatencies(const WakeProbeOptions& options);

// 2,000 wake-ups per second for 5 s, `runs` times: anywhere the scheduler puts the threads,
// then always across CPUs 0 -> 1 (with two or more). One line each, median and range of the
// runs' p50 / p99 / p99.9. A paced request through serving pays four such wake-ups (serving,
// Redis, serving, the client); Redis paced alone, two.
std::vector<std::string> WakeFloorNotes(int runs);

}  // namespace granary::bench

#endif  // GRANARY_TOOLS_BENCH_WAKE_PROBE_H_
