#include "services/gateway/authorizer.h"

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"

namespace granary::gateway {
namespace {}  // namespace

std::string ActionsOf(const Check& check) {
  if (check.and_action == Permission::ACTION_UNSPECIFIED) return auth::ActionName(check.action);
  return absl::StrCat(auth::ActionName(check.action), "+", auth::ActionName(check.and_action));
}

std::string Describe(const Check& check) {
  std::string kind = absl::AsciiStrToLower(auth::KindName(check.kind));
  absl::StrReplaceAll({{"_", " "}}, &kind);
  if (check.kind == registry::v1::PROJECT) return absl::StrCat("project '", check.project, "'");
  return absl::StrCat(kind, " '", check.name, "' in project '", check.project, "'");
}

absl::StatusOr<std::shared_ptr<const auth::PermissionIndex>> Authorizer::IndexOf(
    const registry_client::Catalog& catalog) {
  absl::MutexLock lock(&mu_);
  auto& [serial, index] = indexes_[catalog.project()];
  if (index == nullptr || serial != catalog.serial()) {
    index = std::make_shared<auth::PermissionIndex>(catalog.repo().permissions());
    serial = catalog.serial();
  }
  return index;
}

absl::StatusOr<bool> Authorizer::Evaluate(const auth::Identity& who, const Check& check) {
  auto catalog = catalogs_.Find(check.project);
  if (absl::IsNotFound(catalog.status())) return check.creates_project;
  if (!catalog.ok()) return catalog.status();
  auto index = IndexOf(**catalog);
  if (!index.ok()) return index.status();
  return (*index)->AllowsBoth(who, check.action, check.and_action,
                              {check.kind, check.name, check.tags});
}

absl::Status Authorizer::Decide(const auth::Identity& who, const std::vector<Check>& checks) {
  for (const Check& check : checks) {
    auto allowed = Evaluate(who, check);
    if (!allowed.ok()) return allowed.status();
    if (!*allowed) {
      return absl::PermissionDeniedError(
          absl::StrCat("'", who.user, "' may not ", ActionsOf(check), " ", Describe(check)));
    }
  }
  return absl::OkStatus();
}

bool Authorizer::Allows(const auth::Identity& who, const Check& check) {
  auto allowed = Evaluate(who, check);
  return allowed.ok() && *allowed;
}

}  // namespace granary::gateway
