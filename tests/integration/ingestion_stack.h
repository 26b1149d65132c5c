// The push path with its real neighbours, for tests: PostgreSQL, NATS and Redis; the registry,
// ingestion and serving in-process; materializers as separate processes (so a test can kill
// one with SIGKILL). Project "shop": entity driver (driver_id INT64), view driver_stats
// (trips INT64, rate DOUBLE) fed by push source stats_push, whose batch source is the
// PostgreSQL table "stats".
//
//   ASSERT_OK_AND_ASSIGN(auto stack, IngestionStack::Start(/*materializers=*/2));
//   ASSERT_OK(stack->Push(...));
#ifndef GRANARY_TESTS_INTEGRATION_INGESTION_STACK_H_
#define GRANARY_TESTS_INTEGRATION_INGESTION_STACK_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "granary/ingestion/v1/ingestion.grpc.pb.h"
#include "granary/serving/v1/serving.grpc.pb.h"

#include "libs/server/run_service.h"
#include "libs/testing/nats_server.h"
#include "libs/testing/postgres_server.h"
#include "libs/testing/redis_server.h"
#include "libs/testing/subprocess.h"
#include "libs/testing/temp_dir.h"

namespace granary::integration {

struct Row {
  int64_t driver;
  int64_t event_seconds;
  int64_t trips;
};

// What serving answers for one driver's trips.
struct Served {
  serving::v1::FieldStatus status;
  int64_t trips = 0;
  int64_t event_seconds = 0;
};

class IngestionStack {
 public:
  static absl::StatusOr<std::unique_ptr<IngestionStack>> Start(int materializers);
  ~IngestionStack();

  ingestion::v1::PushRequest Request(const std::string& batch_id, const std::vector<Row>& rows,
                                     ingestion::v1::PushTarget to) const;
  grpc::Status Push(const ingestion::v1::PushRequest& request,
                    ingestion::v1::PushResponse* response) const;
  absl::StatusOr<Served> Read(int64_t driver) const;
  // SELECT count(*) ... from the offline store.
  absl::StatusOr<int64_t> Count(const std::string& sql) const;
  // Polls `done` until it holds or `timeout` passes (nothing outside signals completion).
  static bool Eventually(const std::function<bool()>& done, absl::Duration timeout);

  absl::Status StartMaterializer();
  testing::Subprocess& materializer(int i) { return *materializers_[i]; }
  testing::NatsServer& nats() { return *nats_; }
  std::shared_ptr<grpc::Channel> ingestion_channel() const { return ingestion_channel_; }

 private:
  IngestionStack() = default;
  absl::Status Init(int materializers);

  std::unique_ptr<testing::TempDir> dir_;
  std::unique_ptr<testing::PostgresServer> pg_;
  std::unique_ptr<testing::NatsServer> nats_;
  std::unique_ptr<testing::RedisServer> redis_;
  std::unique_ptr<server::ServiceRuntime> registry_;
  std::unique_ptr<server::ServiceRuntime> ingestion_;
  std::unique_ptr<server::ServiceRuntime> serving_;
  std::vector<std::unique_ptr<testing::Subprocess>> materializers_;
  std::shared_ptr<grpc::Channel> ingestion_channel_;
  std::shared_ptr<grpc::Channel> serving_channel_;
};

}  // namespace granary::integration

#endif  // GRANARY_TESTS_INTEGRATION_INGESTION_STACK_H_
