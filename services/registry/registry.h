// The registry's logic, behind the gRPC adapter: plan and apply whole repos (validated,
// diffed, gated on breaking changes, committed optimistically), delete, read with tag filters
// and pagination, serve snapshots to caches, keep history and materialization bookkeeping.
//
//   Registry registry(store, publisher);
//   ASSIGN_OR_RETURN(v1::ApplyResponse applied, registry.Apply(request, "ci-bot"));
#ifndef GRANARY_SERVICES_REGISTRY_REGISTRY_H_
#define GRANARY_SERVICES_REGISTRY_REGISTRY_H_

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "google/protobuf/message.h"
#include "granary/registry/v1/registry_service.pb.h"

#include "services/registry/change_publisher.h"
#include "services/registry/store.h"

namespace granary::registry {

struct ObjectPage {
  std::vector<std::unique_ptr<google::protobuf::Message>> objects;
  std::string next_page_token;
};

class Registry {
 public:
  // `cleanups_committed` is called after a commit that deleted feature views (their online data
  // is to be removed: see CleanupAnnouncer).
  Registry(std::shared_ptr<Store> store, std::shared_ptr<ChangePublisher> publisher,
           std::function<void()> cleanups_committed = nullptr)
      : store_(std::move(store)),
        publisher_(std::move(publisher)),
        cleanups_committed_(std::move(cleanups_committed)) {}

  absl::StatusOr<v1::PlanResponse> Plan(const v1::PlanRequest& request);
  absl::StatusOr<v1::ApplyResponse> Apply(const v1::ApplyRequest& request,
                                          const std::string& caller);
  absl::StatusOr<v1::DeleteObjectResponse> DeleteObject(const v1::DeleteObjectRequest& request,
                                                        const std::string& caller);
  absl::StatusOr<v1::DeleteProjectResponse> DeleteProject(const v1::DeleteProjectRequest& request,
                                                          const std::string& caller);

  absl::StatusOr<v1::Project> GetProject(const v1::GetProjectRequest& request);
  absl::StatusOr<v1::ListProjectsResponse> ListProjects(const v1::ListProjectsRequest& request);
  // Any kind of a repo (a feature view comes with its materialization intervals).
  absl::StatusOr<std::unique_ptr<google::protobuf::Message>> GetObject(
      v1::ObjectKind kind, const v1::GetObjectRequest& request);
  absl::StatusOr<ObjectPage> ListObjects(v1::ObjectKind kind,
                                         const v1::ListObjectsRequest& request);

  absl::StatusOr<v1::GetSnapshotResponse> GetSnapshot(const v1::GetSnapshotRequest& request);
  absl::StatusOr<v1::ListHistoryResponse> ListHistory(const v1::ListHistoryRequest& request);

  absl::Status RecordMaterialization(const v1::RecordMaterializationRequest& request);
  absl::StatusOr<v1::MaterializationState> GetMaterializationState(
      const v1::GetMaterializationStateRequest& request);

 private:
  // Commits the change from `current` to `desired` described by `diff`, caches the new
  // snapshot and announces it.
  absl::StatusOr<CommitResult> CommitChange(const ProjectState& current,
                                            const v1::FeatureRepo& desired, const v1::Diff& diff,
                                            const std::string& caller, const std::string& comment);
  std::shared_ptr<const v1::Snapshot> CachedSnapshot(const std::string& project, int64_t version);
  void CacheSnapshot(const std::string& project, std::shared_ptr<const v1::Snapshot> snapshot);

  std::shared_ptr<Store> store_;
  std::shared_ptr<ChangePublisher> publisher_;
  std::function<void()> cleanups_committed_;
  absl::Mutex cache_mu_;
  absl::flat_hash_map<std::string, std::shared_ptr<const v1::Snapshot>> snapshots_
      ABSL_GUARDED_BY(cache_mu_);
};

}  // namespace granary::registry

#endif  // GRANARY_SERVICES_REGISTRY_REGISTRY_H_
