// The stack the Feast compatibility test talks to: PostgreSQL, NATS and Redis on free ports,
// the registry in this process with a small driver repo applied, Redis written in Feast's
// layout, and the real serving binary in its own process. Serving runs out of process because
// this test links Feast's own feast.serving messages, which clash by name with the
// re-declaration //services/serving is built on.
//
//   ASSIGN_OR_RETURN(std::unique_ptr<CompatStack> stack, CompatStack::Start(kServingBinary));
//   auto channel = grpc::CreateChannel(stack->serving_address(), ...);
#ifndef GRANARY_TESTS_FEAST_COMPAT_COMPAT_STACK_H_
#define GRANARY_TESTS_FEAST_COMPAT_COMPAT_STACK_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"

#include "libs/server/service_runtime.h"
#include "libs/testing/nats_server.h"
#include "libs/testing/postgres_server.h"
#include "libs/testing/redis_server.h"
#include "libs/testing/subprocess.h"
#include "libs/testing/temp_dir.h"

namespace granary::feast_compat {

inline constexpr char kProject[] = "feature_repo";
inline constexpr char kView[] = "driver_hourly_stats";
inline constexpr char kFeatureService[] = "driver_activity";  // conv_rate, avg_daily_trips

// What was written to Redis, by driver: 1001 and 1002 fresh (1002's acc_rate a stored null),
// 1003 older than the view's one-day TTL, 9999 never written.
struct DriverRow {
  int64_t driver_id;
  absl::Time event_time;
  float conv_rate;
  float acc_rate;  // ignored when acc_rate_null
  bool acc_rate_null;
  int64_t avg_daily_trips;
};

class CompatStack {
 public:
  static absl::StatusOr<std::unique_ptr<CompatStack>> Start(const std::string& serving_binary);
  ~CompatStack();

  // host:port of the serving process.
  const std::string& serving_address() const { return serving_address_; }
  // The rows written, 1001, 1002, 1003 in that order.
  const std::vector<DriverRow>& rows() const { return rows_; }
  // The serving process's recent output, for failure messages.
  std::string ServingOutput() const { return serving_->RecentOutput(); }

 private:
  CompatStack() = default;
  absl::Status ApplyRepo();
  absl::Status WriteRows();
  absl::Status StartServing(const std::string& serving_binary);

  std::unique_ptr<testing::PostgresServer> pg_;
  std::unique_ptr<testing::NatsServer> nats_;
  std::unique_ptr<testing::RedisServer> redis_;
  std::unique_ptr<server::ServiceRuntime> registry_;
  std::unique_ptr<testing::TempDir> dir_;
  std::unique_ptr<testing::Subprocess> serving_;
  std::string serving_address_;
  std::vector<DriverRow> rows_;
};

}  // namespace granary::feast_compat

#endif  // GRANARY_TESTS_FEAST_COMPAT_COMPAT_STACK_H_
