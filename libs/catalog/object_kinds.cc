#include "libs/catalog/object_kinds.h"

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"
#include "google/protobuf/descriptor.h"
#include "granary/registry/v1/objects.pb.h"

namespace granary::catalog {
namespace {

using google::protobuf::FieldDescriptor;
using google::protobuf::Message;
using registry::v1::FeatureRepo;

const FieldDescriptor* RepoField(ObjectKind kind) {
  return FeatureRepo::descriptor()->FindFieldByName(std::string(KindPlural(kind)));
}

}  // namespace

const std::vector<ObjectKind>& RepoKinds() {
  static const auto* const kKinds = new std::vector<ObjectKind>{
      registry::v1::ENTITY,          registry::v1::DATA_SOURCE,
      registry::v1::FEATURE_VIEW,    registry::v1::ON_DEMAND_FEATURE_VIEW,
      registry::v1::FEATURE_SERVICE, registry::v1::PERMISSION,
  };
  return *kKinds;
}

absl::string_view KindName(ObjectKind kind) {
  switch (kind) {
    case registry::v1::PROJECT:
      return "project";
    case registry::v1::ENTITY:
      return "entity";
    case registry::v1::DATA_SOURCE:
      return "data_source";
    case registry::v1::FEATURE_VIEW:
      return "feature_view";
    case registry::v1::ON_DEMAND_FEATURE_VIEW:
      return "on_demand_feature_view";
    case registry::v1::FEATURE_SERVICE:
      return "feature_service";
    case registry::v1::PERMISSION:
      return "permission";
    default:
      return "unknown";
  }
}

absl::string_view KindPlural(ObjectKind kind) {
  switch (kind) {
    case registry::v1::PROJECT:
      return "projects";
    case registry::v1::ENTITY:
      return "entities";
    case registry::v1::DATA_SOURCE:
      return "data_sources";
    case registry::v1::FEATURE_VIEW:
      return "feature_views";
    case registry::v1::ON_DEMAND_FEATURE_VIEW:
      return "on_demand_feature_views";
    case registry::v1::FEATURE_SERVICE:
      return "feature_services";
    case registry::v1::PERMISSION:
      return "permissions";
    default:
      return "unknown";
  }
}

std::string KindCliPlural(ObjectKind kind) {
  return absl::StrReplaceAll(KindPlural(kind), {{"_", "-"}});
}

absl::StatusOr<ObjectKind> ParseKind(absl::string_view text) {
  std::string t = absl::StrReplaceAll(absl::AsciiStrToLower(text), {{"-", "_"}});
  std::vector<std::string> valid;
  for (ObjectKind kind : RepoKinds()) {
    if (t == KindName(kind) || t == KindPlural(kind)) return kind;
    valid.push_back(KindCliPlural(kind));
  }
  if (t == "project" || t == "projects") return registry::v1::PROJECT;
  valid.push_back("projects");
  return absl::InvalidArgumentError(absl::StrCat("unknown object kind \"", text, "\" (want one of ",
                                                 absl::StrJoin(valid, ", "), ")"));
}

const Message& Prototype(ObjectKind kind) {
  switch (kind) {
    case registry::v1::ENTITY:
      return registry::v1::Entity::default_instance();
    case registry::v1::DATA_SOURCE:
      return registry::v1::DataSource::default_instance();
    case registry::v1::FEATURE_VIEW:
      return registry::v1::FeatureView::default_instance();
    case registry::v1::ON_DEMAND_FEATURE_VIEW:
      return registry::v1::OnDemandFeatureView::default_instance();
    case registry::v1::FEATURE_SERVICE:
      return registry::v1::FeatureService::default_instance();
    case registry::v1::PERMISSION:
      return registry::v1::Permission::default_instance();
    default:
      return registry::v1::Project::default_instance();
  }
}

std::vector<const Message*> ObjectsOf(const FeatureRepo& repo, ObjectKind kind) {
  std::vector<const Message*> out;
  const FieldDescriptor* field = RepoField(kind);
  if (field == nullptr) return out;
  const auto* reflection = repo.GetReflection();
  int n = reflection->FieldSize(repo, field);
  out.reserve(n);
  for (int i = 0; i < n; ++i) out.push_back(&reflection->GetRepeatedMessage(repo, field, i));
  return out;
}

std::vector<Message*> MutableObjectsOf(FeatureRepo* repo, ObjectKind kind) {
  std::vector<Message*> out;
  const FieldDescriptor* field = RepoField(kind);
  if (field == nullptr) return out;
  const auto* reflection = repo->GetReflection();
  int n = reflection->FieldSize(*repo, field);
  out.reserve(n);
  for (int i = 0; i < n; ++i) out.push_back(reflection->MutableRepeatedMessage(repo, field, i));
  return out;
}

Message* AddObject(FeatureRepo* repo, ObjectKind kind) {
  return repo->GetReflection()->AddMessage(repo, RepoField(kind));
}

std::string ObjectName(const Message& object) {
  const FieldDescriptor* name = object.GetDescriptor()->FindFieldByName("name");
  return name == nullptr ? "" : object.GetReflection()->GetString(object, name);
}

std::vector<std::pair<std::string, std::string>> ObjectTags(const Message& object) {
  std::vector<std::pair<std::string, std::string>> out;
  const FieldDescriptor* tags = object.GetDescriptor()->FindFieldByName("tags");
  if (tags == nullptr || !tags->is_map()) return out;
  const auto* reflection = object.GetReflection();
  for (int i = 0; i < reflection->FieldSize(object, tags); ++i) {
    const Message& entry = reflection->GetRepeatedMessage(object, tags, i);
    const auto* entry_reflection = entry.GetReflection();
    out.emplace_back(
        entry_reflection->GetString(entry, entry.GetDescriptor()->FindFieldByName("key")),
        entry_reflection->GetString(entry, entry.GetDescriptor()->FindFieldByName("value")));
  }
  return out;
}

}  // namespace granary::catalog
