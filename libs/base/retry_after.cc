#include "libs/base/retry_after.h"

#include "absl/strings/cord.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

namespace granary::base {
namespace {

constexpr char kPayload[] = "granary/retry-after-ms";

}  // namespace

absl::Status WithRetryAfter(absl::Status status, absl::Duration after) {
  if (!status.ok()) {
    status.SetPayload(kPayload, absl::Cord(absl::StrCat(absl::ToInt64Milliseconds(after))));
  }
  return status;
}

std::optional<absl::Duration> RetryAfter(const absl::Status& status) {
  absl::optional<absl::Cord> payload = status.GetPayload(kPayload);
  int64_t ms;
  if (!payload.has_value() || !absl::SimpleAtoi(std::string(*payload), &ms)) return std::nullopt;
  return absl::Milliseconds(ms);
}

}  // namespace granary::base
