#include "libs/bus/status.h"

#include "absl/strings/str_cat.h"

namespace granary::bus {

absl::Status FromNats(natsStatus s, absl::string_view what) {
  if (s == NATS_OK) return absl::OkStatus();
  const char* last = nats_GetLastError(nullptr);
  std::string msg = absl::StrCat("nats: ", what, ": ", natsStatus_GetText(s));
  if (last != nullptr && *last != '\0' && last != natsStatus_GetText(s)) {
    absl::StrAppend(&msg, " (", last, ")");
  }
  switch (s) {
    case NATS_TIMEOUT:
      return absl::DeadlineExceededError(msg);
    case NATS_IO_ERROR:
    case NATS_CONNECTION_CLOSED:
    case NATS_NO_SERVER:
    case NATS_STALE_CONNECTION:
    case NATS_CONNECTION_DISCONNECTED:
    case NATS_NOT_YET_CONNECTED:
    case NATS_CONNECTION_AUTH_FAILED:
    case NATS_NO_RESPONDERS:
    case NATS_DRAINING:
    case NATS_MISSED_HEARTBEAT:
      return absl::UnavailableError(msg);
    case NATS_NOT_FOUND:
      return absl::NotFoundError(msg);
    case NATS_INVALID_SUBJECT:
    case NATS_INVALID_ARG:
    case NATS_INVALID_TIMEOUT:
    case NATS_INVALID_QUEUE_NAME:
    case NATS_MAX_PAYLOAD:
      return absl::InvalidArgumentError(msg);
    case NATS_NOT_PERMITTED:
      return absl::PermissionDeniedError(msg);
    case NATS_NO_MEMORY:
    case NATS_SLOW_CONSUMER:
    case NATS_INSUFFICIENT_BUFFER:
      return absl::ResourceExhaustedError(msg);
    case NATS_ILLEGAL_STATE:
    case NATS_MISMATCH:
      return absl::FailedPreconditionError(msg);
    default:
      return absl::InternalError(msg);
  }
}

}  // namespace granary::bus
