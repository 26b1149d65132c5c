// A thread-safe Redis client over a small pool of connections. Connections open lazily; a
// failed one is dropped, and an idle one is checked before reuse (a Redis restart closes it
// while idle), so the client reconnects by itself when Redis comes back. A command is never
// sent twice: a failure after sending is returned to the caller, who alone knows whether the
// command may be repeated.
//
//   redis::Client client(options);
//   RETURN_IF_ERROR(client.Ping());
//   ASSIGN_OR_RETURN(Reply r, client.Command({"GET", "k"}));
#ifndef GRANARY_LIBS_REDIS_CLIENT_H_
#define GRANARY_LIBS_REDIS_CLIENT_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"

#include "libs/redis/connection.h"
#include "libs/redis/options.h"

namespace granary::redis {

class Client {
 public:
  explicit Client(RedisOptions options) : options_(std::move(options)) {}

  absl::StatusOr<Reply> Command(const std::vector<std::string>& args);
  absl::StatusOr<std::vector<Reply>> Pipeline(
      const std::vector<std::vector<std::string>>& commands);
  // OK when Redis answers PING (connecting first if needed).
  absl::Status Ping();

  const RedisOptions& options() const { return options_; }

 private:
  // A healthy idle connection, or a new one.
  absl::StatusOr<std::unique_ptr<Connection>> Borrow();
  void Return(std::unique_ptr<Connection> conn);

  const RedisOptions options_;
  absl::Mutex mu_;
  std::vector<std::unique_ptr<Connection>> idle_ ABSL_GUARDED_BY(mu_);
};

}  // namespace granary::redis

#endif  // GRANARY_LIBS_REDIS_CLIENT_H_
