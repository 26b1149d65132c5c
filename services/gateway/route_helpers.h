// What the per-service route tables share.
#ifndef GRANARY_SERVICES_GATEWAY_ROUTE_HELPERS_H_
#define GRANARY_SERVICES_GATEWAY_ROUTE_HELPERS_H_

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"

#include "services/gateway/access_plan.h"

namespace granary::gateway {

// INVALID_ARGUMENT when the bytes are not a T.
template <typename T>
absl::StatusOr<T> ParseRequest(const std::string& bytes) {
  T message;
  if (!message.ParseFromString(bytes)) {
    return absl::InvalidArgumentError(
        absl::StrCat("request does not parse as ", T::descriptor()->full_name()));
  }
  return message;
}

inline std::string ProjectOr(const std::string& project, Catalogs& catalogs) {
  return project.empty() ? catalogs.default_project() : project;
}

// The request's project, or the gateway's default when it names none; in that case the
// forwarded request is made to name it (the string field `field` appended to the wire bytes,
// which protobuf reads as setting it), so that the backend acts on the project the caller was
// authorized for, whatever default the backend has.
std::string ResolveProject(const std::string& requested, const std::string& bytes, int field,
                           Catalogs& catalogs, AccessPlan& plan);

}  // namespace granary::gateway

#endif  // GRANARY_SERVICES_GATEWAY_ROUTE_HELPERS_H_
