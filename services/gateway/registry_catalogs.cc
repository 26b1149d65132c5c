#include "services/gateway/registry_catalogs.h"

#include "libs/catalog/rules.h"

namespace granary::gateway {

absl::StatusOr<std::shared_ptr<const registry_client::Catalog>> RegistryCatalogs::Find(
    const std::string& project) {
  auto catalog = client_->Lookup(project);
  if (catalog.ok() || absl::IsNotFound(catalog.status())) return catalog;
  if (!catalog::IsProjectName(project)) {
    return absl::InvalidArgumentError(
        absl::StrCat("project: '", project, "' is not a project name"));
  }
  // Not loaded: a project no request named before. Watch it from now on, and wait for the
  // first load (or the registry's word that it does not exist) once, where waiting is allowed.
  if (NoWaitScope* scope = NoWaitScope::Current()) {
    scope->NoteMiss();
    return absl::UnavailableError(absl::StrCat("the catalog of '", project, "' is not loaded"));
  }
  client_->Watch(project);
  client_->WaitUntil(
      project, [](const registry_client::Catalog* c) { return c != nullptr; }, first_load_timeout_);
  return client_->Lookup(project);
}

}  // namespace granary::gateway
