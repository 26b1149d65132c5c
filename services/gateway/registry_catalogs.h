// Catalogs from the registry client: projects are watched from the start (config) or from
// the first request that names them.
#ifndef GRANARY_SERVICES_GATEWAY_REGISTRY_CATALOGS_H_
#define GRANARY_SERVICES_GATEWAY_REGISTRY_CATALOGS_H_

#include <memory>
#include <string>
#include <vector>

#include "libs/registry_client/registry_client.h"
#include "services/gateway/access_plan.h"

namespace granary::gateway {

class RegistryCatalogs : public Catalogs {
 public:
  RegistryCatalogs(std::shared_ptr<registry_client::RegistryClient> client,
                   registry_client::ServedProjects projects, absl::Duration first_load_timeout)
      : client_(std::move(client)),
        projects_(std::move(projects)),
        first_load_timeout_(first_load_timeout) {}

  absl::StatusOr<std::shared_ptr<const registry_client::Catalog>> Find(
      const std::string& project) override;
  const std::string& default_project() const override { return projects_.default_project; }
  const std::vector<std::string>& projects() const override { return projects_.projects; }

 private:
  std::shared_ptr<registry_client::RegistryClient> client_;
  const registry_client::ServedProjects projects_;
  const absl::Duration first_load_timeout_;
};

}  // namespace granary::gateway

#endif  // GRANARY_SERVICES_GATEWAY_REGISTRY_CATALOGS_H_
