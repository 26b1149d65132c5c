// An Echo service definition for tests of the runtime and of clients (see echo.proto): a
// stand-in upstream whose health a test controls without a backend. Its one dependency is
// healthy while `*healthy` is true when given, else while the file named by
// `echo.healthy_file` exists (or always, when unset).
#ifndef GRANARY_LIBS_SERVER_ECHO_SERVICE_FIXTURE_H_
#define GRANARY_LIBS_SERVER_ECHO_SERVICE_FIXTURE_H_

#include <atomic>
#include <string>

#include "absl/time/time.h"

#include "libs/server/run_service.h"

namespace granary::server {

struct EchoConfig {
  std::string healthy_file;
};

ServiceDefinition<EchoConfig> EchoDefinition(const std::atomic<bool>* healthy = nullptr);

// Blocks until at least `n` Echo calls are inside the handler (bounded by `timeout`).
bool WaitForEchoCallsInFlight(int n, absl::Duration timeout);

}  // namespace granary::server

#endif  // GRANARY_LIBS_SERVER_ECHO_SERVICE_FIXTURE_H_
