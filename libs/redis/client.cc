#include "libs/redis/client.h"

#include "absl/strings/str_cat.h"

#include "libs/base/status_macros.h"

namespace granary::redis {

absl::StatusOr<std::unique_ptr<Connection>> Client::Borrow() {
  while (true) {
    std::unique_ptr<Connection> conn;
    {
      absl::MutexLock lock(&mu_);
      if (idle_.empty()) break;
      conn = std::move(idle_.back());
      idle_.pop_back();
    }
    if (!conn->StaleWhileIdle()) return conn;
  }
  return Connection::Open(options_);
}

void Client::Return(std::unique_ptr<Connection> conn) {
  if (conn->broken()) return;
  absl::MutexLock lock(&mu_);
  if (static_cast<int>(idle_.size()) < options_.pool_size) idle_.push_back(std::move(conn));
}

absl::StatusOr<Reply> Client::Command(const std::vector<std::string>& args) {
  ASSIGN_OR_RETURN(std::unique_ptr<Connection> conn, Borrow());
  absl::StatusOr<Reply> reply = conn->Command(args);
  Return(std::move(conn));
  return reply;
}

absl::StatusOr<std::vector<Reply>> Client::Pipeline(
    const std::vector<std::vector<std::string>>& commands) {
  ASSIGN_OR_RETURN(std::unique_ptr<Connection> conn, Borrow());
  absl::StatusOr<std::vector<Reply>> replies = conn->Pipeline(commands);
  Return(std::move(conn));
  return replies;
}

absl::Status Client::Ping() {
  ASSIGN_OR_RETURN(Reply reply, Command({"PING"}));
  if (reply.is_error()) return ReplyStatus(reply);
  if (reply.type != Reply::Type::kStatus || reply.str != "PONG") {
    return absl::UnavailableError(absl::StrCat("redis: unexpected PING reply \"", reply.str, "\""));
  }
  return absl::OkStatus();
}

}  // namespace granary::redis
