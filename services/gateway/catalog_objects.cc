#include "services/gateway/catalog_objects.h"

#include "services/gateway/route_helpers.h"

namespace granary::gateway {

using registry::v1::FeatureRepo;

void ForEachObject(const FeatureRepo& repo,
                   const std::function<void(ObjectKind, const google::protobuf::Message&,
                                            const auth::Tags&)>& fn) {
  for (const auto& o : repo.entities()) fn(registry::v1::ENTITY, o, o.tags());
  for (const auto& o : repo.data_sources()) fn(registry::v1::DATA_SOURCE, o, o.tags());
  for (const auto& o : repo.feature_views()) fn(registry::v1::FEATURE_VIEW, o, o.tags());
  for (const auto& o : repo.on_demand_feature_views()) {
    fn(registry::v1::ON_DEMAND_FEATURE_VIEW, o, o.tags());
  }
  for (const auto& o : repo.feature_services()) fn(registry::v1::FEATURE_SERVICE, o, o.tags());
  for (const auto& o : repo.permissions()) fn(registry::v1::PERMISSION, o, o.tags());
}

const auth::Tags* TagsIn(const registry_client::Catalog& catalog, ObjectKind kind,
                         const std::string& name) {
  switch (kind) {
    case registry::v1::PROJECT:
      return name == catalog.project() ? &catalog.repo().project().tags() : nullptr;
    case registry::v1::ENTITY:
      if (const auto* o = catalog.FindEntity(name)) return &o->tags();
      return nullptr;
    case registry::v1::DATA_SOURCE:
      if (const auto* o = catalog.FindDataSource(name)) return &o->tags();
      return nullptr;
    case registry::v1::FEATURE_VIEW:
      if (const auto* o = catalog.FindFeatureView(name)) return &o->tags();
      return nullptr;
    case registry::v1::ON_DEMAND_FEATURE_VIEW:
      if (const auto* o = catalog.FindOnDemandFeatureView(name)) return &o->tags();
      return nullptr;
    case registry::v1::FEATURE_SERVICE:
      if (const auto* o = catalog.FindFeatureService(name)) return &o->tags();
      return nullptr;
    case registry::v1::PERMISSION:
      for (const auto& p : catalog.repo().permissions()) {
        if (p.name() == name) return &p.tags();
      }
      return nullptr;
    default:
      return nullptr;
  }
}

void AddCheck(AccessPlan& plan, Catalogs& catalogs, const std::string& project,
              Permission::Action action, ObjectKind kind, const std::string& name) {
  Check check{project, action, kind, kind == registry::v1::PROJECT ? project : name, nullptr};
  auto catalog = catalogs.Find(project);
  if (catalog.ok()) {
    check.tags = TagsIn(**catalog, kind, check.name);
    plan.keep.push_back(*catalog);
  }
  plan.checks.push_back(std::move(check));
}

std::string ResolveProject(const std::string& requested, const std::string& bytes, int field,
                           Catalogs& catalogs, AccessPlan& plan) {
  if (!requested.empty()) return requested;
  const std::string& project = catalogs.default_project();
  std::string out = bytes;
  auto varint = [&out](uint64_t v) {
    while (v >= 0x80) {
      out.push_back(static_cast<char>((v & 0x7f) | 0x80));
      v >>= 7;
    }
    out.push_back(static_cast<char>(v));
  };
  varint((static_cast<uint64_t>(field) << 3) | 2);  // wire type 2: length-delimited
  varint(project.size());
  out += project;
  plan.rewritten = std::move(out);
  return project;
}

}  // namespace granary::gateway
