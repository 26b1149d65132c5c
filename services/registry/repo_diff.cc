#include "services/registry/repo_diff.h"

#include <map>
#include <string>

#include "libs/catalog/object_kinds.h"
#include "services/registry/breaking_changes.h"
#include "services/registry/field_diff.h"

namespace granary::registry {
namespace {

using google::protobuf::Message;

std::map<std::string, const Message*> ByName(const v1::FeatureRepo& repo, v1::ObjectKind kind) {
  std::map<std::string, const Message*> out;
  for (const Message* m : catalog::ObjectsOf(repo, kind)) out.emplace(catalog::ObjectName(*m), m);
  return out;
}

v1::ObjectChange Change(v1::ObjectKind kind, const std::string& name, v1::ChangeType type) {
  v1::ObjectChange c;
  c.set_kind(kind);
  c.set_name(name);
  c.set_change(type);
  return c;
}

}  // namespace

v1::Diff DiffRepos(const v1::FeatureRepo& current, const v1::FeatureRepo& desired) {
  v1::Diff diff;
  // The project's own description, tags and owner.
  std::vector<v1::FieldChange> project_fields = DiffFields(current.project(), desired.project());
  if (!project_fields.empty() && !current.project().name().empty()) {
    v1::ObjectChange c = Change(v1::PROJECT, desired.project().name(), v1::UPDATE);
    for (auto& f : project_fields) *c.add_fields() = std::move(f);
    *diff.add_changes() = std::move(c);
  }
  for (v1::ObjectKind kind : catalog::RepoKinds()) {
    std::map<std::string, const Message*> before = ByName(current, kind);
    std::map<std::string, const Message*> after = ByName(desired, kind);
    // Both maps are ordered by name: one merge pass gives a stable order.
    auto b = before.begin();
    auto a = after.begin();
    while (b != before.end() || a != after.end()) {
      if (a == after.end() || (b != before.end() && b->first < a->first)) {
        *diff.add_changes() = Change(kind, b->first, v1::DELETE);
        ++b;
      } else if (b == before.end() || a->first < b->first) {
        *diff.add_changes() = Change(kind, a->first, v1::CREATE);
        ++a;
      } else {
        std::vector<v1::FieldChange> fields = DiffFields(*b->second, *a->second);
        if (!fields.empty()) {
          v1::ObjectChange c = Change(kind, a->first, v1::UPDATE);
          for (auto& f : fields) *c.add_fields() = std::move(f);
          *diff.add_changes() = std::move(c);
        }
        ++a;
        ++b;
      }
    }
  }
  MarkBreakingChanges(current, desired, &diff);
  return diff;
}

}  // namespace granary::registry
