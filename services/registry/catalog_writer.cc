#include "services/registry/catalog_writer.h"

#include <algorithm>
#include <map>
#include <set>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/clock.h"

#include "libs/base/proto_time.h"
#include "libs/base/status_macros.h"
#include "libs/catalog/normalize.h"
#include "libs/catalog/object_kinds.h"
#include "services/registry/read_requests.h"
#include "services/registry/repo_diff.h"
#include "services/registry/validation.h"
#include "services/registry/write_time_renewal.h"

namespace granary::registry {
namespace {

using google::protobuf::Message;

// An apply that pinned no version retries this often when another apply commits first.
constexpr int kMaxApplyAttempts = 5;
// What to remove online for the views of `before` named in `views`: their features and the
// incarnation being deleted. Write-time on-demand views are stored online like feature views,
// and removed the same way.
events::v1::OnlineCleanup OnlineCleanupOf(const v1::FeatureRepo& before,
                                          const std::set<std::string>& views) {
  events::v1::OnlineCleanup cleanup;
  cleanup.set_project(before.project().name());
  for (const auto& view : before.feature_views()) {
    if (views.count(view.name()) == 0) continue;
    events::v1::OnlineCleanup::View* out = cleanup.add_views();
    out->set_name(view.name());
    out->set_view_version(view.meta().created_version());
    for (const auto& field : view.schema()) out->add_features(field.name());
  }
  for (const auto& view : before.on_demand_feature_views()) {
    if (views.count(view.name()) == 0 || view.mode() != v1::OnDemandFeatureView::ON_WRITE) {
      continue;
    }
    events::v1::OnlineCleanup::View* out = cleanup.add_views();
    out->set_name(view.name());
    out->set_view_version(view.meta().created_version());
    for (const auto& field : view.schema()) out->add_features(field.name());
  }
  return cleanup;
}

std::string BreakingMessage(const v1::Diff& diff) {
  std::vector<std::string> reasons;
  for (const auto& c : diff.changes()) {
    for (const auto& r : c.breaking_reasons()) {
      reasons.push_back(absl::StrCat(catalog::KindName(c.kind()), " ", c.name(), ": ", r));
    }
  }
  return absl::StrCat(
      "the change breaks consumers; apply it with allow_breaking "
      "(granary apply --allow-breaking) to go ahead:\n  ",
      absl::StrJoin(reasons, "\n  "));
}

// A project that does not exist yet is created: say so in the diff.
void AddProjectCreation(const ProjectState& current, const std::string& project, v1::Diff* diff) {
  if (current.exists) return;
  v1::Diff with_project;
  v1::ObjectChange* c = with_project.add_changes();
  c->set_kind(v1::PROJECT);
  c->set_name(project);
  c->set_change(v1::CREATE);
  for (auto& change : *diff->mutable_changes()) *with_project.add_changes() = std::move(change);
  with_project.set_breaking(diff->breaking());
  *diff = std::move(with_project);
}

template <typename T>
void SortByName(google::protobuf::RepeatedPtrField<T>* objects) {
  std::sort(objects->begin(), objects->end(),
            [](const T& a, const T& b) { return a.name() < b.name(); });
}

// Objects in the order the store returns them (by name, bytewise), so that a snapshot is the
// same whether it was cached at commit or loaded later.
void SortLikeTheStore(v1::FeatureRepo* repo) {
  SortByName(repo->mutable_entities());
  SortByName(repo->mutable_data_sources());
  SortByName(repo->mutable_feature_views());
  SortByName(repo->mutable_on_demand_feature_views());
  SortByName(repo->mutable_feature_services());
  SortByName(repo->mutable_permissions());
}

// The meta of each object of a repo, by kind and name.
std::map<std::pair<int, std::string>, v1::ObjectMeta> MetaByObject(const v1::FeatureRepo& repo) {
  std::map<std::pair<int, std::string>, v1::ObjectMeta> out;
  for (v1::ObjectKind kind : catalog::RepoKinds()) {
    for (const Message* m : catalog::ObjectsOf(repo, kind)) {
      const auto* field = m->GetDescriptor()->FindFieldByName("meta");
      out[{kind, catalog::ObjectName(*m)}] =
          static_cast<const v1::ObjectMeta&>(m->GetReflection()->GetMessage(*m, field));
    }
  }
  return out;
}

}  // namespace

absl::StatusOr<v1::PlanResponse> CatalogWriter::Plan(const v1::PlanRequest& request) {
  v1::FeatureRepo desired = request.repo();
  catalog::Normalize(&desired);
  RETURN_IF_ERROR(ProblemsToStatus(ValidateRepo(desired)));
  const std::string& project = desired.project().name();
  ASSIGN_OR_RETURN(ProjectState current, store_->Load(project));
  v1::PlanResponse response;
  response.set_base_version(current.version);
  *response.mutable_diff() = DiffRepos(current.repo, desired);
  AddProjectCreation(current, project, response.mutable_diff());
  return response;
}

absl::StatusOr<v1::ApplyResponse> CatalogWriter::Apply(const v1::ApplyRequest& request,
                                                       const std::string& caller) {
  v1::FeatureRepo desired = request.repo();
  catalog::Normalize(&desired);
  RETURN_IF_ERROR(ProblemsToStatus(ValidateRepo(desired)));
  const std::string& project = desired.project().name();
  for (int attempt = 1;; ++attempt) {
    ASSIGN_OR_RETURN(ProjectState current, store_->Load(project));
    if (request.has_expected_version() && request.expected_version() != current.version) {
      return absl::AbortedError(absl::StrCat(
          "project ", project, " is at version ", current.version,
          "; the plan was made against version ", request.expected_version(), ": plan again"));
    }
    v1::ApplyResponse response;
    v1::Diff diff = DiffRepos(current.repo, desired);
    AddProjectCreation(current, project, &diff);
    if (diff.changes().empty()) {
      response.set_version(current.version);
      response.set_changed(false);
      return response;
    }
    if (diff.breaking() && !request.allow_breaking()) {
      return absl::FailedPreconditionError(BreakingMessage(diff));
    }
    absl::StatusOr<CommitResult> committed =
        CommitChange(current, desired, diff, caller, request.comment());
    // Another apply committed between our read and our commit. Without a pinned version the
    // caller asked for "this repo, whatever is there now": compute the change again.
    if (absl::IsAborted(committed.status()) && !request.has_expected_version() &&
        attempt < kMaxApplyAttempts) {
      continue;
    }
    RETURN_IF_ERROR(committed.status());
    response.set_version(committed->version);
    *response.mutable_diff() = std::move(diff);
    response.set_changed(true);
    return response;
  }
}

absl::StatusOr<CommitResult> CatalogWriter::CommitChange(const ProjectState& current,
                                                         const v1::FeatureRepo& desired,
                                                         const v1::Diff& diff,
                                                         const std::string& caller,
                                                         const std::string& comment) {
  CommitRequest request;
  request.project = desired.project().name();
  request.base_version = current.version;
  request.project_spec = desired.project();
  request.caller = caller;
  request.comment = comment;
  request.diff = diff;
  std::map<std::pair<int, std::string>, const Message*> wanted;
  for (v1::ObjectKind kind : catalog::RepoKinds()) {
    for (const Message* m : catalog::ObjectsOf(desired, kind)) {
      wanted[{kind, catalog::ObjectName(*m)}] = m;
    }
  }
  std::map<std::pair<int, std::string>, v1::ChangeType> changed;
  std::set<std::string> deleted_views;
  for (const v1::ObjectChange& c : diff.changes()) {
    if (c.kind() == v1::PROJECT) continue;
    changed[{c.kind(), c.name()}] = c.change();
    if (c.change() == v1::DELETE) {
      request.deletes.push_back({c.kind(), c.name()});
      if (c.kind() == v1::FEATURE_VIEW || c.kind() == v1::ON_DEMAND_FEATURE_VIEW) {
        deleted_views.insert(c.name());
      }
    } else {
      request.upserts.emplace_back(c.kind(), wanted.at({c.kind(), c.name()}));
    }
  }
  const std::set<std::string> renewed = RenewedWriteTimeViews(current.repo, desired);
  std::set<std::string> removed_online = deleted_views;
  for (const std::string& name : renewed) {
    request.renewed.push_back({v1::ON_DEMAND_FEATURE_VIEW, name});
    removed_online.insert(name);
  }
  request.cleanup = OnlineCleanupOf(current.repo, removed_online);
  ASSIGN_OR_RETURN(CommitResult result, store_->Commit(request));
  if (!removed_online.empty() && cleanups_committed_) cleanups_committed_();

  // The new version's snapshot is known without reading it back: cache it before announcing
  // the change, so that every cache that comes for it is served from memory.
  auto snapshot = std::make_shared<v1::Snapshot>();
  snapshot->set_version(result.version);
  *snapshot->mutable_committed_time() = base::ToProtoTime(result.committed_time);
  *snapshot->mutable_repo() = desired;
  snapshot->mutable_repo()->mutable_project()->set_version(result.version);
  std::map<std::pair<int, std::string>, v1::ObjectMeta> before = MetaByObject(current.repo);
  for (v1::ObjectKind kind : catalog::RepoKinds()) {
    for (Message* m : catalog::MutableObjectsOf(snapshot->mutable_repo(), kind)) {
      std::pair<int, std::string> key{kind, catalog::ObjectName(*m)};
      v1::ObjectMeta meta = before[key];
      auto it = changed.find(key);
      if (it != changed.end()) {
        if (it->second == v1::CREATE ||
            (kind == v1::ON_DEMAND_FEATURE_VIEW && renewed.count(key.second) > 0)) {
          *meta.mutable_created_time() = base::ToProtoTime(result.committed_time);
          meta.set_created_version(result.version);
        }
        *meta.mutable_updated_time() = base::ToProtoTime(result.committed_time);
        meta.set_updated_version(result.version);
      }
      const auto* field = m->GetDescriptor()->FindFieldByName("meta");
      m->GetReflection()->MutableMessage(m, field)->CopyFrom(meta);
    }
  }
  SortLikeTheStore(snapshot->mutable_repo());
  snapshots_->Put(request.project, std::move(snapshot));
  publisher_->Published(request.project, result.version, result.committed_time);
  return result;
}

absl::StatusOr<v1::DeleteObjectResponse> CatalogWriter::DeleteObject(
    const v1::DeleteObjectRequest& request, const std::string& caller) {
  RETURN_IF_ERROR(Required(request.project(), "project"));
  RETURN_IF_ERROR(Required(request.name(), "name"));
  if (request.kind() == v1::PROJECT || request.kind() == v1::OBJECT_KIND_UNSPECIFIED ||
      !v1::ObjectKind_IsValid(request.kind())) {
    return absl::InvalidArgumentError(
        "kind: must name an object kind of a repo (use DeleteProject for a project)");
  }
  ASSIGN_OR_RETURN(ProjectState current, store_->Load(request.project()));
  if (!current.exists) {
    return absl::NotFoundError(absl::StrCat("project ", request.project(), " not found"));
  }
  if (request.has_expected_version() && request.expected_version() != current.version) {
    return absl::AbortedError(absl::StrCat("project ", request.project(), " is at version ",
                                           current.version, ", not ", request.expected_version()));
  }
  // The desired catalog is the current one without the object.
  v1::FeatureRepo desired;
  *desired.mutable_project() = current.repo.project();
  bool found = false;
  for (v1::ObjectKind kind : catalog::RepoKinds()) {
    for (const Message* m : catalog::ObjectsOf(current.repo, kind)) {
      if (kind == request.kind() && catalog::ObjectName(*m) == request.name()) {
        found = true;
        continue;
      }
      catalog::AddObject(&desired, kind)->CopyFrom(*m);
    }
  }
  if (!found) {
    return absl::NotFoundError(absl::StrCat(catalog::KindName(request.kind()), " ", request.name(),
                                            " not found in project ", request.project()));
  }
  catalog::Normalize(&desired);
  std::vector<Problem> problems = ValidateRepo(desired);
  if (!problems.empty()) {
    std::vector<std::string> uses;
    for (const Problem& p : problems) uses.push_back(absl::StrCat(p.path, ": ", p.message));
    return absl::FailedPreconditionError(
        absl::StrCat("cannot delete ", catalog::KindName(request.kind()), " ", request.name(),
                     ": other objects still use it; change or delete them first:\n  ",
                     absl::StrJoin(uses, "\n  ")));
  }
  v1::Diff diff = DiffRepos(current.repo, desired);
  if (diff.breaking() && !request.allow_breaking()) {
    return absl::FailedPreconditionError(BreakingMessage(diff));
  }
  ASSIGN_OR_RETURN(CommitResult committed,
                   CommitChange(current, desired, diff, caller,
                                absl::StrCat("delete ", catalog::KindName(request.kind()), " ",
                                             request.name())));
  v1::DeleteObjectResponse response;
  response.set_version(committed.version);
  *response.mutable_diff() = std::move(diff);
  return response;
}

absl::StatusOr<v1::DeleteProjectResponse> CatalogWriter::DeleteProject(
    const v1::DeleteProjectRequest& request, const std::string& caller) {
  RETURN_IF_ERROR(Required(request.project(), "project"));
  for (int attempt = 1;; ++attempt) {
    ASSIGN_OR_RETURN(ProjectState current, store_->Load(request.project()));
    if (!current.exists) {
      return absl::NotFoundError(absl::StrCat("project ", request.project(), " not found"));
    }
    if (request.has_expected_version() && request.expected_version() != current.version) {
      return absl::AbortedError(absl::StrCat("project ", request.project(), " is at version ",
                                             current.version, ", not ",
                                             request.expected_version()));
    }
    v1::Diff diff = DiffRepos(current.repo, v1::FeatureRepo());
    if (diff.breaking() && !request.allow_breaking()) {
      return absl::FailedPreconditionError(BreakingMessage(diff));
    }
    v1::ObjectChange* c = diff.add_changes();
    c->set_kind(v1::PROJECT);
    c->set_name(request.project());
    c->set_change(v1::DELETE);
    // Deleted only if still at the version read: the history records exactly what went.
    std::set<std::string> views;
    for (const auto& view : current.repo.feature_views()) views.insert(view.name());
    for (const auto& view : current.repo.on_demand_feature_views()) views.insert(view.name());
    absl::StatusOr<int64_t> deleted_at = store_->DeleteProject(
        request.project(), current.version, caller, diff, OnlineCleanupOf(current.repo, views));
    if (absl::IsAborted(deleted_at.status()) && !request.has_expected_version() &&
        attempt < kMaxApplyAttempts) {
      continue;
    }
    RETURN_IF_ERROR(deleted_at.status());
    snapshots_->Forget(request.project());
    // Version 0 tells caches the project is gone.
    publisher_->Published(request.project(), 0, absl::Now());
    if (!views.empty() && cleanups_committed_) cleanups_committed_();
    v1::DeleteProjectResponse response;
    response.set_deleted_version(*deleted_at);
    return response;
  }
}

}  // namespace granary::registry
