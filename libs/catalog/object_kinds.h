// The six kinds of objects a feature repo holds, their names in each spelling (proto enum,
// YAML/proto field, CLI), and generic access to a FeatureRepo's objects of one kind through
// protobuf reflection, so code that treats all kinds alike (diff, storage, listing) is written
// once.
//
//   for (ObjectKind kind : RepoKinds())
//     for (const google::protobuf::Message* object : ObjectsOf(repo, kind))
//       std::cout << KindName(kind) << " " << ObjectName(*object);
#ifndef GRANARY_LIBS_CATALOG_OBJECT_KINDS_H_
#define GRANARY_LIBS_CATALOG_OBJECT_KINDS_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "google/protobuf/message.h"
#include "granary/registry/v1/repo.pb.h"

namespace granary::catalog {

using ObjectKind = registry::v1::ObjectKind;

// The kinds a FeatureRepo holds, in dependency order: entities and data sources before the
// views that use them, views before the services that project them.
const std::vector<ObjectKind>& RepoKinds();

// "feature_view".
absl::string_view KindName(ObjectKind kind);
// "feature_views": the FeatureRepo field and the YAML key.
absl::string_view KindPlural(ObjectKind kind);
// "feature-views": the CLI's word.
std::string KindCliPlural(ObjectKind kind);

// Accepts any spelling: "feature-view", "feature-views", "feature_view", "FEATURE_VIEW",
// "fv" is not accepted. INVALID_ARGUMENT naming the valid words otherwise.
absl::StatusOr<ObjectKind> ParseKind(absl::string_view text);

// A default-constructed message of the kind (Entity, DataSource, ...).
const google::protobuf::Message& Prototype(ObjectKind kind);

std::vector<const google::protobuf::Message*> ObjectsOf(const registry::v1::FeatureRepo& repo,
                                                        ObjectKind kind);
std::vector<google::protobuf::Message*> MutableObjectsOf(registry::v1::FeatureRepo* repo,
                                                         ObjectKind kind);
// Appends a new, empty object of the kind and returns it.
google::protobuf::Message* AddObject(registry::v1::FeatureRepo* repo, ObjectKind kind);
// The object's `name` field.
std::string ObjectName(const google::protobuf::Message& object);
// The object's `tags` map (empty for kinds without tags).
std::vector<std::pair<std::string, std::string>> ObjectTags(
    const google::protobuf::Message& object);

}  // namespace granary::catalog

#endif  // GRANARY_LIBS_CATALOG_OBJECT_KINDS_H_
