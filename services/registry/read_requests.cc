#include "services/registry/read_requests.h"

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"

namespace granary::registry {
namespace {

constexpr int kDefaultPageSize = 100;
constexpr int kMaxPageSize = 1000;

}  // namespace

absl::Status Required(const std::string& value, absl::string_view field) {
  if (value.empty()) return absl::InvalidArgumentError(absl::StrCat(field, ": required"));
  return absl::OkStatus();
}

absl::StatusOr<int> PageSize(int32_t requested) {
  if (requested < 0 || requested > kMaxPageSize) {
    return absl::InvalidArgumentError(
        absl::StrCat("page_size: must be between 0 and ", kMaxPageSize, ", got ", requested));
  }
  return requested == 0 ? kDefaultPageSize : requested;
}

std::string EncodeToken(const std::string& position) { return absl::WebSafeBase64Escape(position); }

absl::StatusOr<std::string> DecodeToken(const std::string& token) {
  std::string position;
  if (!token.empty() && !absl::WebSafeBase64Unescape(token, &position)) {
    return absl::InvalidArgumentError("page_token: not a token from this server");
  }
  return position;
}

}  // namespace granary::registry
