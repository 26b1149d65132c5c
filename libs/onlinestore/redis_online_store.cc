#include "libs/onlinestore/redis_online_store.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include <hiredis/hiredis.h>

#include "libs/base/status_macros.h"
#include "libs/onlinestore/write_script.h"
#include "libs/redis/connection.h"

namespace granary::onlinestore {
namespace {

// Rows per script call: large enough to amortize the round trip, small enough not to hold
// Redis (single-threaded) for long.
constexpr size_t kRowsPerCall = 256;

class RedisSession : public OnlineStoreSession {
 public:
  explicit RedisSession(const redis::RedisOptions& options) : options_(options) {}

  absl::Status MultiGet(absl::Span<const HashGet> gets, absl::Time deadline,
                        FieldVisitor visit) override;
  absl::StatusOr<int64_t> WriteNewer(const ViewWrite& write, absl::Time deadline) override;
  absl::StatusOr<int64_t> DeleteFields(absl::string_view project,
                                       const std::vector<std::string>& fields,
                                       absl::Time deadline) override;
  absl::Status Ping(absl::Time deadline) override;

 private:
  // The connection, opened (within the deadline) if there is none or it broke.
  absl::StatusOr<redis::Connection*> Ready(absl::Time deadline);
  // Drops a broken connection so the next call opens a new one.
  absl::Status Check(absl::Status status);
  template <typename T>
  absl::StatusOr<T> Check(absl::StatusOr<T> result) {
    if (!result.ok()) Check(result.status()).IgnoreError();
    return result;
  }
  absl::Status LoadScript();
  void Arg(absl::string_view a) {
    argv_.push_back(a.data());
    lens_.push_back(a.size());
  }

  const redis::RedisOptions options_;
  std::unique_ptr<redis::Connection> conn_;
  std::string script_sha_;
  // Reused between calls: no allocation per request once warm.
  std::vector<const char*> argv_;
  std::vector<size_t> lens_;
  std::vector<std::string> numbers_;
};

absl::StatusOr<redis::Connection*> RedisSession::Ready(absl::Time deadline) {
  // A restart of Redis closes idle connections: notice before sending, not after.
  if (conn_ != nullptr && conn_->StaleWhileIdle()) conn_.reset();
  if (conn_ == nullptr) {
    absl::Duration left = deadline - absl::Now();
    if (left <= absl::ZeroDuration()) {
      return absl::DeadlineExceededError("the deadline passed before Redis was asked");
    }
    redis::RedisOptions bounded = options_;
    bounded.connect_timeout = std::min(options_.connect_timeout, left);
    ASSIGN_OR_RETURN(conn_, redis::Connection::Open(bounded));
    script_sha_.clear();
  }
  RETURN_IF_ERROR(Check(conn_->SetDeadline(deadline)));
  return conn_.get();
}

absl::Status RedisSession::Check(absl::Status status) {
  if (!status.ok() && conn_ != nullptr && conn_->broken()) conn_.reset();
  return status;
}

absl::Status RedisSession::MultiGet(absl::Span<const HashGet> gets, absl::Time deadline,
                                    FieldVisitor visit) {
  ASSIGN_OR_RETURN(redis::Connection * conn, Ready(deadline));
  for (const HashGet& get : gets) {
    argv_.clear();
    lens_.clear();
    Arg("HMGET");
    Arg(get.key);
    for (const std::string& f : *get.fields) Arg(f);
    RETURN_IF_ERROR(
        Check(conn->Append(static_cast<int>(argv_.size()), argv_.data(), lens_.data())));
  }
  absl::Status error;
  for (size_t g = 0; g < gets.size(); ++g) {
    RETURN_IF_ERROR(Check(conn->ReadRaw([&](const redisReply& r) {
      if (r.type == REDIS_REPLY_ERROR) {
        if (error.ok()) error = absl::UnavailableError(absl::StrCat("redis: ", r.str));
        return;
      }
      for (size_t f = 0; f < gets[g].fields->size(); ++f) {
        const redisReply* e =
            r.type == REDIS_REPLY_ARRAY && f < r.elements ? r.element[f] : nullptr;
        if (e != nullptr && e->type == REDIS_REPLY_STRING) {
          visit(g, f, e->str, e->len);
        } else {
          visit(g, f, nullptr, 0);
        }
      }
    })));
  }
  return error;
}

absl::Status RedisSession::LoadScript() {
  ASSIGN_OR_RETURN(redis::Reply reply, conn_->Command({"SCRIPT", "LOAD", kWriteNewerScript}));
  if (reply.is_error()) return Check(redis::ReplyStatus(reply));
  script_sha_ = reply.str;
  return absl::OkStatus();
}

absl::StatusOr<int64_t> RedisSession::WriteNewer(const ViewWrite& write, absl::Time deadline) {
  for (const RowWrite& row : write.rows) {
    if (row.values.size() != write.feature_fields.size()) {
      return absl::InvalidArgumentError(absl::StrCat("a row has ", row.values.size(),
                                                     " values for ", write.feature_fields.size(),
                                                     " features"));
    }
  }
  ASSIGN_OR_RETURN(redis::Connection * conn, Ready(deadline));
  if (script_sha_.empty()) RETURN_IF_ERROR(LoadScript());
  int64_t written = 0;
  const std::string ttl = absl::StrCat(absl::ToInt64Seconds(write.key_ttl));
  const std::string f = absl::StrCat(write.feature_fields.size());
  for (size_t begin = 0; begin < write.rows.size(); begin += kRowsPerCall) {
    size_t end = std::min(write.rows.size(), begin + kRowsPerCall);
    for (int attempt = 0;; ++attempt) {
      argv_.clear();
      lens_.clear();
      numbers_.clear();
      numbers_.reserve(2 * (end - begin) + 1);
      numbers_.push_back(absl::StrCat(end - begin));
      Arg("EVALSHA");
      Arg(script_sha_);
      Arg(numbers_[0]);
      for (size_t i = begin; i < end; ++i) Arg(write.rows[i].key);
      Arg(write.timestamp_field);
      Arg(ttl);
      Arg(f);
      for (const std::string& field : write.feature_fields) Arg(field);
      for (size_t i = begin; i < end; ++i) {
        const RowWrite& row = write.rows[i];
        absl::Duration since = row.event_time - absl::UnixEpoch();
        int64_t seconds = absl::IDivDuration(since, absl::Seconds(1), &since);
        numbers_.push_back(absl::StrCat(seconds));
        Arg(numbers_.back());
        numbers_.push_back(absl::StrCat(absl::ToInt64Nanoseconds(since)));
        Arg(numbers_.back());
        Arg(row.timestamp);
        for (const std::string& v : row.values) Arg(v);
      }
      RETURN_IF_ERROR(
          Check(conn->Append(static_cast<int>(argv_.size()), argv_.data(), lens_.data())));
      absl::Status status;
      RETURN_IF_ERROR(Check(conn->ReadRaw([&](const redisReply& r) {
        if (r.type == REDIS_REPLY_INTEGER) {
          written += r.integer;
        } else {
          status = redis::ReplyStatus(redis::Reply::FromHiredis(r));
        }
      })));
      // Redis restarted or flushed its scripts: nothing ran; load it and send again.
      if (absl::IsNotFound(status) && attempt == 0) {
        RETURN_IF_ERROR(LoadScript());
        continue;
      }
      if (!status.ok()) return status;
      break;
    }
  }
  return written;
}

absl::StatusOr<int64_t> RedisSession::DeleteFields(absl::string_view project,
                                                   const std::vector<std::string>& fields,
                                                   absl::Time deadline) {
  ASSIGN_OR_RETURN(redis::Connection * conn, Ready(deadline));
  // Keys end with the project name (Feast's layout); project names need no glob escaping.
  std::string pattern = absl::StrCat("*", project);
  std::string cursor = "0";
  int64_t touched = 0;
  do {
    ASSIGN_OR_RETURN(redis::Reply page,
                     Check(conn->Command({"SCAN", cursor, "MATCH", pattern, "COUNT", "1000"})));
    if (page.is_error() || page.elements.size() != 2) {
      return absl::InternalError(absl::StrCat("redis: unexpected SCAN reply ", page.str));
    }
    cursor = page.elements[0].str;
    std::vector<std::vector<std::string>> deletes;
    for (const redis::Reply& key : page.elements[1].elements) {
      std::vector<std::string> cmd = {"HDEL", key.str};
      cmd.insert(cmd.end(), fields.begin(), fields.end());
      deletes.push_back(std::move(cmd));
    }
    if (!deletes.empty()) {
      ASSIGN_OR_RETURN(std::vector<redis::Reply> replies, Check(conn->Pipeline(deletes)));
      for (const redis::Reply& r : replies) touched += r.integer > 0 ? 1 : 0;
    }
    RETURN_IF_ERROR(Check(conn->SetDeadline(deadline)));
  } while (cursor != "0");
  return touched;
}

absl::Status RedisSession::Ping(absl::Time deadline) {
  ASSIGN_OR_RETURN(redis::Connection * conn, Ready(deadline));
  ASSIGN_OR_RETURN(redis::Reply reply, Check(conn->Command({"PING"})));
  return redis::ReplyStatus(reply);
}

}  // namespace

RedisOnlineStore::RedisOnlineStore(redis::RedisOptions options, AsyncReadOptions async)
    : options_(std::move(options)), async_(std::move(async)) {}

RedisOnlineStore::~RedisOnlineStore() = default;

void RedisOnlineStore::ReadAsync(AsyncRead* read) {
  absl::call_once(start_once_, [this] {
    for (int i = 0; i < std::max(1, async_.connections); ++i) {
      pipelines_.push_back(std::make_unique<ReadPipeline>(
          ReadPipelineOptions{.redis = options_,
                              .max_batch_gets = async_.max_batch_gets,
                              .on_round_trip = async_.on_round_trip}));
    }
  });
  pipelines_[next_pipeline_.fetch_add(1, std::memory_order_relaxed) % pipelines_.size()]->Submit(
      read);
}

std::unique_ptr<OnlineStoreSession> RedisOnlineStore::NewSession() {
  return std::make_unique<RedisSession>(options_);
}

}  // namespace granary::onlinestore
