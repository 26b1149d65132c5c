// The stack the Feast compatibility test talks to: the shared TestStack with the example repo
// (examples/driver_stats), Redis written as a Feast writer writes it (plain HSETs of Feast's
// own serialized Values, no Granary fields), and the real serving binary in its own process.
// Serving runs out of process because this test links Feast's own feast.serving messages,
// which clash by name with the re-declaration //services/serving is built on.
//
//   ASSIGN_OR_RETURN(std::unique_ptr<CompatStack> stack, CompatStack::Start());
//   auto channel = grpc::CreateChannel(stack->serving_address(), ...);
#ifndef GRANARY_TESTS_FEAST_COMPAT_COMPAT_STACK_H_
#define GRANARY_TESTS_FEAST_COMPAT_COMPAT_STACK_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"

#include "libs/testing/test_stack.h"

namespace granary::feast_compat {

inline constexpr char kProject[] = "driver_stats";
inline constexpr char kView[] = "driver_hourly_stats";
inline constexpr char kFeatureService[] = "driver_activity";  // all three features

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
  static absl::StatusOr<std::unique_ptr<CompatStack>> Start();

  // host:port of the serving process.
  std::string serving_address() const { return serving_->address(); }
  // The rows written, 1001, 1002, 1003 in that order.
  const std::vector<DriverRow>& rows() const { return rows_; }
  // The serving process's recent output, for failure messages.
  std::string ServingOutput() const { return serving_->process().RecentOutput(); }

 private:
  CompatStack() = default;
  absl::Status WriteRows();

  std::unique_ptr<testing::TestStack> stack_;
  testing::TestService* serving_ = nullptr;
  std::vector<DriverRow> rows_;
};

}  // namespace granary::feast_compat

#endif  // GRANARY_TESTS_FEAST_COMPAT_COMPAT_STACK_H_
