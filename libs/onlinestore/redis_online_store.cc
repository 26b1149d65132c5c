#include "libs/onlinestore/redis_online_store.h"

#include <algorithm>
#include <deque>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "absl/time/civil_time.h"
#include "absl/time/clock.h"
#include "granary/types/v1/online_row.pb.h"
#include <hiredis/hiredis.h>

#include "libs/base/proto_time.h"
#include "libs/base/status_macros.h"
#include "libs/keys/entity_key.h"
#include "libs/keys/hash_field.h"
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
  absl::StatusOr<WriteResult> WriteNewer(const ViewWrite& write, absl::Time deadline) override;
  absl::Status RemoveView(const ViewRemoval& removal, RemovalProgress* progress,
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
  // Runs a script `calls` times in one round trip: build(i) appends the i-th call's
  // arguments to argv_ (after "EVALSHA <sha>"), read(i, reply) gets its reply, once per call.
  // Loads the script first when this connection has not, and again when Redis lost it, then
  // sends again the calls that did not run for that. The first error reply is returned after
  // every reply was read.
  absl::Status Eval(const std::string& script, size_t calls, absl::FunctionRef<void(size_t)> build,
                    absl::FunctionRef<void(size_t, const redisReply& reply)> read);
  void Arg(absl::string_view a) {
    argv_.push_back(a.data());
    lens_.push_back(a.size());
  }
  // Keeps a number's text alive until the command is sent.
  void Number(int64_t n) {
    numbers_.push_back(absl::StrCat(n));
    Arg(numbers_.back());
  }

  const redis::RedisOptions options_;
  std::unique_ptr<redis::Connection> conn_;
  // SHA1 of each script this connection loaded.
  absl::flat_hash_map<const std::string*, std::string> loaded_;
  // Reused between calls: no allocation per request once warm.
  std::vector<const char*> argv_;
  std::vector<size_t> lens_;
  std::deque<std::string> numbers_;
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
    loaded_.clear();
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
        if (error.ok()) error = redis::ReplyStatus(redis::Reply::FromHiredis(r));
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

absl::Status RedisSession::Eval(const std::string& script, size_t calls,
                                absl::FunctionRef<void(size_t)> build,
                                absl::FunctionRef<void(size_t, const redisReply& reply)> read) {
  std::string& sha = loaded_[&script];
  std::vector<size_t> send(calls);
  for (size_t i = 0; i < calls; ++i) send[i] = i;
  absl::Status status;
  for (int attempt = 0; !send.empty(); ++attempt) {
    if (sha.empty()) {
      ASSIGN_OR_RETURN(redis::Reply reply, Check(conn_->Command({"SCRIPT", "LOAD", script})));
      RETURN_IF_ERROR(redis::ReplyStatus(reply));
      sha = reply.str;
    }
    for (size_t i : send) {
      argv_.clear();
      lens_.clear();
      numbers_.clear();
      Arg("EVALSHA");
      Arg(sha);
      build(i);
      // Copied into the connection's buffer: argv_ is free again for the next call.
      RETURN_IF_ERROR(
          Check(conn_->Append(static_cast<int>(argv_.size()), argv_.data(), lens_.data())));
    }
    // Every reply is read, even after an error: the next command must not get this one's.
    std::vector<size_t> lost;
    for (size_t i : send) {
      RETURN_IF_ERROR(Check(conn_->ReadRaw([&](const redisReply& r) {
        if (r.type != REDIS_REPLY_ERROR) {
          read(i, r);
          return;
        }
        absl::Status error = redis::ReplyStatus(redis::Reply::FromHiredis(r));
        // Redis restarted or flushed its scripts before this call: it did not run.
        if (absl::IsNotFound(error) && attempt == 0) {
          lost.push_back(i);
        } else if (status.ok()) {
          status = error;
        }
      })));
    }
    // Sent again, once, only the calls that did not run: each call's reply is read once.
    if (!lost.empty()) sha.clear();
    send = std::move(lost);
  }
  return status;
}

absl::StatusOr<WriteResult> RedisSession::WriteNewer(const ViewWrite& write, absl::Time deadline) {
  for (const RowWrite& row : write.rows) {
    if (row.values.size() != write.feature_fields.size()) {
      return absl::InvalidArgumentError(absl::StrCat("a row has ", row.values.size(),
                                                     " values for ", write.feature_fields.size(),
                                                     " features"));
    }
  }
  WriteResult result;
  if (write.rows.empty()) return result;
  ASSIGN_OR_RETURN(redis::Connection * conn, Ready(deadline));
  (void)conn;
  const std::string ts_field = keys::TimestampField(write.view);
  const std::string created_field = keys::CreatedField(write.view);
  const std::string guard_ts = keys::TimestampField(write.guard_view);
  const std::string guard_created = keys::CreatedField(write.guard_view);
  static const std::string kNoGuard;
  std::vector<std::string> encoded;  // a call's rows' Timestamp and OnlineRowMeta
  const size_t calls = (write.rows.size() + kRowsPerCall - 1) / kRowsPerCall;
  auto build = [&](size_t call) {
    const size_t begin = call * kRowsPerCall;
    const size_t end = std::min(write.rows.size(), begin + kRowsPerCall);
    encoded.clear();
    encoded.reserve(2 * (end - begin));
    Number(static_cast<int64_t>(end - begin));
    for (size_t i = begin; i < end; ++i) Arg(write.rows[i].key);
    Arg(ts_field);
    Arg(created_field);
    Number(absl::ToInt64Seconds(write.key_ttl));
    Number(write.view_version);
    if (write.guard_view.empty()) {
      Arg(kNoGuard);
      Arg(kNoGuard);
    } else {
      Arg(guard_ts);
      Arg(guard_created);
    }
    Number(write.guard_view_version);
    Number(static_cast<int64_t>(write.feature_fields.size()));
    for (const std::string& field : write.feature_fields) Arg(field);
    for (size_t i = begin; i < end; ++i) {
      const RowWrite& row = write.rows[i];
      // Normalized (0 <= nanos < 1e9, also before 1970): what the script compares is what
      // is stored.
      google::protobuf::Timestamp event = base::ToProtoTime(row.event_time);
      google::protobuf::Timestamp created = base::ToProtoTime(
          std::max(row.created_time,
                   absl::FromCivil(absl::CivilSecond(1, 1, 1, 0, 0, 0), absl::UTCTimeZone())));
      types::v1::OnlineRowMeta meta;
      meta.set_created_seconds(created.seconds());
      meta.set_created_nanos(created.nanos());
      meta.set_view_version(write.view_version);
      Number(event.seconds());
      Number(event.nanos());
      Number(created.seconds());
      Number(created.nanos());
      encoded.push_back(event.SerializeAsString());
      Arg(encoded.back());
      encoded.push_back(meta.SerializeAsString());
      Arg(encoded.back());
      for (const std::string& v : row.values) Arg(v);
    }
  };
  absl::Status malformed;
  // Every call in one round trip: a fetch of many batches costs one, not one per batch.
  RETURN_IF_ERROR(Eval(WriteNewerScript(), calls, build, [&](size_t call, const redisReply& r) {
    if (r.type != REDIS_REPLY_ARRAY || r.elements == 0) {
      malformed = absl::InternalError("redis: unexpected reply to the write script");
      return;
    }
    result.written += r.element[0]->integer;
    for (size_t e = 1; e < r.elements; ++e) {
      result.wrong_type_rows.push_back(call * kRowsPerCall +
                                       static_cast<size_t>(r.element[e]->integer) - 1);
    }
  }));
  RETURN_IF_ERROR(malformed);
  return result;
}

absl::Status RedisSession::RemoveView(const ViewRemoval& removal, RemovalProgress* progress,
                                      absl::Time deadline) {
  if (progress->done) return absl::OkStatus();
  ASSIGN_OR_RETURN(redis::Connection * conn, Ready(deadline));
  // Keys end with the project's name (Feast's layout): the pattern narrows the scan, and each
  // key's own entity key says exactly which project it is of.
  std::string pattern = "*";
  for (char c : removal.project) {
    if (c == '*' || c == '?' || c == '[' || c == ']' || c == '\\') pattern += '\\';
    pattern += c;
  }
  ASSIGN_OR_RETURN(
      redis::Reply page,
      Check(conn->Command({"SCAN", progress->cursor, "MATCH", pattern, "COUNT", "1000"})));
  RETURN_IF_ERROR(redis::ReplyStatus(page));
  if (page.elements.size() != 2) return absl::InternalError("redis: unexpected SCAN reply");
  std::vector<const std::string*> keys;
  for (const redis::Reply& key : page.elements[1].elements) {
    absl::StatusOr<absl::string_view> project = keys::ProjectOfKey(key.str);
    if (project.ok() && *project == removal.project) keys.push_back(&key.str);
  }
  progress->keys_scanned += static_cast<int64_t>(page.elements[1].elements.size());
  if (!keys.empty()) {
    const std::string ts_field = keys::TimestampField(removal.view);
    const std::string created_field = keys::CreatedField(removal.view);
    auto build = [&](size_t) {
      Number(static_cast<int64_t>(keys.size()));
      for (const std::string* key : keys) Arg(*key);
      Arg(ts_field);
      Arg(created_field);
      Number(removal.view_version);
      for (const std::string& field : removal.feature_fields) Arg(field);
    };
    RETURN_IF_ERROR(Eval(RemoveViewScript(), 1, build, [&](size_t, const redisReply& r) {
      if (r.type == REDIS_REPLY_INTEGER) progress->rows_removed += r.integer;
    }));
  }
  progress->cursor = page.elements[0].str;
  progress->done = progress->cursor == "0";
  return absl::OkStatus();
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
                              .read_on_caller_when_idle = async_.read_on_caller_when_idle,
                              .caller_wait = async_.caller_wait,
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
