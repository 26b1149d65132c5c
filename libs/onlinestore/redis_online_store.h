// The online store in Redis, in Feast's layout (one hash per entity and project; a field per
// feature; "_ts:<view>" per view). Each session owns one connection: reads pipeline all HMGETs
// of a call in one round trip; writes run the guarded-write script (loaded once per
// connection, loaded again if Redis lost it); a failed connection is replaced on the next
// call. Asynchronous reads go through a few ReadPipelines shared by all callers.
// Authenticates as options.user (serving uses a read-only ACL user).
//
//   RedisOnlineStore store(options);
//   auto session = store.NewSession();
#ifndef GRANARY_LIBS_ONLINESTORE_REDIS_ONLINE_STORE_H_
#define GRANARY_LIBS_ONLINESTORE_REDIS_ONLINE_STORE_H_

#include <atomic>
#include <functional>
#include <memory>
#include <vector>

#include "absl/base/call_once.h"

#include "libs/onlinestore/online_store.h"
#include "libs/onlinestore/read_pipeline.h"
#include "libs/redis/options.h"

namespace granary::onlinestore {

// How asynchronous reads (ReadAsync) are carried.
struct AsyncReadOptions {
  // Pipelined connections, each with its own I/O thread; reads are spread over them in turn.
  int connections = 2;
  size_t max_batch_gets = 4096;
  // See ReadPipelineOptions::read_on_caller_when_idle.
  bool read_on_caller_when_idle = true;
  // See ReadPipelineOptions::caller_wait.
  absl::Duration caller_wait = kDefaultCallerWait;
  // See ReadPipelineOptions::on_round_trip.
  std::function<void(absl::Duration round_trip, size_t gets)> on_round_trip;
};

class RedisOnlineStore : public OnlineStore {
 public:
  explicit RedisOnlineStore(redis::RedisOptions options, AsyncReadOptions async = {});
  ~RedisOnlineStore() override;

  std::unique_ptr<OnlineStoreSession> NewSession() override;
  // The pipelines start with the first call.
  void ReadAsync(AsyncRead* read) override;

 private:
  const redis::RedisOptions options_;
  const AsyncReadOptions async_;
  absl::once_flag start_once_;
  std::vector<std::unique_ptr<ReadPipeline>> pipelines_;
  std::atomic<uint64_t> next_pipeline_{0};
};

}  // namespace granary::onlinestore

#endif  // GRANARY_LIBS_ONLINESTORE_REDIS_ONLINE_STORE_H_
