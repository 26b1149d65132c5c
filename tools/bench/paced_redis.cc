#include "tools/bench/paced_redis.h"

#include <memory>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"

#include "libs/base/status_macros.h"
#include "libs/redis/connection.h"

namespace granary::bench {

absl::StatusOr<PacedRedisResult> RunPacedRedis(const PacedRedisOptions& options) {
  if (options.rate <= 0 || options.requests == nullptr || options.requests->empty()) {
    return absl::InvalidArgumentError("a paced Redis run needs a rate and requests");
  }
  redis::RedisOptions connect;
  connect.port = options.port;
  ASSIGN_OR_RETURN(std::unique_ptr<redis::Connection> conn, redis::Connection::Open(connect));
  const absl::Duration interval = absl::Seconds(1) / options.rate;
  const absl::Time start = absl::Now();
  const absl::Time measure_from = start + options.warmup;
  const absl::Time end = measure_from + options.duration;
  PacedRedisResult result;
  size_t n = 0;
  // The same schedule as the load generator's: sleep until the next request is due, send it.
  for (absl::Time due = start; due < end; due += interval) {
    absl::Time now = absl::Now();
    if (due > now) {
      absl::SleepFor(due - now);
      now = absl::Now();
    }
    const auto& commands = (*options.requests)[n++ % options.requests->size()];
    ASSIGN_OR_RETURN(std::vector<redis::Reply> replies, conn->Pipeline(commands));
    const absl::Time done = absl::Now();
    for (const redis::Reply& reply : replies) {
      if (reply.is_error()) {
        return absl::InternalError(absl::StrCat("Redis answered an error: ", reply.str));
      }
      // Every field read must be there: a miss would measure a cheaper command.
      bool missing = reply.elements.empty();
      for (const redis::Reply& field : reply.elements) missing = missing || field.is_nil();
      if (missing) return absl::InternalError("a paced read found a hash or field missing");
    }
    if (due < measure_from) continue;
    result.latencies.push_back(done - due);
    result.send_lags.push_back(now - due);
  }
  return result;
}

}  // namespace granary::bench
