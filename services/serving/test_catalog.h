// A catalog for serving's tests: several entity types (INT64, STRING, INT32), views sharing an
// entity, a view keyed by two entities, one without entities, one not online, an on-demand
// view, and feature services with aliases.
//
//   std::shared_ptr<const Catalog> catalog = TestCatalog("shop", /*version=*/1);
#ifndef GRANARY_SERVICES_SERVING_TEST_CATALOG_H_
#define GRANARY_SERVICES_SERVING_TEST_CATALOG_H_

#include <memory>
#include <string>

#include "granary/registry/v1/repo.pb.h"

#include "libs/registry_client/catalog.h"

namespace granary::serving::testing {

registry::v1::FeatureRepo TestRepo(const std::string& project);
std::shared_ptr<const registry_client::Catalog> TestCatalog(const std::string& project,
                                                            int64_t version = 1);
std::shared_ptr<const registry_client::Catalog> CatalogOf(registry::v1::FeatureRepo repo,
                                                          int64_t version = 1);

}  // namespace granary::serving::testing

#endif  // GRANARY_SERVICES_SERVING_TEST_CATALOG_H_
