// Reads of many callers over one Redis connection. Callers queue an AsyncRead and return; an
// I/O thread takes everything queued, sends it in one write, and reads the replies in order,
// handing each read its fields as they arrive. While one batch is on the wire the next one
// gathers, so the busier the service, the more reads share a round trip (this is what lets
// serving run near the raw Redis rate; see tools/bench grpc_api).
//
// A read whose deadline passes is answered at that moment, even in the middle of a batch (its
// replies are dropped when they come). A connection that fails fails the reads it carries and
// is replaced on a later batch; until then, after a short growing backoff, reads fail at once
// with UNAVAILABLE instead of piling up behind a dead server.
//
//   ReadPipeline pipeline({.redis = options});
//   pipeline.Submit(read);  // read->Done(...) comes later, on the pipeline's thread
#ifndef GRANARY_LIBS_ONLINESTORE_READ_PIPELINE_H_
#define GRANARY_LIBS_ONLINESTORE_READ_PIPELINE_H_

#include <deque>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"

#include "libs/base/backoff.h"
#include "libs/onlinestore/online_store.h"
#include "libs/redis/connection.h"
#include "libs/redis/options.h"

namespace granary::onlinestore {

struct ReadPipelineOptions {
  redis::RedisOptions redis;
  // At most this many HMGETs per write; more waits for the next batch.
  size_t max_batch_gets = 4096;
  // Called on the I/O thread after each batch that reached Redis: its round-trip time (send
  // to last reply) and its number of HMGETs. For metrics; may be empty.
  std::function<void(absl::Duration round_trip, size_t gets)> on_round_trip;
};

class ReadPipeline {
 public:
  explicit ReadPipeline(ReadPipelineOptions options);
  // Reads still queued get UNAVAILABLE; the I/O thread is joined.
  ~ReadPipeline();
  ReadPipeline(const ReadPipeline&) = delete;
  ReadPipeline& operator=(const ReadPipeline&) = delete;

  // Thread-safe; returns at once.
  void Submit(AsyncRead* read);

 private:
  struct Pending;
  bool HasWork() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void Loop();
  void RunBatch(std::vector<AsyncRead*>& batch);
  // The connection, opened if needed; false (with every read failed) when Redis is down.
  bool Connect(std::vector<Pending>& pending, absl::Time now);
  void Send(std::vector<Pending>& pending);
  void Receive(std::vector<Pending>& pending, absl::Time started);
  void Fail(std::vector<Pending>& pending, const absl::Status& status);
  // Waits for the next reply of the batch until `until` (or a queued read's earlier deadline);
  // false when the wait ended without one.
  absl::StatusOr<bool> Wait(absl::Time until,
                            absl::FunctionRef<void(const redisReply& reply)> deliver);
  // Answers the queued reads whose deadline passed.
  void ExpireQueued(absl::Time now);

  const ReadPipelineOptions options_;
  const std::string address_;

  mutable absl::Mutex mu_;
  std::deque<AsyncRead*> queue_ ABSL_GUARDED_BY(mu_);
  // The earliest deadline in queue_.
  absl::Time queued_earliest_ ABSL_GUARDED_BY(mu_) = absl::InfiniteFuture();
  // While the I/O thread waits for a reply: when it will look at the queue again. A read
  // submitted with an earlier deadline wakes it through wake_fd_, so that it is answered on
  // time even behind a stalled batch.
  absl::Time waiting_until_ ABSL_GUARDED_BY(mu_) = absl::InfinitePast();
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  int wake_fd_ = -1;  // an eventfd

  // Owned by the I/O thread.
  std::unique_ptr<redis::Connection> connection_;
  absl::Time last_used_ = absl::InfinitePast();
  absl::Time retry_at_ = absl::InfinitePast();
  absl::Status last_error_;
  base::Backoff backoff_;
  std::vector<const char*> argv_;  // reused between batches
  std::vector<size_t> lens_;

  std::thread thread_;
};

}  // namespace granary::onlinestore

#endif  // GRANARY_LIBS_ONLINESTORE_READ_PIPELINE_H_
