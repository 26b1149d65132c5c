// Registry methods: reads need DESCRIBE (lists and snapshots are filtered to what the caller
// may see), Apply needs CREATE / UPDATE / DELETE per object of its diff against the current
// catalog, deletes need DELETE.
#include <algorithm>
#include <map>

#include "absl/strings/str_cat.h"
#include "google/protobuf/util/message_differencer.h"
#include "granary/registry/v1/registry_service.pb.h"

#include "libs/catalog/normalize.h"
#include "services/gateway/catalog_objects.h"
#include "services/gateway/route_helpers.h"
#include "services/gateway/routes.h"

namespace granary::gateway {
namespace {

namespace v1 = registry::v1;
using google::protobuf::Message;

constexpr char kService[] = "/granary.registry.v1.RegistryService/";

// Equal but for what the registry keeps about an object (meta, materialization intervals).
bool SameDefinition(const Message& a, const Message& b) {
  google::protobuf::util::MessageDifferencer differ;
  for (const char* ignored : {"meta", "materialization_intervals", "version"}) {
    if (const auto* field = a.GetDescriptor()->FindFieldByName(ignored)) differ.IgnoreField(field);
  }
  return differ.Compare(a, b);
}

// Apply: the diff of the applied repo against the current catalog, one check per object.
absl::StatusOr<AccessPlan> PlanApply(const std::string& bytes, Catalogs& catalogs) {
  auto request = ParseRequest<v1::ApplyRequest>(bytes);
  if (!request.ok()) return request.status();
  auto catalog_now = catalogs.Find(request->repo().project().name());
  int64_t decided_version = catalog_now.ok() ? (*catalog_now)->version() : 0;
  // Decided on this version of the catalog: the registry must apply on it or refuse
  // (ABORTED), else objects added meanwhile could be deleted or changed unchecked.
  if (!request->has_expected_version()) {
    request->set_expected_version(decided_version);
  } else if (request->expected_version() != decided_version) {
    return absl::AbortedError(absl::StrCat("expected_version ", request->expected_version(),
                                           " is not the version the gateway holds (",
                                           decided_version, "): plan again"));
  }
  auto owned = std::make_shared<v1::ApplyRequest>(std::move(*request));
  AccessPlan plan;
  // Compared in the registry's canonical form (defaults explicit), as the registry diffs it:
  // a repo that leaves a default implicit changes nothing.
  auto normalized = std::make_shared<v1::FeatureRepo>(owned->repo());
  catalog::Normalize(normalized.get());
  plan.keep.push_back(normalized);
  const v1::FeatureRepo& repo = *normalized;
  plan.project = repo.project().name();
  plan.keep.push_back(owned);
  plan.rewritten = owned->SerializeAsString();
  auto catalog = catalogs.Find(plan.project);
  if (!catalog.ok() && !absl::IsNotFound(catalog.status())) return catalog.status();

  std::map<std::pair<int, std::string>, const Message*> current;
  if (catalog.ok()) {
    plan.keep.push_back(*catalog);
    ForEachObject((*catalog)->repo(), [&](ObjectKind kind, const Message& o, const auth::Tags&) {
      current[{kind, o.GetReflection()->GetString(o, o.GetDescriptor()->FindFieldByName("name"))}] =
          &o;
    });
  }
  auto name_of = [](const Message& o) {
    return o.GetReflection()->GetString(o, o.GetDescriptor()->FindFieldByName("name"));
  };
  if (!catalog.ok()) {
    plan.checks.push_back({plan.project, Permission::CREATE, v1::PROJECT, plan.project,
                           &repo.project().tags(), /*creates_project=*/true});
  } else if (!SameDefinition(repo.project(), (*catalog)->repo().project())) {
    // Feast's rule for an update: the caller must see what it changes, so one permission
    // must grant UPDATE and DESCRIBE.
    plan.checks.push_back({plan.project, Permission::UPDATE, v1::PROJECT, plan.project,
                           &(*catalog)->repo().project().tags(), false, Permission::DESCRIBE});
  }
  ForEachObject(repo, [&](ObjectKind kind, const Message& o, const auth::Tags& tags) {
    std::string name = name_of(o);
    auto it = current.find({kind, name});
    if (it == current.end()) {
      plan.checks.push_back({plan.project, Permission::CREATE, kind, name, &tags, !catalog.ok()});
      return;
    }
    if (!SameDefinition(o, *it->second)) {
      // Both the object as it is and as it would be must be the caller's: retagging an object
      // must not move it out of another team's permissions.
      plan.checks.push_back(
          {plan.project, Permission::UPDATE, kind, name, &tags, false, Permission::DESCRIBE});
      plan.checks.push_back({plan.project, Permission::UPDATE, kind, name,
                             TagsIn(**catalog, kind, name), false, Permission::DESCRIBE});
    }
    current.erase(it);
  });
  // What the repo no longer has, Apply deletes.
  for (const auto& [key, object] : current) {
    plan.checks.push_back({plan.project, Permission::DELETE, static_cast<ObjectKind>(key.first),
                           key.second,
                           TagsIn(**catalog, static_cast<ObjectKind>(key.first), key.second)});
  }
  return plan;
}

template <typename Request>
PlanFn OnProject(Permission::Action action) {
  return [action](const std::string& bytes, Catalogs& catalogs) -> absl::StatusOr<AccessPlan> {
    auto request = ParseRequest<Request>(bytes);
    if (!request.ok()) return request.status();
    AccessPlan plan;
    plan.project = ResolveProject(request->project(), bytes, 1, catalogs, plan);
    AddCheck(plan, catalogs, plan.project, action, v1::PROJECT, plan.project);
    return plan;
  };
}

PlanFn GetObject(ObjectKind kind) {
  return [kind](const std::string& bytes, Catalogs& catalogs) -> absl::StatusOr<AccessPlan> {
    auto request = ParseRequest<v1::GetObjectRequest>(bytes);
    if (!request.ok()) return request.status();
    AccessPlan plan;
    plan.project = ResolveProject(request->project(), bytes, 1, catalogs, plan);
    AddCheck(plan, catalogs, plan.project, Permission::DESCRIBE, kind, request->name());
    return plan;
  };
}

// Lists need nothing up front; their responses keep what the caller may DESCRIBE.
PlanFn ListObjects() {
  return [](const std::string& bytes, Catalogs& catalogs) -> absl::StatusOr<AccessPlan> {
    auto request = ParseRequest<v1::ListObjectsRequest>(bytes);
    if (!request.ok()) return request.status();
    AccessPlan plan;
    plan.project = ResolveProject(request->project(), bytes, 1, catalogs, plan);
    return plan;
  };
}

bool MayDescribe(const auth::Identity& who, Authorizer& authorizer, const std::string& project,
                 ObjectKind kind, const std::string& name) {
  AccessPlan plan;
  AddCheck(plan, authorizer.catalogs(), project, Permission::DESCRIBE, kind, name);
  return authorizer.Allows(who, plan.checks.front());
}

// Keeps, of a list response's objects, those the caller may DESCRIBE.
template <typename Response, typename Objects>
FilterFn KeepDescribable(ObjectKind kind, Objects* (Response::*objects_of)()) {
  return [kind, objects_of](std::string* bytes, const AccessPlan& plan, const auth::Identity& who,
                            Authorizer& authorizer) -> absl::Status {
    Response response;
    if (!response.ParseFromString(*bytes)) return absl::InternalError("bad response from registry");
    Objects* objects = (response.*objects_of)();
    auto end = std::stable_partition(objects->begin(), objects->end(), [&](const auto& o) {
      return MayDescribe(who, authorizer, plan.project, kind, o.name());
    });
    objects->DeleteSubrange(static_cast<int>(end - objects->begin()),
                            static_cast<int>(objects->end() - end));
    *bytes = response.SerializeAsString();
    return absl::OkStatus();
  };
}

// Keeps, of a diff, the changes to objects the caller may DESCRIBE (a diff carries old values).
void KeepDescribableChanges(v1::Diff* diff, const std::string& project, const auth::Identity& who,
                            Authorizer& authorizer) {
  // A project that does not exist yet hides nothing: its diff is the caller's own repo.
  if (absl::IsNotFound(authorizer.catalogs().Find(project).status())) return;
  auto* changes = diff->mutable_changes();
  auto end =
      std::stable_partition(changes->begin(), changes->end(), [&](const v1::ObjectChange& c) {
        const std::string& name = c.kind() == v1::PROJECT ? project : c.name();
        return MayDescribe(who, authorizer, project, c.kind(), name);
      });
  changes->DeleteSubrange(static_cast<int>(end - changes->begin()),
                          static_cast<int>(changes->end() - end));
}

template <typename Response>
absl::Status FilterDiff(std::string* bytes, const AccessPlan& plan, const auth::Identity& who,
                        Authorizer& authorizer) {
  Response response;
  if (!response.ParseFromString(*bytes)) return absl::InternalError("bad response from registry");
  KeepDescribableChanges(response.mutable_diff(), plan.project, who, authorizer);
  *bytes = response.SerializeAsString();
  return absl::OkStatus();
}

absl::Status FilterHistory(std::string* bytes, const AccessPlan& plan, const auth::Identity& who,
                           Authorizer& authorizer) {
  v1::ListHistoryResponse response;
  if (!response.ParseFromString(*bytes)) return absl::InternalError("bad response from registry");
  auto* entries = response.mutable_entries();
  for (auto& entry : *entries) {
    const int changes = entry.diff().changes_size();
    KeepDescribableChanges(entry.mutable_diff(), plan.project, who, authorizer);
    // An entry of hidden changes only goes: its time, author and comment would tell of them.
    // One that lost some keeps its time and author, not its comment (which may name them).
    if (changes > 0 && entry.diff().changes_size() == 0) {
      entry.clear_version();
    } else if (entry.diff().changes_size() < changes) {
      entry.clear_comment();
    }
  }
  auto end = std::stable_partition(entries->begin(), entries->end(),
                                   [](const v1::HistoryEntry& e) { return e.version() != 0; });
  entries->DeleteSubrange(static_cast<int>(end - entries->begin()),
                          static_cast<int>(entries->end() - end));
  *bytes = response.SerializeAsString();
  return absl::OkStatus();
}

// Deleting a project deletes every object in it: DELETE on each, as Apply would need, on the
// version decided on.
absl::StatusOr<AccessPlan> PlanDeleteProject(const std::string& bytes, Catalogs& catalogs) {
  auto request = ParseRequest<v1::DeleteProjectRequest>(bytes);
  if (!request.ok()) return request.status();
  AccessPlan plan;
  plan.project = ProjectOr(request->project(), catalogs);
  request->set_project(plan.project);
  auto catalog = catalogs.Find(plan.project);
  if (!catalog.ok()) return catalog.status();
  if (!request->has_expected_version()) request->set_expected_version((*catalog)->version());
  plan.rewritten = request->SerializeAsString();
  plan.keep.push_back(*catalog);
  plan.checks.push_back({plan.project, Permission::DELETE, v1::PROJECT, plan.project,
                         &(*catalog)->repo().project().tags()});
  ForEachObject((*catalog)->repo(), [&](ObjectKind kind, const Message& o, const auth::Tags& tags) {
    plan.checks.push_back(
        {plan.project, Permission::DELETE, kind,
         o.GetReflection()->GetString(o, o.GetDescriptor()->FindFieldByName("name")), &tags});
  });
  return plan;
}

absl::Status FilterProjects(std::string* bytes, const AccessPlan&, const auth::Identity& who,
                            Authorizer& authorizer) {
  v1::ListProjectsResponse response;
  if (!response.ParseFromString(*bytes)) return absl::InternalError("bad response from registry");
  auto* projects = response.mutable_projects();
  auto end = std::stable_partition(projects->begin(), projects->end(), [&](const v1::Project& p) {
    return MayDescribe(who, authorizer, p.name(), v1::PROJECT, p.name());
  });
  projects->DeleteSubrange(static_cast<int>(end - projects->begin()),
                           static_cast<int>(projects->end() - end));
  *bytes = response.SerializeAsString();
  return absl::OkStatus();
}

// A snapshot keeps only the objects the caller may DESCRIBE.
absl::Status FilterSnapshot(std::string* bytes, const AccessPlan& plan, const auth::Identity& who,
                            Authorizer& authorizer) {
  v1::GetSnapshotResponse response;
  if (!response.ParseFromString(*bytes)) return absl::InternalError("bad response from registry");
  if (!response.has_snapshot()) return absl::OkStatus();
  v1::FeatureRepo* repo = response.mutable_snapshot()->mutable_repo();
  auto keep = [&](auto* objects, ObjectKind kind) {
    auto end = std::stable_partition(objects->begin(), objects->end(), [&](const auto& o) {
      return MayDescribe(who, authorizer, plan.project, kind, o.name());
    });
    objects->DeleteSubrange(static_cast<int>(end - objects->begin()),
                            static_cast<int>(objects->end() - end));
  };
  keep(repo->mutable_entities(), v1::ENTITY);
  keep(repo->mutable_data_sources(), v1::DATA_SOURCE);
  keep(repo->mutable_feature_views(), v1::FEATURE_VIEW);
  keep(repo->mutable_on_demand_feature_views(), v1::ON_DEMAND_FEATURE_VIEW);
  keep(repo->mutable_feature_services(), v1::FEATURE_SERVICE);
  keep(repo->mutable_permissions(), v1::PERMISSION);
  *bytes = response.SerializeAsString();
  return absl::OkStatus();
}

}  // namespace

void AddRegistryRoutes(const std::function<void(std::string, Route)>& add) {
  auto route = [&](const char* method, PlanFn plan, FilterFn filter = nullptr) {
    add(absl::StrCat(kService, method),
        Route{Upstream::kRegistry, false, false, std::move(plan), std::move(filter)});
  };
  route(
      "Plan",
      [](const std::string& bytes, Catalogs& catalogs) -> absl::StatusOr<AccessPlan> {
        auto request = ParseRequest<v1::PlanRequest>(bytes);
        if (!request.ok()) return request.status();
        AccessPlan plan;
        plan.project = request->repo().project().name();
        AddCheck(plan, catalogs, plan.project, Permission::DESCRIBE, v1::PROJECT, plan.project);
        // Planning a project that does not exist yet reveals nothing: allowed as its creation is.
        plan.checks.back().creates_project = true;
        return plan;
      },
      FilterDiff<v1::PlanResponse>);
  route("Apply", PlanApply, FilterDiff<v1::ApplyResponse>);
  route("GetProject", OnProject<v1::GetProjectRequest>(Permission::DESCRIBE));
  route(
      "ListProjects",
      [](const std::string& bytes, Catalogs&) -> absl::StatusOr<AccessPlan> {
        auto request = ParseRequest<v1::ListProjectsRequest>(bytes);
        if (!request.ok()) return request.status();
        return AccessPlan{};
      },
      FilterProjects);
  route("DeleteProject", PlanDeleteProject);
  const std::pair<const char*, ObjectKind> kinds[] = {
      {"Entit", v1::ENTITY},
      {"DataSource", v1::DATA_SOURCE},
      {"FeatureView", v1::FEATURE_VIEW},
      {"OnDemandFeatureView", v1::ON_DEMAND_FEATURE_VIEW},
      {"FeatureService", v1::FEATURE_SERVICE},
      {"Permission", v1::PERMISSION}};
  for (const auto& [noun, kind] : kinds) {
    bool entity = kind == v1::ENTITY;
    route(absl::StrCat("Get", noun, entity ? "y" : "").c_str(), GetObject(kind));
  }
  route("ListEntities", ListObjects(),
        KeepDescribable(v1::ENTITY, &v1::ListEntitiesResponse::mutable_entities));
  route("ListDataSources", ListObjects(),
        KeepDescribable(v1::DATA_SOURCE, &v1::ListDataSourcesResponse::mutable_data_sources));
  route("ListFeatureViews", ListObjects(),
        KeepDescribable(v1::FEATURE_VIEW, &v1::ListFeatureViewsResponse::mutable_feature_views));
  route("ListOnDemandFeatureViews", ListObjects(),
        KeepDescribable(v1::ON_DEMAND_FEATURE_VIEW,
                        &v1::ListOnDemandFeatureViewsResponse::mutable_on_demand_feature_views));
  route("ListFeatureServices", ListObjects(),
        KeepDescribable(v1::FEATURE_SERVICE,
                        &v1::ListFeatureServicesResponse::mutable_feature_services));
  route("ListPermissions", ListObjects(),
        KeepDescribable(v1::PERMISSION, &v1::ListPermissionsResponse::mutable_permissions));
  route("DeleteObject",
        [](const std::string& bytes, Catalogs& catalogs) -> absl::StatusOr<AccessPlan> {
          auto request = ParseRequest<v1::DeleteObjectRequest>(bytes);
          if (!request.ok()) return request.status();
          AccessPlan plan;
          // Decided on the catalog held: deleted on that version or refused.
          auto catalog = catalogs.Find(ProjectOr(request->project(), catalogs));
          if (!catalog.ok()) return catalog.status();
          if (!request->has_expected_version()) {
            request->set_project(ProjectOr(request->project(), catalogs));
            request->set_expected_version((*catalog)->version());
            plan.rewritten = request->SerializeAsString();
          }
          plan.project = ResolveProject(request->project(), bytes, 1, catalogs, plan);
          AddCheck(plan, catalogs, plan.project, Permission::DELETE, request->kind(),
                   request->name());
          return plan;
        });
  route(
      "GetSnapshot",
      [](const std::string& bytes, Catalogs& catalogs) -> absl::StatusOr<AccessPlan> {
        auto request = ParseRequest<v1::GetSnapshotRequest>(bytes);
        if (!request.ok()) return request.status();
        AccessPlan plan;
        plan.project = ResolveProject(request->project(), bytes, 1, catalogs, plan);
        AddCheck(plan, catalogs, plan.project, Permission::DESCRIBE, v1::PROJECT, plan.project);
        return plan;
      },
      FilterSnapshot);
  route("ListHistory", OnProject<v1::ListHistoryRequest>(Permission::DESCRIBE), FilterHistory);
  route("GetMaterializationState",
        [](const std::string& bytes, Catalogs& catalogs) -> absl::StatusOr<AccessPlan> {
          auto request = ParseRequest<v1::GetMaterializationStateRequest>(bytes);
          if (!request.ok()) return request.status();
          AccessPlan plan;
          plan.project = ResolveProject(request->project(), bytes, 1, catalogs, plan);
          AddCheck(plan, catalogs, plan.project, Permission::DESCRIBE, v1::FEATURE_VIEW,
                   request->feature_view());
          return plan;
        });
  // RecordMaterialization is the materializer's own bookkeeping, called on the registry
  // directly: not routed.
}

}  // namespace granary::gateway
