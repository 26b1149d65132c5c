// Validation of a whole feature repo before anything is written: names, types, references
// that must exist, duplicates, TTL ranges, join keys consistent with entity types. Every
// problem is reported at once, each with the path of the offending field:
//
//   feature_views[driver_hourly_stats].schema[2].dtype: a feature type is required
//   feature_services[driver_activity].features[0].features[1]: driver_hourly_stats has no
//       feature "conv_rat"
//
//   std::vector<Problem> problems = ValidateRepo(repo);  // repo normalized first
//   RETURN_IF_ERROR(ProblemsToStatus(problems));
#ifndef GRANARY_SERVICES_REGISTRY_VALIDATION_H_
#define GRANARY_SERVICES_REGISTRY_VALIDATION_H_

#include <ostream>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "granary/registry/v1/repo.pb.h"

namespace granary::registry {

struct Problem {
  std::string path;
  std::string message;

  friend std::ostream& operator<<(std::ostream& os, const Problem& p) {
    return os << p.path << ": " << p.message;
  }
};

// The repo must be normalized (catalog::Normalize) so that defaults are explicit.
std::vector<Problem> ValidateRepo(const v1::FeatureRepo& repo);

// OK when there are no problems; otherwise INVALID_ARGUMENT listing each, one per line.
absl::Status ProblemsToStatus(const std::vector<Problem>& problems);

}  // namespace granary::registry

#endif  // GRANARY_SERVICES_REGISTRY_VALIDATION_H_
