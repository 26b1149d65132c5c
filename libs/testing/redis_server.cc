#include "libs/testing/redis_server.h"

#include <fstream>

#include "absl/strings/str_cat.h"

#include "libs/base/status_macros.h"

namespace granary::testing {

absl::StatusOr<std::unique_ptr<RedisServer>> RedisServer::Start(RedisServerOptions options) {
  ASSIGN_OR_RETURN(TempDir dir, TempDir::Create("redis"));
  std::string conf = dir.path() + "/redis.conf";
  {
    std::ofstream out(conf);
    out << "bind 127.0.0.1\nprotected-mode no\nsave \"\"\nappendonly no\ndaemonize no\n"
        << "logfile \"\"\ndir " << dir.path() << "\n";
    for (const std::string& line : options.config_lines) out << line << "\n";
  }
  BackendSpec spec{
      .name = "redis-server",
      .argv = [conf](int port) -> std::vector<std::string> {
        return {"redis-server", conf, "--port", std::to_string(port)};
      },
      .ready_line = "Ready to accept connections",
      .port_taken_line = "Address already in use",
      .stop_signal = SIGTERM,
      .log_path = dir.path() + "/redis.log",
  };
  auto server = std::unique_ptr<RedisServer>(new RedisServer(std::move(dir), std::move(spec)));
  RETURN_IF_ERROR(server->process_.StartOnFreePort());
  return server;
}

std::string RedisServer::address() const { return absl::StrCat(host(), ":", port()); }

}  // namespace granary::testing
