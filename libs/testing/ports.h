// Free loopback TCP ports for servers started by tests. Ports are drawn at random below the
// kernel's ephemeral range, so the source port of an outgoing connection can never take one,
// and a set is held bound until complete, so it has no repeats. Another process may still
// take a port before it is used: servers that fail to bind are retried on a new one
// (BackendProcess does), and services are best started on port 0.
//
//   ASSIGN_OR_RETURN(std::vector<int> ports, PickFreePorts(3));
#ifndef GRANARY_LIBS_TESTING_PORTS_H_
#define GRANARY_LIBS_TESTING_PORTS_H_

#include <vector>

#include "absl/status/statusor.h"

namespace granary::testing {

absl::StatusOr<std::vector<int>> PickFreePorts(int n);
absl::StatusOr<int> PickFreePort();

}  // namespace granary::testing

#endif  // GRANARY_LIBS_TESTING_PORTS_H_
