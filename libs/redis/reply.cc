#include "libs/redis/reply.h"

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include <hiredis/hiredis.h>

namespace granary::redis {

Reply Reply::FromHiredis(const redisReply& r) {
  Reply out;
  switch (r.type) {
    case REDIS_REPLY_STRING:
      out.type = Type::kString;
      out.str.assign(r.str, r.len);
      break;
    case REDIS_REPLY_STATUS:
      out.type = Type::kStatus;
      out.str.assign(r.str, r.len);
      break;
    case REDIS_REPLY_ERROR:
      out.type = Type::kError;
      out.str.assign(r.str, r.len);
      break;
    case REDIS_REPLY_INTEGER:
      out.type = Type::kInteger;
      out.integer = r.integer;
      break;
    case REDIS_REPLY_ARRAY:
      out.type = Type::kArray;
      out.elements.reserve(r.elements);
      for (size_t i = 0; i < r.elements; ++i) out.elements.push_back(FromHiredis(*r.element[i]));
      break;
    default:
      out.type = Type::kNil;
  }
  return out;
}

absl::Status ReplyStatus(const Reply& reply) {
  if (!reply.is_error()) return absl::OkStatus();
  std::string msg = absl::StrCat("redis: ", reply.str);
  // Conditions of the server, not of the command: they pass (memory freed, a failover over,
  // the data loaded, credentials fixed), so whoever sent the command should send it again.
  static constexpr absl::string_view kConditions[] = {
      "OOM",      "READONLY",   "LOADING", "BUSY",     "MASTERDOWN", "NOPERM", "WRONGPASS",
      "NOAUTH",   "CLUSTERDOWN", "TRYAGAIN", "MOVED",   "ASK",        "NOREPLICAS",
      "MISCONF",  "EXECABORT"};
  for (absl::string_view prefix : kConditions) {
    if (absl::StartsWith(reply.str, prefix) &&
        (reply.str.size() == prefix.size() || reply.str[prefix.size()] == ' ')) {
      return absl::UnavailableError(msg);
    }
  }
  if (absl::StartsWith(reply.str, "NOSCRIPT")) return absl::NotFoundError(msg);
  if (absl::StartsWith(reply.str, "WRONGTYPE")) return absl::FailedPreconditionError(msg);
  return absl::InternalError(msg);
}

}  // namespace granary::redis
