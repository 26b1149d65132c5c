// Snapshots of projects for the caches of serving, ingestion and the materializer: the newest
// snapshot of each project is kept in memory, put there by the commit that made it (so the
// caches that come for it after the change announcement are served without a read-back) or by
// the first read of it.
//
//   Snapshots snapshots(store);
//   ASSIGN_OR_RETURN(v1::GetSnapshotResponse r, snapshots.Get(request));
#ifndef GRANARY_SERVICES_REGISTRY_SNAPSHOTS_H_
#define GRANARY_SERVICES_REGISTRY_SNAPSHOTS_H_

#include <memory>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "granary/registry/v1/registry_service.pb.h"

#include "services/registry/store.h"

namespace granary::registry {

class Snapshots {
 public:
  explicit Snapshots(std::shared_ptr<Store> store) : store_(std::move(store)) {}

  // The project's snapshot, or not_modified when it is still at `if_newer_than`.
  absl::StatusOr<v1::GetSnapshotResponse> Get(const v1::GetSnapshotRequest& request);

  // Keeps `snapshot` as the project's newest unless a newer one is kept already (two commits
  // racing to put theirs).
  void Put(const std::string& project, std::shared_ptr<const v1::Snapshot> snapshot);
  // The project is gone.
  void Forget(const std::string& project);

 private:
  std::shared_ptr<const v1::Snapshot> Cached(const std::string& project, int64_t version);

  std::shared_ptr<Store> store_;
  absl::Mutex mu_;
  absl::flat_hash_map<std::string, std::shared_ptr<const v1::Snapshot>> newest_
      ABSL_GUARDED_BY(mu_);
};

}  // namespace granary::registry

#endif  // GRANARY_SERVICES_REGISTRY_SNAPSHOTS_H_
