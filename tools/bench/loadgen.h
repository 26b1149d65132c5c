// A load generator for GetOnlineFeatures on gRPC's async API. Open loop: requests are sent
// at a fixed rate whatever the server does, and each latency is measured from the moment the
// request was due (so a server that falls behind shows it, instead of slowing the load down).
// Closed loop (rate 0): a fixed number of requests in flight, for maximum throughput.
//
//   LoadResult r = RunLoad({.target = "127.0.0.1:6571", .rate = 2000,
//                           .duration = absl::Seconds(10), .requests = pool});
//   Percentile(r.latencies, 99);
#ifndef GRANARY_TOOLS_BENCH_LOADGEN_H_
#define GRANARY_TOOLS_BENCH_LOADGEN_H_

#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "absl/time/time.h"
#include "granary/serving/v1/serving.pb.h"

namespace granary::bench {

struct LoadOptions {
  std::string target;
  // Requests per second; 0 means closed loop with `concurrency` requests in flight.
  double rate = 0;
  // At most this many requests in flight (open loop: a request due while all are busy is
  // counted as an error, "overloaded", with its latency counted from when it was due).
  int concurrency = 64;
  // Client connections (HTTP/2 channels) the requests are spread over.
  int connections = 2;
  // The full method name, for the service registered under another name (Feast's).
  std::string method = "/granary.serving.v1.ServingService/GetOnlineFeatures";
  absl::Duration warmup = absl::Seconds(1);
  absl::Duration duration = absl::Seconds(5);
  absl::Duration timeout = absl::Seconds(1);
  // Sent in turn; each is serialized once, before the run.
  const std::vector<serving::v1::GetOnlineFeaturesRequest>* requests = nullptr;
  // Metadata every call carries (an authorization header through the gateway).
  std::vector<std::pair<std::string, std::string>> metadata;
  // Check responses (e.g. every status PRESENT); a false counts as an error.
  bool (*check)(const serving::v1::GetOnlineFeaturesResponse&) = nullptr;
  // Parse and check one successful response in this many (parsing costs the client CPU it
  // shares with the server at high rates); every response's gRPC status is checked.
  int check_every = 1;
};

struct LoadResult {
  int64_t ok = 0;
  int64_t errors = 0;
  std::map<std::string, int64_t> errors_by_kind;
  // Completed requests per second over the measured period.
  double throughput = 0;
  std::vector<absl::Duration> latencies;  // successful requests of the measured period
  // Of the same requests, how late the generator sent each (its own delay, already in the
  // latency): a tail here is the client's, not the server's.
  std::vector<absl::Duration> send_lags;
};

LoadResult RunLoad(const LoadOptions& options);

}  // namespace granary::bench

#endif  // GRANARY_TOOLS_BENCH_LOADGEN_H_
