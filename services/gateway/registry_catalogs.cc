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
  // first load (or the registry's word that it does not exist) once.
  client_->Watch(project);
  client_->WaitUntil(
      project, [](const registry_client::Catalog* c) { return c != nullptr; }, first_load_timeout_);
  return client_->Lookup(project);
}

bool RegistryCatalogs::Held(const std::string& project) {
  auto catalog = client_->Lookup(project);
  return catalog.ok() || absl::IsNotFound(catalog.status()) || !catalog::IsProjectName(project);
}

}  // namespace granary::gateway
