#include "services/registry/snapshots.h"

#include "absl/strings/str_cat.h"

#include "libs/base/proto_time.h"
#include "libs/base/status_macros.h"
#include "services/registry/read_requests.h"

namespace granary::registry {

absl::StatusOr<v1::GetSnapshotResponse> Snapshots::Get(const v1::GetSnapshotRequest& request) {
  RETURN_IF_ERROR(Required(request.project(), "project"));
  if (request.if_newer_than() < 0) {
    return absl::InvalidArgumentError("if_newer_than: must not be negative");
  }
  ASSIGN_OR_RETURN(auto version, store_->Version(request.project()));
  auto [at, exists] = version;
  if (!exists) {
    return absl::NotFoundError(absl::StrCat("project ", request.project(), " not found"));
  }
  v1::GetSnapshotResponse response;
  if (at == request.if_newer_than()) {
    response.set_not_modified(true);
    return response;
  }
  std::shared_ptr<const v1::Snapshot> snapshot = Cached(request.project(), at);
  if (snapshot == nullptr) {
    ASSIGN_OR_RETURN(ProjectState state, store_->Load(request.project()));
    if (!state.exists) {
      return absl::NotFoundError(absl::StrCat("project ", request.project(), " not found"));
    }
    auto loaded = std::make_shared<v1::Snapshot>();
    loaded->set_version(state.version);
    *loaded->mutable_committed_time() = base::ToProtoTime(state.committed_time);
    *loaded->mutable_repo() = std::move(state.repo);
    snapshot = loaded;
    Put(request.project(), std::move(loaded));
  }
  *response.mutable_snapshot() = *snapshot;
  return response;
}

void Snapshots::Put(const std::string& project, std::shared_ptr<const v1::Snapshot> snapshot) {
  absl::MutexLock lock(&mu_);
  auto& slot = newest_[project];
  if (slot == nullptr || slot->version() < snapshot->version()) slot = std::move(snapshot);
}

void Snapshots::Forget(const std::string& project) {
  absl::MutexLock lock(&mu_);
  newest_.erase(project);
}

std::shared_ptr<const v1::Snapshot> Snapshots::Cached(const std::string& project, int64_t version) {
  absl::MutexLock lock(&mu_);
  auto it = newest_.find(project);
  if (it == newest_.end() || it->second->version() != version) return nullptr;
  return it->second;
}

}  // namespace granary::registry
