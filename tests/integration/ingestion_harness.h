// What the ingestion integration tests share, on the shared TestStack with the example repo
// (examples/driver_stats): ingestion, serving and materializer processes; rows of
// driver_hourly_stats pushed through driver_stats_push; reads through serving; counts in the
// offline table; JetStream's own view of streams, consumers and dead letters, for asserting a
// fault's precondition before injecting it.
//
//   ASSERT_OK_AND_ASSIGN(auto h, IngestionHarness::Start({.materializers = 2}));
//   ASSERT_TRUE(h->Push(h->Request("b1", {{1, h->Now(), 10}}, ONLINE_AND_OFFLINE)).ok());
#ifndef GRANARY_TESTS_INTEGRATION_INGESTION_HARNESS_H_
#define GRANARY_TESTS_INTEGRATION_INGESTION_HARNESS_H_

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "granary/events/v1/events.pb.h"
#include "granary/ingestion/v1/ingestion.grpc.pb.h"
#include "granary/serving/v1/serving.pb.h"

#include "libs/bus/jetstream.h"
#include "libs/testing/test_stack.h"

namespace granary::integration {

inline constexpr char kView[] = "driver_hourly_stats";
inline constexpr char kPushSource[] = "driver_stats_push";

// A row of driver_hourly_stats: avg_daily_trips = trips, conv_rate = acc_rate = trips / 1000.
struct DriverRow {
  int64_t driver;
  absl::Time event;
  int64_t trips;
  // Sent in the source's created column when set.
  std::optional<absl::Time> created;
};

// What serving answers for one driver's avg_daily_trips.
struct Served {
  serving::v1::FieldStatus status = serving::v1::INVALID;
  int64_t trips = 0;
  absl::Time event;
};

struct HarnessOptions {
  int materializers = 1;
  // Start serving (some tests look at Redis through it).
  bool serving = true;
  testing::TestStackOptions stack;
  // Keys of the materializer's section.
  std::string materializer =
      "max_deliveries: 2, min_backoff: 10ms, max_backoff: 200ms, stall_after: 2s";
  // Keys of ingestion's section.
  std::string ingestion = "publish_timeout: 3s";
};

class IngestionHarness {
 public:
  static absl::StatusOr<std::unique_ptr<IngestionHarness>> Start(HarnessOptions options = {});

  testing::TestStack& stack() { return *stack_; }
  testing::TestService& ingestion() { return *ingestion_; }
  testing::TestService& materializer(int i) { return *materializers_[i]; }
  absl::StatusOr<testing::TestService*> StartMaterializer();

  // An hour ago, to the microsecond (what PostgreSQL keeps): inside the view's one-day ttl.
  absl::Time Now() const { return base_time_; }

  ingestion::v1::PushRequest Request(const std::string& batch_id,
                                     const std::vector<DriverRow>& rows,
                                     ingestion::v1::PushTarget to) const;
  grpc::Status Push(const ingestion::v1::PushRequest& request,
                    ingestion::v1::PushResponse* response = nullptr) const;

  absl::StatusOr<Served> Read(int64_t driver) const;
  // Many drivers, 500 per request.
  absl::StatusOr<std::map<int64_t, Served>> ReadAll(const std::vector<int64_t>& drivers) const;
  // Serving, for requests of other shapes.
  std::shared_ptr<grpc::Channel> serving_channel() const { return serving_->channel(); }
  // SELECT count(*) ... on the offline database; -1 when it cannot be asked.
  int64_t Count(const std::string& sql) const;

  // A JetStream client of the stack's NATS, for looking, not for pushing.
  bus::JetStream& js() { return *js_; }
  int64_t StreamMessages(const std::string& stream);
  // The sequence of the last message ever stored in it (-1: cannot tell): unlike the count,
  // trimming does not lower it, so it shows whether anything was published.
  int64_t StreamLastSequence(const std::string& stream);
  // Whether the writer consumer `durable` of GRANARY_PUSH has acknowledged (settled) every
  // message stored so far: what a test waits for before reading what the writer did.
  bool WriterCaughtUp(const std::string& durable);
  // Every dead letter stored, in order.
  absl::StatusOr<std::vector<events::v1::DeadLetter>> DeadLetters();

 private:
  IngestionHarness() = default;

  HarnessOptions options_;
  std::unique_ptr<testing::TestStack> stack_;
  testing::TestService* ingestion_ = nullptr;
  testing::TestService* serving_ = nullptr;
  std::vector<testing::TestService*> materializers_;
  std::shared_ptr<bus::Connection> nats_;
  std::unique_ptr<bus::JetStream> js_;
  absl::Time base_time_;
};

}  // namespace granary::integration

#endif  // GRANARY_TESTS_INTEGRATION_INGESTION_HARNESS_H_
