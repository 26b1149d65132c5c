#include "libs/testing/nats_server.h"

#include "absl/strings/str_cat.h"

#include "libs/base/status_macros.h"

namespace granary::testing {

absl::StatusOr<std::unique_ptr<NatsServer>> NatsServer::Start() {
  ASSIGN_OR_RETURN(TempDir dir, TempDir::Create("nats"));
  std::string store = dir.path() + "/jetstream";
  BackendSpec spec{
      .name = "nats-server",
      .argv = [store](int port) -> std::vector<std::string> {
        return {"nats-server", "-js", "-a", "127.0.0.1", "-p", std::to_string(port), "-sd", store};
      },
      .ready_line = "Server is ready",
      .port_taken_line = "address already in use",
      .stop_signal = SIGTERM,
      .log_path = dir.path() + "/nats.log",
  };
  auto server = std::unique_ptr<NatsServer>(new NatsServer(std::move(dir), std::move(spec)));
  RETURN_IF_ERROR(server->process_.StartOnFreePort());
  return server;
}

std::string NatsServer::url() const { return absl::StrCat("nats://", host(), ":", port()); }

}  // namespace granary::testing
