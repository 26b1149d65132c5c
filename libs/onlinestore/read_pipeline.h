// Reads of many callers over one Redis connection. Callers queue an AsyncRead and return; an
// I/O thread takes everything queued, sends it in one write, and reads the replies in order,
// handing each read its fields as they arrive (a hash read whole, HashGet::whole_hash, at the
// end of its reply, in the get's order). While one batch is on the wire the next one
// gathers, so the busier the service, the more reads share a round trip (this is what lets
// serving run near the raw Redis rate; see tools/bench grpc_api). Submitting takes no lock:
// the queue is a lock-free stack the reader empties in one exchange. When nothing is being
// read, the caller reads its own batch on its own thread (no wake-up of the I/O thread), for
// at most ReadPipelineOptions::caller_wait; what Redis has not answered by then, the I/O
// thread reads.
//
// A read whose deadline passes is answered at that moment, even in the middle of a batch or
// queued behind a stalled one (its replies are dropped when they come). A connection that fails
// fails the reads it carries and is replaced on a later batch; until then, after a short
// growing backoff, reads fail at once with UNAVAILABLE instead of piling up on a dead server.
//
//   ReadPipeline pipeline({.redis = options});
//   pipeline.Submit(read);  // read->Done(...) comes later: on the pipeline's thread, or on
//                           // this one before Submit returns
#ifndef GRANARY_LIBS_ONLINESTORE_READ_PIPELINE_H_
#define GRANARY_LIBS_ONLINESTORE_READ_PIPELINE_H_

#include <atomic>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/time/time.h"

#include "libs/base/backoff.h"
#include "libs/onlinestore/online_store.h"
#include "libs/redis/connection.h"
#include "libs/redis/options.h"

namespace granary::onlinestore {

// How long a caller reading on its own thread waits for Redis by default (see caller_wait).
inline constexpr absl::Duration kDefaultCallerWait = absl::Milliseconds(10);

struct ReadPipelineOptions {
  redis::RedisOptions redis;
  // At most this many hash reads (HashGets) per write; more waits for the next batch.
  size_t max_batch_gets = 4096;
  // When no read is in progress and the connection is open and sound, Submit reads on the
  // caller's thread instead of handing over to the I/O thread: a thread wake-up less per call
  // when the service is not busy. The caller waits for Redis's replies at most `caller_wait`;
  // a batch not answered by then is handed to the I/O thread, which reads the rest of it and
  // answers its reads, and the caller returns (its thread may be one that must never wait
  // long: a gRPC queue thread). Until that batch is over, every read goes to the I/O thread.
  bool read_on_caller_when_idle = true;
  absl::Duration caller_wait = kDefaultCallerWait;
  // Called after each batch that reached Redis (on the thread that read it): its round-trip
  // time (send to last reply; with a hand-over, the I/O thread's wake-up too) and its number
  // of hash reads. For metrics; may be empty.
  std::function<void(absl::Duration round_trip, size_t gets)> on_round_trip;
};

// `fields` in the Redis protocol (each a bulk string), for HashGet::encoded_fields.
std::string EncodeFields(const std::vector<std::string>& fields);

class ReadPipeline {
 public:
  explicit ReadPipeline(ReadPipelineOptions options);
  // Reads queued or in flight get UNAVAILABLE (a reply already on its way is not waited
  // for); the I/O thread is joined. No Submit may race it.
  ~ReadPipeline();
  ReadPipeline(const ReadPipeline&) = delete;
  ReadPipeline& operator=(const ReadPipeline&) = delete;

  // Thread-safe and lock-free. Returns at once, or, reading on the caller's thread, once the
  // batch is read or caller_wait (counted from before the send) has passed. The batch holds
  // every read queued at the time, not only the caller's, and the caller may answer them all.
  // Sending may take longer in one case: a batch larger than the socket's buffers (some 100 KB
  // on loopback) to a Redis that stopped reading waits up to redis.command_timeout.
  void Submit(AsyncRead* read);

 private:
  struct Pending;
  class Replies;
  void Loop();
  // Moves everything submitted so far to the end of backlog_, in submission order.
  void TakeSubmitted();
  // Moves the oldest reads of backlog_ to `batch`, up to max_batch_gets.
  void TakeBatch(std::vector<AsyncRead*>& batch);
  // Waits for a wake-up; unless `even_with_work`, not when reads are already submitted.
  void Sleep(bool even_with_work);
  struct Batch;
  // Sends the batch and reads its replies; on a caller's thread, only until `caller_until`.
  // False when the batch was not over by then: it stays in batch_ for the I/O thread.
  bool RunBatch(std::vector<AsyncRead*>& batch, absl::Time caller_until);
  // The connection is open, sound and not in the middle of a batch: a caller may read on it.
  bool Sound() const;
  // Drops a connection that broke, or that the server closed while it sat idle; true when one
  // is left to read on.
  bool Usable(absl::Time now);
  // The connection, opened if needed; false (with every read failed) when Redis is down.
  bool Connect(std::vector<Pending>& pending, absl::Time now);
  void Send(std::vector<Pending>& pending);
  // Reads batch_'s replies, from where an earlier call stopped; false when `until` came
  // first (the batch goes on later), true when every reply was read or the batch failed.
  bool Receive(absl::Time until);
  // After the batch's last reply.
  void EndBatch();
  void Fail(std::vector<Pending>& pending, const absl::Status& status);
  // Waits for the next reply of the batch until `until` (or a queued read's earlier deadline);
  // false when the wait ended without one. The reply's fields go to the read as parsed.
  absl::StatusOr<bool> Wait(absl::Time until);
  // Answers the queued reads whose deadline passed.
  void ExpireQueued(absl::Time now);
  static void Signal(int fd);
  static void Drain(int fd);

  const ReadPipelineOptions options_;
  const std::string address_;
  // eventfds: one ends the I/O thread's idle wait, the other a reader's wait for a reply (a
  // read due earlier was submitted).
  int idle_fd_ = -1;
  int deadline_fd_ = -1;

  // Shared with submitters, all lock-free.
  std::atomic<AsyncRead*> submitted_{nullptr};  // a stack, newest first
  // The earliest deadline among submitted reads (unix nanoseconds), and while the I/O thread
  // waits, when it will next look at them: a read due earlier wakes it, so that it is answered
  // on time even behind a stalled batch.
  std::atomic<int64_t> submitted_earliest_{INT64_MAX};
  std::atomic<int64_t> waiting_until_{INT64_MIN};
  std::atomic<bool> idle_{false};
  // The connection was open and sound after the last batch, and no batch is left in flight:
  // only then may a caller read on its own thread (connecting, a Redis that went away, and the
  // rest of a batch a caller stopped waiting for are the I/O thread's to wait for).
  std::atomic<bool> open_{false};
  std::atomic<bool> stopping_{false};
  // Held by whoever reads: the I/O thread, or a caller reading on its own thread.
  std::atomic<bool> running_{false};

  // Owned by the holder of running_.
  std::deque<AsyncRead*> backlog_;  // taken from submitted_, not yet sent
  std::unique_ptr<redis::Connection> connection_;
  absl::Time last_used_ = absl::InfinitePast();
  absl::Time retry_at_ = absl::InfinitePast();
  absl::Status last_error_;
  base::Backoff backoff_;
  std::string commands_;  // reused between batches
  // False once Redis refused an HGETALL for want of permission: gets that could read a hash
  // whole are then sent as HMGETs.
  bool whole_hash_allowed_ = true;
  std::unique_ptr<Replies> replies_;
  // The batch being read: sent, its replies not all read. A caller that stopped waiting
  // leaves it here for the I/O thread (its reads point into it, so it is never moved).
  std::unique_ptr<Batch> batch_;

  std::thread thread_;
};

}  // namespace granary::onlinestore

#endif  // GRANARY_LIBS_ONLINESTORE_READ_PIPELINE_H_
