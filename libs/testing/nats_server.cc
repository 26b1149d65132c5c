#include "libs/testing/nats_server.h"

#include "absl/strings/str_cat.h"

#include "libs/base/status_macros.h"

namespace granary::testing {

absl::StatusOr<std::unique_ptr<NatsServer>> NatsServer::Start(NatsServerOptions options) {
  ASSIGN_OR_RETURN(TempDir dir, TempDir::Create("nats"));
  std::string store = dir.path() + "/jetstream";
  BackendSpec spec{
      .name = "nats-server",
      .argv = [store, config = options.config_file](int port) -> std::vector<std::string> {
        std::vector<std::string> argv = {"nats-server",        "-js", "-a", "127.0.0.1", "-p",
                                         std::to_string(port), "-sd", store};
        if (!config.empty()) argv.insert(argv.end(), {"-c", config});
        return argv;
      },
      .ready_line = "Server is ready",
      .port_taken_line = "address already in use",
      .stop_signal = SIGTERM,
      .log_path = dir.path() + "/nats.log",
      .env = std::move(options.env),
  };
  auto server = std::unique_ptr<NatsServer>(new NatsServer(std::move(dir), std::move(spec)));
  RETURN_IF_ERROR(server->process_.StartOnFreePort());
  return server;
}

std::string NatsServer::url() const { return absl::StrCat("nats://", host(), ":", port()); }

}  // namespace granary::testing
