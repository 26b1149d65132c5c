// What the registry's read requests share: required fields and page tokens. A page token is
// the position after which the next page starts (a name, or a version), opaque to callers.
//
//   ASSIGN_OR_RETURN(int size, PageSize(request.page_size()));
//   ASSIGN_OR_RETURN(std::string after, DecodeToken(request.page_token()));
#ifndef GRANARY_SERVICES_REGISTRY_READ_REQUESTS_H_
#define GRANARY_SERVICES_REGISTRY_READ_REQUESTS_H_

#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace granary::registry {

// INVALID_ARGUMENT naming `field` when `value` is empty.
absl::Status Required(const std::string& value, absl::string_view field);

// The page size to use for `requested` (0: the default); INVALID_ARGUMENT outside the bounds.
absl::StatusOr<int> PageSize(int32_t requested);

std::string EncodeToken(const std::string& position);
// The position in a token from EncodeToken ("" for no token); INVALID_ARGUMENT otherwise.
absl::StatusOr<std::string> DecodeToken(const std::string& token);

}  // namespace granary::registry

#endif  // GRANARY_SERVICES_REGISTRY_READ_REQUESTS_H_
