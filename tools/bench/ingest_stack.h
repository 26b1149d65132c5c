// The stack the ingestion benchmark measures, as in production: PostgreSQL, NATS and the
// registry (in this process, idle during the load); Redis with keyspace notifications on (so
// the benchmark sees each row land without polling); the ingestion service and two
// materializer replicas in their own processes.
//
//   ASSIGN_OR_RETURN(auto stack, IngestStack::Start({.bin_dir = dir, .workers = 2}));
#ifndef GRANARY_TOOLS_BENCH_INGEST_STACK_H_
#define GRANARY_TOOLS_BENCH_INGEST_STACK_H_

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

namespace granary::bench {

inline constexpr char kIngestProject[] = "bench";
inline constexpr char kIngestView[] = "pushed";
inline constexpr char kIngestSource[] = "pushed_source";
inline constexpr int kIngestFeatures = 10;

struct IngestStackOptions {
  // Where the service binaries are: <bin_dir>/services/{ingestion,materializer}/...
  std::string bin_dir;
  int workers = 2;
};

class IngestStack {
 public:
  static absl::StatusOr<std::unique_ptr<IngestStack>> Start(const IngestStackOptions& options);
  ~IngestStack();

  std::string ingestion_address() const { return ingestion_address_; }
  const testing::RedisServer& redis() const { return *redis_; }
  const testing::NatsServer& nats() const { return *nats_; }
  // Rows the online writers applied, over all replicas.
  double RowsWrittenOnline() const;
  std::vector<pid_t> pids() const;

 private:
  IngestStack() = default;
  absl::StatusOr<int> StartService(const std::string& binary, const std::string& config_text,
                                   const std::string& name);

  std::unique_ptr<testing::PostgresServer> pg_;
  std::unique_ptr<testing::NatsServer> nats_;
  std::unique_ptr<testing::RedisServer> redis_;
  std::unique_ptr<server::ServiceRuntime> registry_;
  std::unique_ptr<testing::TempDir> dir_;
  std::vector<std::unique_ptr<testing::Subprocess>> processes_;
  std::string ingestion_address_;
  std::vector<int> worker_metrics_ports_;
};

}  // namespace granary::bench

#endif  // GRANARY_TOOLS_BENCH_INGEST_STACK_H_
