#include "tools/bench/keyspace_watch.h"

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include <hiredis/hiredis.h>

namespace granary::bench {
namespace {

constexpr char kPrefix[] = "__keyspace@0__:";
constexpr char kStopKey[] = "granary-bench:keyspace-watch:stop";

}  // namespace

KeyspaceWatch::~KeyspaceWatch() {
  if (thread_.joinable()) Stop();
}

absl::Status KeyspaceWatch::Start() {
  redisContext* c = redisConnect(host_.c_str(), port_);
  if (c == nullptr || c->err) {
    std::string why = c == nullptr ? "out of memory" : c->errstr;
    if (c != nullptr) redisFree(c);
    return absl::UnavailableError("keyspace watch: " + why);
  }
  auto* reply = static_cast<redisReply*>(redisCommand(c, "PSUBSCRIBE %s*", kPrefix));
  if (reply == nullptr) {
    redisFree(c);
    return absl::UnavailableError("keyspace watch: PSUBSCRIBE failed");
  }
  freeReplyObject(reply);
  thread_ = std::thread([this, c] { Loop(c); });
  return absl::OkStatus();
}

void KeyspaceWatch::Loop(void* context) {
  auto* c = static_cast<redisContext*>(context);
  const std::string stop = absl::StrCat(kPrefix, kStopKey);
  void* raw = nullptr;
  while (redisGetReply(c, &raw) == REDIS_OK) {
    auto* reply = static_cast<redisReply*>(raw);
    absl::Time now = absl::Now();
    bool done = false;
    // ["pmessage", pattern, channel, event]
    if (reply->type == REDIS_REPLY_ARRAY && reply->elements == 4) {
      std::string channel(reply->element[2]->str, reply->element[2]->len);
      done = channel == stop;
      if (!done && absl::StartsWith(channel, kPrefix)) {
        absl::MutexLock lock(&mu_);
        writes_.emplace(channel.substr(sizeof(kPrefix) - 1), now);
      }
    }
    freeReplyObject(reply);
    if (done) break;
  }
  redisFree(c);
}

void KeyspaceWatch::Stop() {
  redisContext* c = redisConnect(host_.c_str(), port_);
  if (c != nullptr && !c->err) {
    freeReplyObject(redisCommand(c, "HSET %s x 1", kStopKey));
  }
  if (c != nullptr) redisFree(c);
  thread_.join();
}

absl::Time KeyspaceWatch::FirstWrite(const std::string& key) const {
  absl::MutexLock lock(&mu_);
  auto it = writes_.find(key);
  return it == writes_.end() ? absl::InfinitePast() : it->second;
}

}  // namespace granary::bench
