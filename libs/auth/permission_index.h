// Decides what a caller may do in one project, from that project's Permission objects, with
// Feast's semantics (FACTS.md): one permission that covers the resource and grants the action
// to one of the caller's roles or groups is enough; a project without permissions lets any
// authenticated caller do anything; a project with permissions refuses what none grants.
//
// Built once per registry version (the gateway keeps one per catalog): permissions are indexed
// by (resource kind, action, role or group), so a decision looks only at the few permissions
// that could grant it, not at every permission of the project. Immutable; thread-safe.
//
//   PermissionIndex index(catalog.repo().permissions());
//   if (!index.Allows(who, Permission::READ_ONLINE, {FEATURE_VIEW, "driver_hourly_stats", &tags}))
#ifndef GRANARY_LIBS_AUTH_PERMISSION_INDEX_H_
#define GRANARY_LIBS_AUTH_PERMISSION_INDEX_H_

#include <memory>
#include <string>
#include <tuple>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/string_view.h"
#include "google/protobuf/map.h"
#include "google/protobuf/repeated_ptr_field.h"
#include "granary/registry/v1/objects.pb.h"
#include "re2/re2.h"

#include "libs/auth/identity.h"

namespace granary::auth {

using Tags = google::protobuf::Map<std::string, std::string>;

// The object an action is on. `tags` may be null (an object without tags).
struct Resource {
  registry::v1::ObjectKind kind = registry::v1::OBJECT_KIND_UNSPECIFIED;
  absl::string_view name;
  const Tags* tags = nullptr;
};

class PermissionIndex {
 public:
  explicit PermissionIndex(
      const google::protobuf::RepeatedPtrField<registry::v1::Permission>& permissions);
  PermissionIndex(const PermissionIndex&) = delete;
  PermissionIndex& operator=(const PermissionIndex&) = delete;

  bool Allows(const Identity& who, registry::v1::Permission::Action action,
              const Resource& resource) const;
  // Both actions from one permission (Feast's rule for a request that needs several: a push
  // online and offline, an update of an object the caller must also see).
  bool AllowsBoth(const Identity& who, registry::v1::Permission::Action action,
                  registry::v1::Permission::Action and_action, const Resource& resource) const;

  // No permissions defined: every authenticated caller may do anything.
  bool open() const { return rules_.empty(); }

 private:
  struct Rule {
    std::vector<std::unique_ptr<RE2>> name_patterns;  // empty: every name
    std::vector<std::pair<std::string, std::string>> required_tags;
    uint32_t actions = 0;  // bit per Permission::Action
    bool Covers(const Resource& resource) const;
  };
  // (kind, action, "r:" + role or "g:" + group)
  using Key = std::tuple<int, int, std::string>;

  const std::vector<const Rule*>* Candidates(int kind, int action, absl::string_view prefix,
                                             absl::string_view principal) const;

  std::vector<std::unique_ptr<Rule>> rules_;
  absl::flat_hash_map<Key, std::vector<const Rule*>> index_;
};

// "READ_ONLINE", "FEATURE_VIEW": for messages and audit lines.
std::string ActionName(registry::v1::Permission::Action action);
std::string KindName(registry::v1::ObjectKind kind);

}  // namespace granary::auth

#endif  // GRANARY_LIBS_AUTH_PERMISSION_INDEX_H_
