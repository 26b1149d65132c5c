// An Echo service definition for the runtime's own tests (see echo.proto). Its one dependency
// is healthy while the file named by `echo.healthy_file` exists (or always, when unset), so
// tests can flip health without a backend.
#ifndef GRANARY_LIBS_SERVER_ECHO_SERVICE_FOR_TEST_H_
#define GRANARY_LIBS_SERVER_ECHO_SERVICE_FOR_TEST_H_

#include <string>

#include "absl/time/time.h"

#include "libs/server/run_service.h"

namespace granary::server {

struct EchoConfig {
  std::string healthy_file;
};

ServiceDefinition<EchoConfig> EchoDefinition();

// Blocks until at least `n` Echo calls are inside the handler (bounded by `timeout`).
bool WaitForEchoCallsInFlight(int n, absl::Duration timeout);

}  // namespace granary::server

#endif  // GRANARY_LIBS_SERVER_ECHO_SERVICE_FOR_TEST_H_
