// A Redis reply, owned (copied out of hiredis' reply tree).
#ifndef GRANARY_LIBS_REDIS_REPLY_H_
#define GRANARY_LIBS_REDIS_REPLY_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"

struct redisReply;

namespace granary::redis {

struct Reply {
  enum class Type { kNil, kString, kStatus, kInteger, kArray, kError };

  Type type = Type::kNil;
  // kString, kStatus and kError.
  std::string str;
  // kInteger.
  int64_t integer = 0;
  // kArray.
  std::vector<Reply> elements;

  static Reply FromHiredis(const redisReply& r);

  bool is_nil() const { return type == Type::kNil; }
  bool is_error() const { return type == Type::kError; }
};

// An error reply as a Status. The server's conditions, which pass by themselves or by an
// operator's hand (OOM, READONLY, LOADING, BUSY, MASTERDOWN, NOPERM, WRONGPASS, NOAUTH,
// CLUSTERDOWN, TRYAGAIN, MOVED, ASK, NOREPLICAS, MISCONF), are UNAVAILABLE: from a client's
// side the backend is unusable for now. NOSCRIPT -> NOT_FOUND (load the script),
// WRONGTYPE -> FAILED_PRECONDITION (that key holds something else), other errors -> INTERNAL.
// OK for other replies.
absl::Status ReplyStatus(const Reply& reply);

}  // namespace granary::redis

#endif  // GRANARY_LIBS_REDIS_REPLY_H_
