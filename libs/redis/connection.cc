#include "libs/redis/connection.h"

#include <poll.h>

#include <algorithm>
#include <cerrno>

#include "absl/strings/str_cat.h"
#include <hiredis/hiredis.h>

#include "libs/base/idle_socket.h"
#include "libs/base/status_macros.h"

namespace granary::redis {
absl::StatusOr<std::unique_ptr<Connection>> Connection::Open(const RedisOptions& options) {
  std::string address = absl::StrCat(options.host, ":", options.port);
  redisContext* ctx = redisConnectWithTimeout(options.host.c_str(), options.port,
                                              absl::ToTimeval(options.connect_timeout));
  if (ctx == nullptr) return absl::ResourceExhaustedError("redis: cannot allocate a context");
  auto failed = [&] {
    std::string err = ctx->errstr;
    redisFree(ctx);
    return absl::UnavailableError(absl::StrCat("redis at ", address, ": ", err));
  };
  if (ctx->err) return failed();
  // SetDeadline trusts that the socket holds this bound.
  if (redisSetTimeout(ctx, absl::ToTimeval(options.command_timeout)) != REDIS_OK) return failed();
  redisEnableKeepAlive(ctx);
  auto conn = std::unique_ptr<Connection>(new Connection(ctx, address, options.command_timeout));
  if (!options.password.empty()) {
    std::vector<std::string> auth = {"AUTH"};
    if (!options.user.empty()) auth.push_back(options.user);
    auth.push_back(options.password.value());
    ASSIGN_OR_RETURN(Reply reply, conn->Command(auth));
    if (reply.is_error()) {
      return absl::UnavailableError(absl::StrCat("redis at ", address, ": authentication as ",
                                                 options.user.empty() ? "default" : options.user,
                                                 " refused: ", reply.str));
    }
  }
  return conn;
}

Connection::~Connection() { redisFree(ctx_); }

bool Connection::StaleWhileIdle() const { return broken_ || base::IdleSocketIsStale(ctx_->fd); }

absl::Status Connection::ContextError() {
  broken_ = true;
  std::string msg = absl::StrCat("redis at ", address_, ": ", ctx_->errstr);
  if (ctx_->err == REDIS_ERR_IO && (errno == EAGAIN || errno == EWOULDBLOCK)) {
    return absl::DeadlineExceededError(absl::StrCat("redis at ", address_, ": command timed out"));
  }
  return absl::UnavailableError(msg);
}

absl::Status Connection::Append(const std::vector<std::string>& args) {
  std::vector<const char*> argv;
  std::vector<size_t> lens;
  argv.reserve(args.size());
  lens.reserve(args.size());
  for (const std::string& a : args) {
    argv.push_back(a.data());
    lens.push_back(a.size());
  }
  return Append(static_cast<int>(args.size()), argv.data(), lens.data());
}

absl::Status Connection::Append(int argc, const char* const* argv, const size_t* lens) {
  if (broken_) return absl::UnavailableError(absl::StrCat("redis at ", address_, ": broken"));
  if (redisAppendCommandArgv(ctx_, argc, const_cast<const char**>(argv), lens) != REDIS_OK) {
    return ContextError();
  }
  return absl::OkStatus();
}

absl::Status Connection::AppendFormatted(absl::string_view commands) {
  if (broken_) return absl::UnavailableError(absl::StrCat("redis at ", address_, ": broken"));
  if (redisAppendFormattedCommand(ctx_, commands.data(), commands.size()) != REDIS_OK) {
    return ContextError();
  }
  return absl::OkStatus();
}

absl::Status Connection::SetDeadline(absl::Time deadline) {
  absl::Duration left = deadline - absl::Now();
  if (left <= absl::ZeroDuration()) {
    return absl::DeadlineExceededError("the deadline passed before Redis was asked");
  }
  // The socket timeout bounds each read and write; never longer than the configured one.
  absl::Duration timeout = std::min(absl::Ceil(left, absl::Milliseconds(1)), command_timeout_);
  if (timeout == socket_timeout_) return absl::OkStatus();
  if (redisSetTimeout(ctx_, absl::ToTimeval(timeout)) != REDIS_OK) return ContextError();
  socket_timeout_ = timeout;
  return absl::OkStatus();
}

absl::Status Connection::ReadRaw(absl::FunctionRef<void(const redisReply&)> read) {
  if (Streaming()) return absl::FailedPreconditionError("redis: replies go to a sink");
  void* raw = nullptr;
  if (redisGetReply(ctx_, &raw) != REDIS_OK || raw == nullptr) return ContextError();
  auto* reply = static_cast<redisReply*>(raw);
  read(*reply);
  freeReplyObject(reply);
  return absl::OkStatus();
}

absl::Status Connection::Flush() {
  if (broken_) return absl::UnavailableError(absl::StrCat("redis at ", address_, ": broken"));
  int done = 0;
  while (!done) {
    if (redisBufferWrite(ctx_, &done) != REDIS_OK) return ContextError();
  }
  return absl::OkStatus();
}

absl::StatusOr<bool> Connection::Fill(absl::Time until, int wake_fd) {
  for (;;) {
    absl::Duration left = until - absl::Now();
    if (left <= absl::ZeroDuration()) return false;
    pollfd wait[2] = {{.fd = ctx_->fd, .events = POLLIN, .revents = 0},
                      {.fd = wake_fd, .events = POLLIN, .revents = 0}};
    timespec timeout = absl::ToTimespec(left);
    int ready = ppoll(wait, wake_fd < 0 ? 1 : 2, &timeout, nullptr);
    if (ready < 0 && errno == EINTR) continue;
    if (ready < 0) {
      broken_ = true;
      return absl::UnavailableError(absl::StrCat("redis at ", address_, ": poll failed"));
    }
    if (ready == 0 || wait[0].revents == 0) return false;
    // Readable: the read returns what has arrived without blocking (or sees the close).
    if (redisBufferRead(ctx_) != REDIS_OK) return ContextError();
    return true;
  }
}

absl::StatusOr<bool> Connection::ReadRawUntil(absl::Time until,
                                              absl::FunctionRef<void(const redisReply& reply)> read,
                                              int wake_fd) {
  if (broken_) return absl::UnavailableError(absl::StrCat("redis at ", address_, ": broken"));
  if (Streaming()) return absl::FailedPreconditionError("redis: replies go to a sink");
  for (;;) {
    void* raw = nullptr;
    if (redisGetReplyFromReader(ctx_, &raw) != REDIS_OK) return ContextError();
    if (raw != nullptr) {
      auto* reply = static_cast<redisReply*>(raw);
      read(*reply);
      freeReplyObject(reply);
      return true;
    }
    ASSIGN_OR_RETURN(bool filled, Fill(until, wake_fd));
    if (!filled) return false;
  }
}

namespace {

// hiredis's reader builds replies through these: here they hand each part to the sink (the
// reader's privdata, copied to every task) and build nothing. A non-null object means "done"
// to the reader; the same token serves for all.
char kStreamedToken;

ReplySink* SinkOf(const redisReadTask* task) { return static_cast<ReplySink*>(task->privdata); }

void* StreamString(const redisReadTask* task, char* data, size_t size) {
  if (task->parent != nullptr) {
    SinkOf(task)->OnElement(static_cast<size_t>(task->idx), task->type, data, size);
  } else {
    SinkOf(task)->OnReply(task->type, data, size);
  }
  return &kStreamedToken;
}

void* StreamArray(const redisReadTask* task, int elements) {
  if (task->parent != nullptr) {
    SinkOf(task)->OnElement(static_cast<size_t>(task->idx), REDIS_REPLY_ARRAY, nullptr, 0);
  } else {
    SinkOf(task)->OnArray(static_cast<size_t>(elements));
  }
  return &kStreamedToken;
}

void* StreamInteger(const redisReadTask* task, long long) {  // NOLINT(runtime/int): hiredis
  if (task->parent != nullptr) {
    SinkOf(task)->OnElement(static_cast<size_t>(task->idx), REDIS_REPLY_INTEGER, nullptr, 0);
  } else {
    SinkOf(task)->OnReply(REDIS_REPLY_INTEGER, nullptr, 0);
  }
  return &kStreamedToken;
}

void* StreamNil(const redisReadTask* task) {
  if (task->parent != nullptr) {
    SinkOf(task)->OnElement(static_cast<size_t>(task->idx), REDIS_REPLY_NIL, nullptr, 0);
  } else {
    SinkOf(task)->OnReply(REDIS_REPLY_NIL, nullptr, 0);
  }
  return &kStreamedToken;
}

void StreamFree(void*) {}

redisReplyObjectFunctions kStreamFunctions = {StreamString, StreamArray, StreamInteger, StreamNil,
                                              StreamFree};

}  // namespace

bool Connection::Streaming() const { return ctx_->reader->fn == &kStreamFunctions; }

void Connection::SetReplySink(ReplySink* sink) {
  // hiredis keeps its own functions private: remember them to go back to.
  if (object_functions_ == nullptr) object_functions_ = ctx_->reader->fn;
  ctx_->reader->privdata = sink;
  ctx_->reader->fn = sink == nullptr ? object_functions_ : &kStreamFunctions;
}

absl::StatusOr<bool> Connection::ReadStreamedUntil(absl::Time until, int wake_fd) {
  if (broken_) return absl::UnavailableError(absl::StrCat("redis at ", address_, ": broken"));
  for (;;) {
    void* raw = nullptr;
    if (redisGetReplyFromReader(ctx_, &raw) != REDIS_OK) return ContextError();
    if (raw != nullptr) return true;
    ASSIGN_OR_RETURN(bool filled, Fill(until, wake_fd));
    if (!filled) return false;
  }
}

absl::StatusOr<Reply> Connection::ReadReply() {
  if (Streaming()) return absl::FailedPreconditionError("redis: replies go to a sink");
  void* raw = nullptr;
  if (redisGetReply(ctx_, &raw) != REDIS_OK || raw == nullptr) return ContextError();
  auto* reply = static_cast<redisReply*>(raw);
  Reply out = Reply::FromHiredis(*reply);
  freeReplyObject(reply);
  return out;
}

absl::StatusOr<Reply> Connection::Command(const std::vector<std::string>& args) {
  if (broken_) return absl::UnavailableError(absl::StrCat("redis at ", address_, ": broken"));
  RETURN_IF_ERROR(Append(args));
  return ReadReply();
}

absl::StatusOr<std::vector<Reply>> Connection::Pipeline(
    const std::vector<std::vector<std::string>>& commands) {
  if (broken_) return absl::UnavailableError(absl::StrCat("redis at ", address_, ": broken"));
  for (const auto& args : commands) RETURN_IF_ERROR(Append(args));
  std::vector<Reply> replies;
  replies.reserve(commands.size());
  for (size_t i = 0; i < commands.size(); ++i) {
    ASSIGN_OR_RETURN(Reply r, ReadReply());
    replies.push_back(std::move(r));
  }
  return replies;
}

}  // namespace granary::redis
