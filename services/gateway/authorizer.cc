#include "services/gateway/authorizer.h"

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"

namespace granary::gateway {
namespace {

const google::protobuf::RepeatedPtrField<Permission>& NoPermissions() {
  static const auto* none = new google::protobuf::RepeatedPtrField<Permission>();
  return *none;
}

}  // namespace

std::string Describe(const Check& check) {
  std::string kind = absl::AsciiStrToLower(auth::KindName(check.kind));
  absl::StrReplaceAll({{"_", " "}}, &kind);
  if (check.kind == registry::v1::PROJECT) return absl::StrCat("project '", check.project, "'");
  return absl::StrCat(kind, " '", check.name, "' in project '", check.project, "'");
}

absl::StatusOr<std::shared_ptr<const auth::PermissionIndex>> Authorizer::IndexOf(
    const std::string& project) {
  auto catalog = catalogs_.Find(project);
  if (absl::IsNotFound(catalog.status())) {
    // Feast's rule: a project without permissions (here: not created yet) is open to every
    // authenticated caller.
    absl::MutexLock lock(&mu_);
    if (open_ == nullptr) open_ = std::make_shared<auth::PermissionIndex>(NoPermissions());
    return open_;
  }
  if (!catalog.ok()) return catalog.status();
  absl::MutexLock lock(&mu_);
  auto& [serial, index] = indexes_[project];
  if (index == nullptr || serial != (*catalog)->serial()) {
    index = std::make_shared<auth::PermissionIndex>((*catalog)->repo().permissions());
    serial = (*catalog)->serial();
  }
  return index;
}

absl::StatusOr<bool> Authorizer::Evaluate(const auth::Identity& who, const Check& check) {
  auto index = IndexOf(check.project);
  if (!index.ok()) return index.status();
  return (*index)->Allows(who, check.action, {check.kind, check.name, check.tags});
}

absl::Status Authorizer::Decide(const auth::Identity& who, const std::vector<Check>& checks) {
  for (const Check& check : checks) {
    auto allowed = Evaluate(who, check);
    if (!allowed.ok()) return allowed.status();
    if (!*allowed) {
      return absl::PermissionDeniedError(absl::StrCat(
          "'", who.user, "' may not ", auth::ActionName(check.action), " ", Describe(check)));
    }
  }
  return absl::OkStatus();
}

bool Authorizer::Allows(const auth::Identity& who, const Check& check) {
  auto allowed = Evaluate(who, check);
  return allowed.ok() && *allowed;
}

}  // namespace granary::gateway
