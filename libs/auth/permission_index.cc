#include "libs/auth/permission_index.h"

#include "absl/strings/str_cat.h"

namespace granary::auth {
namespace {

using registry::v1::ObjectKind;
using registry::v1::Permission;

}  // namespace

bool PermissionIndex::Rule::Covers(const Resource& resource) const {
  if (!name_patterns.empty()) {
    bool matched = false;
    for (const auto& pattern : name_patterns) {
      if (RE2::FullMatch(re2::StringPiece(resource.name.data(), resource.name.size()), *pattern)) {
        matched = true;
        break;
      }
    }
    if (!matched) return false;
  }
  for (const auto& [key, value] : required_tags) {
    if (resource.tags == nullptr) return false;
    auto it = resource.tags->find(key);
    if (it == resource.tags->end() || it->second != value) return false;
  }
  return true;
}

PermissionIndex::PermissionIndex(
    const google::protobuf::RepeatedPtrField<Permission>& permissions) {
  for (const Permission& p : permissions) {
    auto rule = std::make_unique<Rule>();
    for (const std::string& pattern : p.name_patterns()) {
      auto re = std::make_unique<RE2>(pattern, RE2::Quiet);
      // The registry validates patterns; one that still fails to compile matches nothing
      // rather than everything.
      if (!re->ok()) re = std::make_unique<RE2>("(?!)", RE2::Quiet);
      rule->name_patterns.push_back(std::move(re));
    }
    for (const auto& [key, value] : p.required_tags()) rule->required_tags.emplace_back(key, value);
    for (int action : p.actions()) rule->actions |= 1u << action;

    std::vector<int> kinds(p.types().begin(), p.types().end());
    if (kinds.empty()) {
      for (int k = registry::v1::ObjectKind_MIN; k <= registry::v1::ObjectKind_MAX; ++k) {
        if (k != registry::v1::OBJECT_KIND_UNSPECIFIED) kinds.push_back(k);
      }
    }
    std::vector<std::string> principals;
    for (const std::string& role : p.policy().roles()) principals.push_back("r:" + role);
    for (const std::string& group : p.policy().groups()) principals.push_back("g:" + group);
    for (int kind : kinds) {
      for (int action : p.actions()) {
        for (const std::string& principal : principals) {
          index_[Key(kind, action, principal)].push_back(rule.get());
        }
      }
    }
    rules_.push_back(std::move(rule));
  }
}

const std::vector<const PermissionIndex::Rule*>* PermissionIndex::Candidates(
    int kind, int action, absl::string_view prefix, absl::string_view principal) const {
  auto it = index_.find(Key(kind, action, absl::StrCat(prefix, principal)));
  return it == index_.end() ? nullptr : &it->second;
}

bool PermissionIndex::Allows(const Identity& who, Permission::Action action,
                             const Resource& resource) const {
  return AllowsBoth(who, action, Permission::ACTION_UNSPECIFIED, resource);
}

bool PermissionIndex::AllowsBoth(const Identity& who, Permission::Action action,
                                 Permission::Action and_action, const Resource& resource) const {
  if (open()) return true;
  const uint32_t also = and_action == Permission::ACTION_UNSPECIFIED ? 0 : 1u << and_action;
  auto any_covers = [&](const std::vector<const Rule*>* rules) {
    if (rules == nullptr) return false;
    for (const Rule* rule : *rules) {
      if ((rule->actions & also) == also && rule->Covers(resource)) return true;
    }
    return false;
  };
  for (const std::string& role : who.roles) {
    if (any_covers(Candidates(resource.kind, action, "r:", role))) return true;
  }
  for (const std::string& group : who.groups) {
    if (any_covers(Candidates(resource.kind, action, "g:", group))) return true;
  }
  return false;
}

std::string ActionName(Permission::Action action) { return Permission::Action_Name(action); }

std::string KindName(ObjectKind kind) { return registry::v1::ObjectKind_Name(kind); }

}  // namespace granary::auth
