#include "services/registry/registry.h"

#include <algorithm>
#include <limits>
#include <map>
#include <set>

#include "absl/strings/escaping.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/clock.h"
#include "google/protobuf/util/time_util.h"

#include "libs/base/proto_time.h"
#include "libs/base/status_macros.h"
#include "libs/catalog/normalize.h"
#include "libs/catalog/object_kinds.h"
#include "services/registry/repo_diff.h"
#include "services/registry/validation.h"

namespace granary::registry {
namespace {

using google::protobuf::Message;
using google::protobuf::util::TimeUtil;

// An apply that pinned no version retries this often when another apply commits first.
constexpr int kMaxApplyAttempts = 5;
constexpr int kDefaultPageSize = 100;
constexpr int kMaxPageSize = 1000;

absl::Status Required(const std::string& value, absl::string_view field) {
  if (value.empty()) return absl::InvalidArgumentError(absl::StrCat(field, ": required"));
  return absl::OkStatus();
}

absl::StatusOr<int> PageSize(int32_t requested) {
  if (requested < 0 || requested > kMaxPageSize) {
    return absl::InvalidArgumentError(
        absl::StrCat("page_size: must be between 0 and ", kMaxPageSize, ", got ", requested));
  }
  return requested == 0 ? kDefaultPageSize : requested;
}

std::string EncodeToken(const std::string& position) { return absl::WebSafeBase64Escape(position); }

absl::StatusOr<std::string> DecodeToken(const std::string& token) {
  std::string position;
  if (!token.empty() && !absl::WebSafeBase64Unescape(token, &position)) {
    return absl::InvalidArgumentError("page_token: not a token from this server");
  }
  return position;
}

// What to remove online for the views of `before` named in `views`: their features and the
// incarnation being deleted.
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

absl::StatusOr<v1::PlanResponse> Registry::Plan(const v1::PlanRequest& request) {
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

absl::StatusOr<v1::ApplyResponse> Registry::Apply(const v1::ApplyRequest& request,
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

absl::StatusOr<CommitResult> Registry::CommitChange(const ProjectState& current,
                                                    const v1::FeatureRepo& desired,
                                                    const v1::Diff& diff, const std::string& caller,
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
      if (c.kind() == v1::FEATURE_VIEW) deleted_views.insert(c.name());
    } else {
      request.upserts.emplace_back(c.kind(), wanted.at({c.kind(), c.name()}));
    }
  }
  request.cleanup = OnlineCleanupOf(current.repo, deleted_views);
  ASSIGN_OR_RETURN(CommitResult result, store_->Commit(request));
  if (!deleted_views.empty() && cleanups_committed_) cleanups_committed_();

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
        if (it->second == v1::CREATE) {
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
  CacheSnapshot(request.project, std::move(snapshot));
  publisher_->Published(request.project, result.version, result.committed_time);
  return result;
}

absl::StatusOr<v1::DeleteObjectResponse> Registry::DeleteObject(
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

absl::StatusOr<v1::DeleteProjectResponse> Registry::DeleteProject(
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
    absl::StatusOr<int64_t> deleted_at = store_->DeleteProject(
        request.project(), current.version, caller, diff, OnlineCleanupOf(current.repo, views));
    if (absl::IsAborted(deleted_at.status()) && !request.has_expected_version() &&
        attempt < kMaxApplyAttempts) {
      continue;
    }
    RETURN_IF_ERROR(deleted_at.status());
    {
      absl::MutexLock lock(&cache_mu_);
      snapshots_.erase(request.project());
    }
    // Version 0 tells caches the project is gone.
    publisher_->Published(request.project(), 0, absl::Now());
    if (!views.empty() && cleanups_committed_) cleanups_committed_();
    v1::DeleteProjectResponse response;
    response.set_deleted_version(*deleted_at);
    return response;
  }
}

absl::StatusOr<v1::Project> Registry::GetProject(const v1::GetProjectRequest& request) {
  RETURN_IF_ERROR(Required(request.project(), "project"));
  ASSIGN_OR_RETURN(ProjectState state, store_->Load(request.project()));
  if (!state.exists) {
    return absl::NotFoundError(absl::StrCat("project ", request.project(), " not found"));
  }
  v1::Project project = state.repo.project();
  project.set_version(state.version);
  *project.mutable_meta()->mutable_created_time() = base::ToProtoTime(state.created_time);
  *project.mutable_meta()->mutable_updated_time() = base::ToProtoTime(state.committed_time);
  project.mutable_meta()->set_updated_version(state.version);
  return project;
}

absl::StatusOr<v1::ListProjectsResponse> Registry::ListProjects(
    const v1::ListProjectsRequest& request) {
  ASSIGN_OR_RETURN(int size, PageSize(request.page_size()));
  ASSIGN_OR_RETURN(std::string after, DecodeToken(request.page_token()));
  std::map<std::string, std::string> tags(request.tags().begin(), request.tags().end());
  // One more than asked tells whether there is a next page.
  ASSIGN_OR_RETURN(std::vector<v1::Project> projects,
                   store_->ListProjects(tags, Page{size + 1, after}));
  v1::ListProjectsResponse response;
  for (int i = 0; i < static_cast<int>(projects.size()) && i < size; ++i) {
    *response.add_projects() = std::move(projects[i]);
  }
  if (static_cast<int>(projects.size()) > size) {
    response.set_next_page_token(EncodeToken(response.projects(size - 1).name()));
  }
  return response;
}

absl::StatusOr<std::unique_ptr<Message>> Registry::GetObject(v1::ObjectKind kind,
                                                             const v1::GetObjectRequest& request) {
  RETURN_IF_ERROR(Required(request.project(), "project"));
  RETURN_IF_ERROR(Required(request.name(), "name"));
  ASSIGN_OR_RETURN(std::unique_ptr<Message> object,
                   store_->GetObject(request.project(), kind, request.name()));
  if (kind == v1::FEATURE_VIEW) {
    ASSIGN_OR_RETURN(std::vector<v1::MaterializationInterval> intervals,
                     store_->MaterializationIntervals(request.project(), request.name()));
    auto* view = static_cast<v1::FeatureView*>(object.get());
    for (auto& i : intervals) *view->add_materialization_intervals() = std::move(i);
  }
  return object;
}

absl::StatusOr<ObjectPage> Registry::ListObjects(v1::ObjectKind kind,
                                                 const v1::ListObjectsRequest& request) {
  RETURN_IF_ERROR(Required(request.project(), "project"));
  ASSIGN_OR_RETURN(int size, PageSize(request.page_size()));
  ASSIGN_OR_RETURN(std::string after, DecodeToken(request.page_token()));
  std::map<std::string, std::string> tags(request.tags().begin(), request.tags().end());
  ObjectPage page;
  ASSIGN_OR_RETURN(page.objects,
                   store_->ListObjects(request.project(), kind, tags, Page{size + 1, after}));
  if (static_cast<int>(page.objects.size()) > size) {
    page.objects.resize(size);
    page.next_page_token = EncodeToken(catalog::ObjectName(*page.objects.back()));
  }
  return page;
}

std::shared_ptr<const v1::Snapshot> Registry::CachedSnapshot(const std::string& project,
                                                             int64_t version) {
  absl::MutexLock lock(&cache_mu_);
  auto it = snapshots_.find(project);
  if (it == snapshots_.end() || it->second->version() != version) return nullptr;
  return it->second;
}

void Registry::CacheSnapshot(const std::string& project,
                             std::shared_ptr<const v1::Snapshot> snapshot) {
  absl::MutexLock lock(&cache_mu_);
  auto& slot = snapshots_[project];
  // Never replace a newer snapshot with an older one (two commits racing to cache).
  if (slot == nullptr || slot->version() < snapshot->version()) slot = std::move(snapshot);
}

absl::StatusOr<v1::GetSnapshotResponse> Registry::GetSnapshot(
    const v1::GetSnapshotRequest& request) {
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
  std::shared_ptr<const v1::Snapshot> snapshot = CachedSnapshot(request.project(), at);
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
    CacheSnapshot(request.project(), std::move(loaded));
  }
  *response.mutable_snapshot() = *snapshot;
  return response;
}

absl::StatusOr<v1::ListHistoryResponse> Registry::ListHistory(
    const v1::ListHistoryRequest& request) {
  RETURN_IF_ERROR(Required(request.project(), "project"));
  ASSIGN_OR_RETURN(int size, PageSize(request.page_size()));
  ASSIGN_OR_RETURN(std::string position, DecodeToken(request.page_token()));
  int64_t before = 0;
  if (!position.empty() && !absl::SimpleAtoi(position, &before)) {
    return absl::InvalidArgumentError("page_token: not a token from this server");
  }
  ASSIGN_OR_RETURN(std::vector<v1::HistoryEntry> entries,
                   store_->ListHistory(request.project(), before, size + 1));
  v1::ListHistoryResponse response;
  for (int i = 0; i < static_cast<int>(entries.size()) && i < size; ++i) {
    *response.add_entries() = std::move(entries[i]);
  }
  if (static_cast<int>(entries.size()) > size) {
    response.set_next_page_token(EncodeToken(absl::StrCat(response.entries(size - 1).version())));
  }
  return response;
}

absl::Status Registry::RecordMaterialization(const v1::RecordMaterializationRequest& request) {
  RETURN_IF_ERROR(Required(request.project(), "project"));
  RETURN_IF_ERROR(Required(request.feature_view(), "feature_view"));
  const v1::MaterializationInterval& i = request.interval();
  if (!i.has_start_time() || !i.has_end_time()) {
    return absl::InvalidArgumentError("interval: start_time and end_time are required");
  }
  if (TimeUtil::TimestampToMicroseconds(i.start_time()) >=
      TimeUtil::TimestampToMicroseconds(i.end_time())) {
    return absl::InvalidArgumentError("interval: start_time must be before end_time");
  }
  // The view must exist: NOT_FOUND naming it otherwise.
  RETURN_IF_ERROR(
      store_->GetObject(request.project(), v1::FEATURE_VIEW, request.feature_view()).status());
  return store_->RecordMaterialization(request.project(), request.feature_view(), i);
}

absl::StatusOr<v1::MaterializationState> Registry::GetMaterializationState(
    const v1::GetMaterializationStateRequest& request) {
  RETURN_IF_ERROR(Required(request.project(), "project"));
  RETURN_IF_ERROR(Required(request.feature_view(), "feature_view"));
  RETURN_IF_ERROR(
      store_->GetObject(request.project(), v1::FEATURE_VIEW, request.feature_view()).status());
  ASSIGN_OR_RETURN(std::vector<v1::MaterializationInterval> intervals,
                   store_->MaterializationIntervals(request.project(), request.feature_view()));
  v1::MaterializationState state;
  int64_t latest = std::numeric_limits<int64_t>::min();
  for (auto& i : intervals) {
    int64_t end = TimeUtil::TimestampToMicroseconds(i.end_time());
    if (end > latest) {
      latest = end;
      *state.mutable_most_recent_end_time() = i.end_time();
    }
    *state.add_intervals() = std::move(i);
  }
  return state;
}

}  // namespace granary::registry
