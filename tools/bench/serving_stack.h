// The stack the serving benchmark measures: the shared TestStack with a generated repository
// (the registry idle during the load), Redis filled as the materializer writes it (Feast's
// layout plus Granary's "_created:<view>"), and the serving binary in its own process, as in
// production. Also the raw floor: redis-benchmark against the same Redis, on a parallel
// keyspace of hashes with as many fields as serving reads.
//
//   ASSIGN_OR_RETURN(auto stack, ServingStack::Start({.bin_dir = dir, .views = {...}}));
//   stack->Populate(view, 20000);
#ifndef GRANARY_TOOLS_BENCH_SERVING_STACK_H_
#define GRANARY_TOOLS_BENCH_SERVING_STACK_H_

#include <algorithm>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "granary/serving/v1/serving.pb.h"

#include "libs/testing/test_stack.h"
#include "tools/bench/raw_tools.h"

namespace granary::bench {

inline constexpr char kBenchProject[] = "bench";

// A view of the benchmark's catalog: `features` DOUBLE features f000.. keyed by one INT64
// entity whose join key is `join_key`.
struct BenchView {
  std::string name;
  std::string join_key;
  int features;
};

// Every view comes with an on-demand view of this many DOUBLE outputs o0.., each computed from
// two of the view's features ("f000 * 0.5 + f001").
inline constexpr int kOnDemandOutputs = 5;
inline std::string OnDemandViewOf(const BenchView& view) { return view.name + "_od"; }
// The same outputs as a write-time view (mode ON_WRITE): stored by Populate, read as stored.
inline std::string WriteTimeViewOf(const BenchView& view) { return view.name + "_ods"; }

// The fields serving reads per view: its "_ts:" and "_created:" fields, then the features.
inline int FieldsRead(const BenchView& view) { return view.features + 2; }
// The fields of each of the view's hashes: those, and its write-time twin's (stored beside).
inline int FieldsStored(const BenchView& view) {
  return FieldsRead(view) + 2 + std::min(kOnDemandOutputs, view.features - 1);
}

// `count` requests of `rows` random entities each (ids below `entities`), for every feature of
// the view.
std::vector<serving::v1::GetOnlineFeaturesRequest> BenchRequests(const BenchView& view,
                                                                 int entities, int rows, int count);

struct ServingStackOptions {
  // Where services/serving/serving is.
  std::string bin_dir;
  // NAME=VALUE entries for the serving process (e.g. GRPC_* experiments).
  std::vector<std::string> serving_env;
  // More entries of serving's `serving:` section ("read_connections: 2"), to compare settings.
  std::vector<std::string> serving_config;
  std::vector<BenchView> views;
};

class ServingStack {
 public:
  static absl::StatusOr<std::unique_ptr<ServingStack>> Start(const ServingStackOptions& options);

  // Writes `entities` rows (ids 0..entities-1) of the view with fresh timestamps, and the same
  // number of raw hashes "raw<FieldsRead>:<12-digit id>" with FieldsStored(view) fields, the
  // first FieldsRead(view) named f000.., for redis-benchmark.
  absl::Status Populate(const BenchView& view, int entities);
  // redis-benchmark over the raw keyspace "raw<fields>:.." of `entities` hashes: HGETALL
  // (`whole`: the reads serving makes of their twins) or HMGET of the `fields` read (Feast's
  // read, and the yardstick for the closed loop).
  absl::StatusOr<RawFigures> RedisBenchmark(int fields, int entities, int clients, int pipeline,
                                            int requests, bool whole = true) const;
  // Reads of the raw keyspace for RunPacedRedis: `count` requests of `pipeline` HGETALLs of
  // the hashes "raw<fields>:..", keys drawn at random below `entities` (serving reads its
  // twins whole too).
  static std::vector<std::vector<std::vector<std::string>>> RawRequests(int fields, int entities,
                                                                        int pipeline, int count);
  int redis_port() const { return stack_->redis().port(); }

  std::string serving_address() const { return serving_->address(); }
  // The sum of a Prometheus series of the serving process, with labels exactly as printed
  // (e.g. `granary_serving_redis_round_trip_seconds_sum`); 0 when absent.
  double ServingMetric(const std::string& series) const { return serving_->Metric(series); }
  // Serving's whole /metrics text.
  absl::StatusOr<std::string> ServingScrape() const;
  pid_t serving_pid() const { return serving_->pid(); }
  pid_t redis_pid() const { return stack_->redis().pid(); }
  // The stack under it, to spawn more services (the gateway benchmark's gateways).
  testing::TestStack& test_stack() { return *stack_; }

 private:
  ServingStack() = default;

  std::unique_ptr<testing::TestStack> stack_;
  testing::TestService* serving_ = nullptr;
};

}  // namespace granary::bench

#endif  // GRANARY_TOOLS_BENCH_SERVING_STACK_H_
