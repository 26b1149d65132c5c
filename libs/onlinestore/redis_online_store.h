// The online store in Redis, in Feast's layout (one hash per entity and project; a field per
// feature; "_ts:<view>" per view). Each session owns one connection: reads pipeline all HMGETs
// of a call in one round trip; writes run the guarded-write script (loaded once per
// connection, loaded again if Redis lost it); a failed connection is replaced on the next
// call. Authenticates as options.user (serving uses a read-only ACL user).
//
//   RedisOnlineStore store(options);
//   auto session = store.NewSession();
#ifndef GRANARY_LIBS_ONLINESTORE_REDIS_ONLINE_STORE_H_
#define GRANARY_LIBS_ONLINESTORE_REDIS_ONLINE_STORE_H_

#include <memory>

#include "libs/onlinestore/online_store.h"
#include "libs/redis/options.h"

namespace granary::onlinestore {

class RedisOnlineStore : public OnlineStore {
 public:
  explicit RedisOnlineStore(redis::RedisOptions options) : options_(std::move(options)) {}
  std::unique_ptr<OnlineStoreSession> NewSession() override;

 private:
  const redis::RedisOptions options_;
};

}  // namespace granary::onlinestore

#endif  // GRANARY_LIBS_ONLINESTORE_REDIS_ONLINE_STORE_H_
