// A durable JetStream consumer of pushed batches, shared by every materializer replica: each
// of its threads fetches messages and hands each batch to a BatchSink, then
//   - acknowledges it once the sink stored it;
//   - asks for it again after a backoff when the sink failed for a passing reason (a backend
//     down: UNAVAILABLE, DEADLINE_EXCEEDED, ABORTED, RESOURCE_EXHAUSTED), however many times;
//   - after `max_deliveries` deliveries that failed for good (undecodable, a feature view no
//     longer in the registry, a table that refuses the rows), publishes it with the reason to
//     granary.deadletter.<consumer> (stream GRANARY_DEADLETTER) and only then lets it go.
// Nothing is dropped silently, and a worker killed mid-batch leaves its messages to be
// delivered again after ack_wait: sinks are idempotent.
//
//   PushConsumer consumer(options, js, sink, metrics);
//   consumer.Start();  ...  consumer.Stop();
#ifndef GRANARY_SERVICES_MATERIALIZER_PUSH_CONSUMER_H_
#define GRANARY_SERVICES_MATERIALIZER_PUSH_CONSUMER_H_

#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "granary/events/v1/events.pb.h"

#include "libs/bus/jetstream.h"
#include "services/materializer/writer_metrics.h"

namespace granary::materializer {

// Where a consumer puts batches: the online or the offline store.
class BatchSink {
 public:
  virtual ~BatchSink() = default;
  // Whether the batch is for this store (pushed to it); others are acknowledged untouched.
  virtual bool Wants(const events::v1::PushBatch& batch) const = 0;
  // OK when stored; applying a batch twice must store it once.
  virtual absl::Status Write(const events::v1::PushBatch& batch) = 0;
};

struct PushConsumerOptions {
  // The durable consumer's name, shared by all replicas: "online-writer", "offline-writer".
  std::string durable;
  int threads = 1;
  int fetch_batch = 64;
  absl::Duration fetch_wait = absl::Milliseconds(500);
  // A message not acknowledged by then goes to another replica.
  absl::Duration ack_wait = absl::Seconds(30);
  // Deliveries of a message that fails for good before it is dead-lettered.
  int max_deliveries = 5;
  // Redelivery delay: min_backoff, doubling with each delivery up to max_backoff.
  absl::Duration min_backoff = absl::Milliseconds(100);
  absl::Duration max_backoff = absl::Seconds(10);
};

// Whether a sink's error may go away by itself (retry without limit).
bool IsTransient(const absl::Status& status);

class PushConsumer {
 public:
  PushConsumer(PushConsumerOptions options, std::shared_ptr<bus::JetStream> js,
               std::shared_ptr<BatchSink> sink, std::shared_ptr<WriterMetrics> metrics);
  ~PushConsumer();

  void Start();
  // Returns once every thread is done with its current messages.
  void Stop();

 private:
  void Loop();
  void Handle(bus::Delivery& delivery);
  absl::Status DeadLetter(const bus::Delivery& delivery, const std::string& reason);
  absl::Duration Backoff(uint64_t deliveries) const;
  // Waits up to `d`, returning early (true) when stopping.
  bool WaitStopping(absl::Duration d);

  const PushConsumerOptions options_;
  const std::shared_ptr<bus::JetStream> js_;
  const std::shared_ptr<BatchSink> sink_;
  const std::shared_ptr<WriterMetrics> metrics_;
  std::vector<std::thread> threads_;
  absl::Mutex mu_;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
};

}  // namespace granary::materializer

#endif  // GRANARY_SERVICES_MATERIALIZER_PUSH_CONSUMER_H_
