// The raw backend paced as serving is: one Redis connection sending a request (one command,
// or several pipelined) at a fixed rate, each latency counted from when the request was due,
// as the load generator counts serving's. redis-benchmark cannot pace: its one client sends
// the next command the moment a reply arrives, so its process never sleeps and never waits to
// be woken. A paced client sleeps between requests, and so does Redis: what the machine takes
// to wake both is in this figure, as it is in serving's.
//
//   ASSIGN_OR_RETURN(PacedRedisResult r,
//                    RunPacedRedis({.port = port, .rate = 2000, .requests = &commands}));
//   Percentile(r.latencies, 99);
#ifndef GRANARY_TOOLS_BENCH_PACED_REDIS_H_
#define GRANARY_TOOLS_BENCH_PACED_REDIS_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace granary::bench {

struct PacedRedisOptions {
  int port = 0;
  double rate = 0;  // requests per second
  absl::Duration warmup = absl::Seconds(1);
  absl::Duration duration = absl::Seconds(5);
  // Sent in turn: each request is one entry, its commands pipelined in one round trip.
  const std::vector<std::vector<std::vector<std::string>>>* requests = nullptr;
};

struct PacedRedisResult {
  std::vector<absl::Duration> latencies;  // requests due in the measured period
  // How late the client itself sent each of them (a reply that came late delays the next
  // request on the one connection; that delay is in its latency, as it would be for serving).
  std::vector<absl::Duration> send_lags;
};

// Fails when Redis cannot be reached, answers an error, or a field read is missing.
absl::StatusOr<PacedRedisResult> RunPacedRedis(const PacedRedisOptions& options);

}  // namespace granary::bench

#endif  // GRANARY_TOOLS_BENCH_PACED_REDIS_H_
