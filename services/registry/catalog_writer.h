// Changes to the catalog: plan and apply whole repos (validated, diffed, gated on breaking
// changes, committed optimistically and retried when another apply committed first), and
// delete one object or a whole project. Every commit puts the new snapshot in `snapshots`
// before it is announced, and wakes the cleanup announcer when it deleted feature views.
//
//   CatalogWriter writer(store, publisher, snapshots);
//   ASSIGN_OR_RETURN(v1::ApplyResponse applied, writer.Apply(request, "ci-bot"));
#ifndef GRANARY_SERVICES_REGISTRY_CATALOG_WRITER_H_
#define GRANARY_SERVICES_REGISTRY_CATALOG_WRITER_H_

#include <functional>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "granary/registry/v1/registry_service.pb.h"

#include "services/registry/change_publisher.h"
#include "services/registry/snapshots.h"
#include "services/registry/store.h"

namespace granary::registry {

class CatalogWriter {
 public:
  // `cleanups_committed` is called after a commit that deleted feature views (their online data
  // is to be removed: see CleanupAnnouncer).
  CatalogWriter(std::shared_ptr<Store> store, std::shared_ptr<ChangePublisher> publisher,
                std::shared_ptr<Snapshots> snapshots,
                std::function<void()> cleanups_committed = nullptr)
      : store_(std::move(store)),
        publisher_(std::move(publisher)),
        snapshots_(std::move(snapshots)),
        cleanups_committed_(std::move(cleanups_committed)) {}

  absl::StatusOr<v1::PlanResponse> Plan(const v1::PlanRequest& request);
  absl::StatusOr<v1::ApplyResponse> Apply(const v1::ApplyRequest& request,
                                          const std::string& caller);
  absl::StatusOr<v1::DeleteObjectResponse> DeleteObject(const v1::DeleteObjectRequest& request,
                                                        const std::string& caller);
  absl::StatusOr<v1::DeleteProjectResponse> DeleteProject(const v1::DeleteProjectRequest& request,
                                                          const std::string& caller);

 private:
  // Commits the change from `current` to `desired` described by `diff`, caches the new
  // snapshot and announces it.
  absl::StatusOr<CommitResult> CommitChange(const ProjectState& current,
                                            const v1::FeatureRepo& desired, const v1::Diff& diff,
                                            const std::string& caller, const std::string& comment);

  std::shared_ptr<Store> store_;
  std::shared_ptr<ChangePublisher> publisher_;
  std::shared_ptr<Snapshots> snapshots_;
  std::function<void()> cleanups_committed_;
};

}  // namespace granary::registry

#endif  // GRANARY_SERVICES_REGISTRY_CATALOG_WRITER_H_
