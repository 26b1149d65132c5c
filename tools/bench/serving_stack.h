// The stack the serving benchmark measures: PostgreSQL, NATS and the registry (in this
// process, idle during the load), Redis filled in Feast's layout, and the serving binary in its
// own process, as in production. Also the raw floor: redis-benchmark against the same Redis,
// on a parallel keyspace of hashes with the same field counts.
//
//   ASSIGN_OR_RETURN(auto stack, ServingStack::Start({.serving_binary = path}));
//   stack->Populate("wide", "rider_id", 20000, 250);
#ifndef GRANARY_TOOLS_BENCH_SERVING_STACK_H_
#define GRANARY_TOOLS_BENCH_SERVING_STACK_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"

#include "libs/server/service_runtime.h"
#include "libs/testing/nats_server.h"
#include "libs/testing/postgres_server.h"
#include "libs/testing/redis_server.h"
#include "libs/testing/subprocess.h"
#include "libs/testing/temp_dir.h"
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

struct ServingStackOptions {
  std::string serving_binary;
  // NAME=VALUE entries for the serving process (e.g. GRPC_* experiments).
  std::vector<std::string> serving_env;
  std::vector<BenchView> views;
};

class ServingStack {
 public:
  static absl::StatusOr<std::unique_ptr<ServingStack>> Start(const ServingStackOptions& options);
  ~ServingStack();

  // Writes `entities` rows (ids 0..entities-1) of the view with fresh timestamps, and the same
  // number of raw hashes "raw<features+1>:<12-digit id>" with features+1 fields for
  // redis-benchmark.
  absl::Status Populate(const BenchView& view, int entities);
  // redis-benchmark HMGET of `fields` fields over the raw keyspace of `entities` hashes.
  absl::StatusOr<RawFigures> RedisBenchmark(int fields, int entities, int clients, int pipeline,
                                            int requests) const;

  std::string serving_address() const { return serving_address_; }
  // The sum of a Prometheus series of the serving process, with labels exactly as printed
  // (e.g. `granary_serving_redis_round_trip_seconds_sum`); 0 when absent.
  double ServingMetric(const std::string& series) const;
  pid_t serving_pid() const { return serving_->pid(); }
  pid_t redis_pid() const { return redis_->pid(); }

 private:
  ServingStack() = default;
  absl::Status StartServing(const ServingStackOptions& options);

  std::unique_ptr<testing::PostgresServer> pg_;
  std::unique_ptr<testing::NatsServer> nats_;
  std::unique_ptr<testing::RedisServer> redis_;
  std::unique_ptr<server::ServiceRuntime> registry_;
  std::unique_ptr<testing::TempDir> dir_;
  std::unique_ptr<testing::Subprocess> serving_;
  std::string serving_address_;
  int serving_metrics_port_ = 0;
};

}  // namespace granary::bench

#endif  // GRANARY_TOOLS_BENCH_SERVING_STACK_H_
