// A real nats-server with JetStream on a free loopback port, for tests.
//
//   ASSERT_OK_AND_ASSIGN(auto nats, NatsServer::Start());
//   natsConnection_ConnectTo(&conn, nats->url().c_str());
//   NatsServer::Start({.config_file = "deploy/nats/nats.conf", .env = {"PASSWORD=..."}});
#ifndef GRANARY_LIBS_TESTING_NATS_SERVER_H_
#define GRANARY_LIBS_TESTING_NATS_SERVER_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"

#include "libs/testing/backend_process.h"
#include "libs/testing/temp_dir.h"

namespace granary::testing {

struct NatsServerOptions {
  // A configuration file (-c), e.g. deploy/nats/nats.conf; the port, the address and JetStream
  // still come from the command line.
  std::string config_file;
  // NAME=VALUE entries for the server's environment (the variables a config file names).
  std::vector<std::string> env;
};

class NatsServer {
 public:
  static absl::StatusOr<std::unique_ptr<NatsServer>> Start(NatsServerOptions options = {});

  std::string host() const { return "127.0.0.1"; }
  int port() const { return process_.port(); }
  // nats://127.0.0.1:<port>
  std::string url() const;
  pid_t pid() const { return process_.pid(); }
  // The server's log (permission violations, for tests of deploy/nats).
  std::string log_path() const { return dir_.path() + "/nats.log"; }

  absl::Status Stop() { return process_.Stop(); }
  absl::Status Kill() { return process_.Kill(); }
  // Same port and the same JetStream store: streams and stored messages survive.
  absl::Status Restart() { return process_.Restart(); }

 private:
  NatsServer(TempDir dir, BackendSpec spec) : dir_(std::move(dir)), process_(std::move(spec)) {}
  TempDir dir_;
  BackendProcess process_;
};

}  // namespace granary::testing

#endif  // GRANARY_LIBS_TESTING_NATS_SERVER_H_
