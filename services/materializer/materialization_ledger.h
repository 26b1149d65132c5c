// What the registry knows of a feature view's materializations: where the last one ended (the
// start of the next incremental job) and the interval a finished job covered. The registry is
// the one record (Feast keeps it on the feature view too); jobs only ask and tell.
//
//   RegistryLedger ledger(registry_options);  // calls signed as registry_options.caller
//   ASSIGN_OR_RETURN(std::optional<absl::Time> end, ledger.LastEnd("driver_stats", "stats"));
#ifndef GRANARY_SERVICES_MATERIALIZER_MATERIALIZATION_LEDGER_H_
#define GRANARY_SERVICES_MATERIALIZER_MATERIALIZATION_LEDGER_H_

#include <memory>
#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"

#include "libs/registry_client/registry_client.h"
#include "services/materializer/job_store.h"

namespace grpc {
class Channel;
}

namespace granary::materializer {

class MaterializationLedger {
 public:
  virtual ~MaterializationLedger() = default;
  // The latest end of the view's recorded intervals; nullopt when it was never materialized.
  virtual absl::StatusOr<std::optional<absl::Time>> LastEnd(const std::string& project,
                                                            const std::string& view) = 0;
  // Records that job `job_id` materialized `range`.
  virtual absl::Status Record(const std::string& project, const std::string& job_id,
                              const JobPlan::Range& range) = 0;
};

// The registry's RecordMaterialization and GetMaterializationState.
class RegistryLedger : public MaterializationLedger {
 public:
  // Calls the registry at options.address, signed as options.caller (libs/rpc/service_channel.h).
  explicit RegistryLedger(const registry_client::RegistryClientOptions& options);
  absl::StatusOr<std::optional<absl::Time>> LastEnd(const std::string& project,
                                                    const std::string& view) override;
  absl::Status Record(const std::string& project, const std::string& job_id,
                      const JobPlan::Range& range) override;

 private:
  const absl::Duration rpc_timeout_;
  std::shared_ptr<grpc::Channel> channel_;
};

}  // namespace granary::materializer

#endif  // GRANARY_SERVICES_MATERIALIZER_MATERIALIZATION_LEDGER_H_
