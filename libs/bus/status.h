// NATS.c status codes as absl::Status, right after each call.
//
//   RETURN_IF_ERROR(bus::FromNats(natsConnection_Flush(nc), "flush"));
#ifndef GRANARY_LIBS_BUS_STATUS_H_
#define GRANARY_LIBS_BUS_STATUS_H_

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include <nats/nats.h>

namespace granary::bus {

// OK for NATS_OK; otherwise a code that means something (connection trouble UNAVAILABLE,
// timeouts DEADLINE_EXCEEDED, ...) and a message naming `what` and NATS' own text.
absl::Status FromNats(natsStatus s, absl::string_view what);

}  // namespace granary::bus

#endif  // GRANARY_LIBS_BUS_STATUS_H_
