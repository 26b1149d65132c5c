// A real redis-server on a free loopback port, in a temporary folder, for tests.
//
//   ASSERT_OK_AND_ASSIGN(auto redis, RedisServer::Start());
//   Connect(redis->host(), redis->port());
//   ASSERT_OK(redis->Stop());     // outage
//   ASSERT_OK(redis->Restart());  // same port, empty data
#ifndef GRANARY_LIBS_TESTING_REDIS_SERVER_H_
#define GRANARY_LIBS_TESTING_REDIS_SERVER_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"

#include "libs/testing/backend_process.h"
#include "libs/testing/temp_dir.h"

namespace granary::testing {

struct RedisServerOptions {
  // Extra redis.conf lines, e.g. "user reader on >pw ~* +@read".
  std::vector<std::string> config_lines;
};

class RedisServer {
 public:
  static absl::StatusOr<std::unique_ptr<RedisServer>> Start(RedisServerOptions options = {});

  std::string host() const { return "127.0.0.1"; }
  int port() const { return process_.port(); }
  std::string address() const;
  pid_t pid() const { return process_.pid(); }

  absl::Status Stop() { return process_.Stop(); }
  absl::Status Kill() { return process_.Kill(); }
  absl::Status Restart() { return process_.Restart(); }

 private:
  RedisServer(TempDir dir, BackendSpec spec) : dir_(std::move(dir)), process_(std::move(spec)) {}
  TempDir dir_;
  BackendProcess process_;
};

}  // namespace granary::testing

#endif  // GRANARY_LIBS_TESTING_REDIS_SERVER_H_
