// A repo for tests: Feast's driver example (entity, PostgreSQL and push sources, a request
// source, a feature view, an on-demand view, a feature service, a permission), valid as is.
//
//   v1::FeatureRepo repo = testing::DriverRepo("my_project");
#ifndef GRANARY_SERVICES_REGISTRY_TEST_REPO_H_
#define GRANARY_SERVICES_REGISTRY_TEST_REPO_H_

#include <string>

#include "granary/registry/v1/repo.pb.h"

namespace granary::registry::testing {

v1::FeatureRepo DriverRepo(const std::string& project = "driver_stats");

}  // namespace granary::registry::testing

#endif  // GRANARY_SERVICES_REGISTRY_TEST_REPO_H_
