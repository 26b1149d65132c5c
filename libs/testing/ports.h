// Free loopback TCP ports for servers started by tests. A port is free when picked; servers
// that fail to bind (another process took it meanwhile) are retried on a new one.
//
//   ASSIGN_OR_RETURN(int port, PickFreePort());
#ifndef GRANARY_LIBS_TESTING_PORTS_H_
#define GRANARY_LIBS_TESTING_PORTS_H_

#include "absl/status/statusor.h"

namespace granary::testing {

absl::StatusOr<int> PickFreePort();

}  // namespace granary::testing

#endif  // GRANARY_LIBS_TESTING_PORTS_H_
