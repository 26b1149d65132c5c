#include "libs/redis/client.h"

#include "absl/strings/str_cat.h"

#include "libs/base/status_macros.h"

namespace granary::redis {

absl::StatusOr<std::unique_ptr<Connection>> Client::Borrow(bool* pooled) {
  {
    absl::MutexLock lock(&mu_);
    if (!idle_.empty()) {
      std::unique_ptr<Connection> conn = std::move(idle_.back());
      idle_.pop_back();
      *pooled = true;
      return conn;
    }
  }
  *pooled = false;
  return Connection::Open(options_);
}

void Client::Return(std::unique_ptr<Connection> conn) {
  if (conn->broken()) return;
  absl::MutexLock lock(&mu_);
  if (static_cast<int>(idle_.size()) < options_.pool_size) idle_.push_back(std::move(conn));
}

template <typename Result, typename Call>
absl::StatusOr<Result> Client::Run(Call call) {
  for (int attempt = 0;; ++attempt) {
    bool pooled = false;
    ASSIGN_OR_RETURN(std::unique_ptr<Connection> conn, Borrow(&pooled));
    absl::StatusOr<Result> result = call(*conn);
    bool stale = pooled && conn->broken() && attempt == 0;
    Return(std::move(conn));
    if (!stale) return result;
    // Idle connections are likely stale too (same restart); drop them all.
    absl::MutexLock lock(&mu_);
    idle_.clear();
  }
}

absl::StatusOr<Reply> Client::Command(const std::vector<std::string>& args) {
  return Run<Reply>([&](Connection& conn) { return conn.Command(args); });
}

absl::StatusOr<std::vector<Reply>> Client::Pipeline(
    const std::vector<std::vector<std::string>>& commands) {
  return Run<std::vector<Reply>>([&](Connection& conn) { return conn.Pipeline(commands); });
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
