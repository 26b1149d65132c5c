// One connection to Redis (not thread-safe): commands and pipelines, binary-safe arguments.
// A failed status means the connection itself failed (it is then broken() and must be
// dropped); an error reply from Redis is a Reply of type kError.
//
//   ASSIGN_OR_RETURN(auto conn, Connection::Open(options));
//   ASSIGN_OR_RETURN(Reply r, conn->Command({"HGET", key, field}));
//   ASSIGN_OR_RETURN(std::vector<Reply> rs, conn->Pipeline({{"HMGET", k1, f}, {"HMGET", k2, f}}));
#ifndef GRANARY_LIBS_REDIS_CONNECTION_H_
#define GRANARY_LIBS_REDIS_CONNECTION_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/functional/function_ref.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"

#include "libs/redis/options.h"
#include "libs/redis/reply.h"

struct redisContext;
struct redisReply;
struct redisReplyObjectFunctions;

namespace granary::redis {

// Replies parsed without building reply objects: for hot paths reading large arrays, the
// reader hands each part to the sink as it parses it (the bytes are valid during the call).
class ReplySink {
 public:
  virtual ~ReplySink() = default;
  // A whole reply that is not an array: its hiredis type (REDIS_REPLY_STATUS, _ERROR,
  // _STRING, _INTEGER, _NIL) and text when it has one.
  virtual void OnReply(int type, const char* data, size_t size) = 0;
  // The start of an array reply of `elements` elements.
  virtual void OnArray(size_t elements) = 0;
  // One element of that array: a string (data, size), or nil (data null); anything else (an
  // integer, a nested array) comes with its type and no data.
  virtual void OnElement(size_t index, int type, const char* data, size_t size) = 0;
};

class Connection {
 public:
  // Connects and authenticates. UNAVAILABLE when Redis cannot be reached or refuses the
  // credentials (from a client's point of view the backend is unusable either way).
  static absl::StatusOr<std::unique_ptr<Connection>> Open(const RedisOptions& options);

  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;
  ~Connection();

  absl::StatusOr<Reply> Command(const std::vector<std::string>& args);
  // All commands go out before any reply is read: one round trip for the batch.
  absl::StatusOr<std::vector<Reply>> Pipeline(
      const std::vector<std::vector<std::string>>& commands);

  // The raw interface, for hot paths that must not copy replies: queue commands, then read
  // their replies one by one while hiredis still owns them. A failed status breaks the
  // connection, as above.
  //
  //   conn.SetDeadline(deadline);
  //   conn.Append(argv, lens);  conn.Append(argv2, lens2);
  //   conn.ReadRaw([&](const redisReply& r) { ... });  // once per appended command
  //
  // Each socket wait (SO_RCVTIMEO, SO_SNDTIMEO: per recv and send, not per reply, and
  // rounded up by the kernel to its tick) is bounded by the time left, rounded up to the
  // millisecond; the socket is only touched when that bound changes. A pipeline that sets
  // "now + the command timeout" before every batch paid two setsockopt calls per batch to
  // move it by microseconds.
  absl::Status SetDeadline(absl::Time deadline);
  absl::Status Append(int argc, const char* const* argv, const size_t* lens);
  // Queues commands already in the Redis protocol (RESP), as they are.
  absl::Status AppendFormatted(absl::string_view commands);
  absl::Status ReadRaw(absl::FunctionRef<void(const redisReply& reply)> read);
  // For callers that must act while waiting (answer a request whose deadline passed): send
  // what was appended, then read replies one at a time, each only if it arrives by `until`.
  //
  //   conn.Flush();
  //   ASSIGN_OR_RETURN(bool got, conn.ReadRawUntil(until, read));  // false: not yet, still fine
  absl::Status Flush();
  // `wake_fd`, when not -1, also ends the wait (returning false) once it is readable.
  absl::StatusOr<bool> ReadRawUntil(absl::Time until,
                                    absl::FunctionRef<void(const redisReply& reply)> read,
                                    int wake_fd = -1);

  // From now on replies go to `sink` (not owned; null goes back to reply objects): after
  // Flush, ReadStreamedUntil parses them. Command, Pipeline and ReadRaw need no sink.
  void SetReplySink(ReplySink* sink);
  // Like ReadRawUntil, the reply's parts going to the sink: true when a whole reply was read.
  absl::StatusOr<bool> ReadStreamedUntil(absl::Time until, int wake_fd = -1);

  // The longest any command (or a batch's read) may take; Open sets it from the options.
  void set_command_timeout(absl::Duration timeout) { command_timeout_ = timeout; }

  bool broken() const { return broken_; }
  // True when the server closed or reset the connection while it was idle (see
  // base::IdleSocketIsStale); such a connection must not be used.
  bool StaleWhileIdle() const;

 private:
  Connection(redisContext* ctx, std::string address, absl::Duration command_timeout)
      : command_timeout_(command_timeout),
        socket_timeout_(command_timeout),
        ctx_(ctx),
        address_(std::move(address)) {}
  absl::Status Append(const std::vector<std::string>& args);
  absl::StatusOr<Reply> ReadReply();
  absl::Duration command_timeout_;
  // What SO_RCVTIMEO and SO_SNDTIMEO hold now.
  absl::Duration socket_timeout_;
  absl::Status ContextError();

  // Waits until the socket (or wake_fd) is readable and reads what arrived; false when
  // `until` passed or wake_fd woke first.
  absl::StatusOr<bool> Fill(absl::Time until, int wake_fd);
  // Whether a ReplySink is installed (reply objects are not built then).
  bool Streaming() const;

  redisContext* ctx_;
  std::string address_;
  redisReplyObjectFunctions* object_functions_ = nullptr;
  bool broken_ = false;
};

}  // namespace granary::redis

#endif  // GRANARY_LIBS_REDIS_CONNECTION_H_
