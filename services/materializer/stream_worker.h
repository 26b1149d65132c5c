// A worker pool on one durable JetStream consumer, shared by every materializer replica: each
// thread fetches messages, hands each to a MessageHandler, and settles it by what came back:
//   - OK: acknowledged;
//   - a reason it can never succeed (IsPermanent): delivered again up to `max_deliveries`
//     times, then published with the reason to granary.deadletter.<consumer> (stream
//     GRANARY_DEADLETTER) and only then terminated; nothing is dropped silently;
//   - anything else is the backends' trouble (Redis out of memory or read-only, PostgreSQL
//     away, a permission revoked): delivered again after a backoff, for as long as it lasts;
//     while no message succeeds and some fail, the worker is stalled (Health, a gauge), and it
//     resumes by itself once the trouble passes;
//   - OK with a rejected part (rows that can never be written while the others were): the part
//     is dead-lettered, then the message acknowledged.
// A worker killed mid-message leaves it to be delivered again after the consumer's ack_wait:
// handlers are idempotent.
//
//   StreamWorker worker({.stream = "GRANARY_PUSH", .durable = "online-writer"}, js, js, handler,
//                       metrics, &base::Clock::Real());
//   worker.Start();  ...  worker.Stop();
#ifndef GRANARY_SERVICES_MATERIALIZER_STREAM_WORKER_H_
#define GRANARY_SERVICES_MATERIALIZER_STREAM_WORKER_H_

#include <atomic>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/functional/function_ref.h"
#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "absl/types/span.h"

#include "libs/base/clock.h"
#include "libs/bus/consumer.h"
#include "libs/bus/publisher.h"
#include "libs/trace/span.h"
#include "libs/trace/tracer.h"
#include "services/materializer/writer_metrics.h"

namespace granary::materializer {

// What a handler made of a message.
struct Handled {
  absl::Status status;
  // OK, and there was nothing for this worker in it (counted apart).
  bool skipped = false;
  // With an OK status: a part of the message that can never be processed (the rest was),
  // to be dead-lettered as it is given here, with its reason.
  struct Rejected {
    std::string payload;
    std::string reason;
    // The dead letter's message id suffix, distinct from the whole message's.
    std::string part;
  };
  std::optional<Rejected> rejected;
};

class MessageHandler {
 public:
  virtual ~MessageHandler() = default;
  // Idempotent: the same message may come again (a worker died before its ack). A long
  // handler keeps `message` alive with InProgress.
  virtual Handled Handle(bus::Message& message) = 0;
  // The messages of one fetch: `settle(i, handled)` once for each, as soon as its answer is
  // known (it is acknowledged or retried right then). By default each is handled in turn.
  // Messages not settled yet are kept alive (InProgress) whenever `keep_alive.every` has
  // passed since the fetch or the last time, so that none passes ack_wait and goes to another
  // replica while still in hand (harmless, handlers are idempotent, but wasted work). A
  // handler that stores several messages in one round trip overrides it.
  struct KeepAlive {
    absl::Duration every;
    const base::Clock* clock;
    // Keeps `rest` alive if `every` has passed since *kept (then *kept is now).
    void IfDue(absl::Span<bus::Message* const> rest, absl::Time* kept) const;
  };
  using SettleFn = absl::FunctionRef<void(size_t message, Handled handled)>;
  virtual void HandleAll(absl::Span<bus::Message* const> messages, const KeepAlive& keep_alive,
                         SettleFn settle);
};

// Whether a handler's error means the message can never succeed: undecodable or malformed
// (DATA_LOSS, INVALID_ARGUMENT), or refused by what it is for (FAILED_PRECONDITION: its feature
// view or project no longer exists, a store refuses its rows). Everything else passes.
bool IsPermanent(const absl::Status& status);

struct StreamWorkerOptions {
  std::string stream;
  // The durable consumer's name, shared by all replicas ("online-writer").
  std::string durable;
  int threads = 1;
  int fetch_batch = 64;
  absl::Duration fetch_wait = absl::Milliseconds(500);
  // The consumer's own ack_wait: messages held longer are kept alive with InProgress.
  absl::Duration ack_wait = absl::Seconds(30);
  // Deliveries of a message failing for good before it is dead-lettered.
  int max_deliveries = 5;
  // Redelivery delay: min_backoff, doubling with each delivery up to max_backoff.
  absl::Duration min_backoff = absl::Milliseconds(100);
  absl::Duration max_backoff = absl::Seconds(10);
  // How long failing without any success counts as stalled.
  absl::Duration stall_after = absl::Seconds(30);
  // Where the spans of messages that carry a trace context go (a CONSUMER span from fetch to
  // settlement, child of the publisher's span). Null: none. Not from config: the runtime's.
  trace::Tracer* tracer = nullptr;
};

class StreamWorker {
 public:
  StreamWorker(StreamWorkerOptions options, std::shared_ptr<bus::DurableConsumers> consumers,
               std::shared_ptr<bus::AckedPublisher> dead_letters,
               std::shared_ptr<MessageHandler> handler, std::shared_ptr<WriterMetrics> metrics,
               const base::Clock* clock);
  ~StreamWorker();

  void Start();
  // Returns once every thread is done with its current messages.
  void Stop();

  // UNAVAILABLE (saying since when and the last error) while stalled; for health.
  absl::Status Health() const;
  // How long it has been failing without a success; zero when not stalled.
  absl::Duration stalled_for() const;
  // How long the message failing longest here (retried and not settled since) has been
  // failing; zero when none is. A message that keeps failing while others pass (a table
  // missing for one project) does not stall the worker, yet holds GRANARY_PUSH's trim floor:
  // this is what shows it.
  absl::Duration oldest_failing() const;
  // Messages fetched and not yet settled, by this process.
  int64_t in_hand() const { return in_hand_.load(); }
  const std::string& durable() const { return options_.durable; }

 private:
  void Loop();
  // A span for each message that carries a trace context (null for the others).
  std::vector<std::unique_ptr<trace::Span>> StartSpans(
      const std::vector<bus::Message*>& messages) const;
  void Settle(bus::Message& message, Handled handled);
  absl::Status DeadLetter(const bus::Message& message, const std::string& payload,
                          const std::string& reason, const std::string& part);
  absl::Duration Backoff(uint64_t deliveries) const;
  // Waits up to `d`, returning early (true) when stopping.
  bool WaitStopping(absl::Duration d);
  // The message of `sequence` settled for good: the worker is not stuck, nor is that message.
  void Succeeded(uint64_t sequence);
  void Failed(const absl::Status& status);
  // One message's own record of failing (by stream sequence): kept while it is retried,
  // dropped once it is settled (Succeeded).
  void MessageFailed(uint64_t sequence);
  // The consumer itself (bind, fetch): failing, or answering again (even with nothing).
  void SourceFailed(const absl::Status& status);
  void SourceAnswered();

  const StreamWorkerOptions options_;
  const std::shared_ptr<bus::DurableConsumers> consumers_;
  const std::shared_ptr<bus::AckedPublisher> dead_letters_;
  const std::shared_ptr<MessageHandler> handler_;
  const std::shared_ptr<WriterMetrics> metrics_;
  const base::Clock* clock_;
  std::vector<std::thread> threads_;
  std::atomic<int64_t> in_hand_{0};
  mutable absl::Mutex mu_;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  // Since when it has failed without a success in between (InfiniteFuture: not failing).
  absl::Time failing_since_ ABSL_GUARDED_BY(mu_) = absl::InfiniteFuture();
  // The same for reaching the consumer: an answer, even an empty one, ends it (an idle worker
  // is not stalled), which a message's success alone could not.
  absl::Time source_failing_since_ ABSL_GUARDED_BY(mu_) = absl::InfiniteFuture();
  absl::Status last_error_ ABSL_GUARDED_BY(mu_);
  struct FailingMessage {
    absl::Time first;
    absl::Time last;
  };
  // Pruned of messages not seen again when read (oldest_failing, at each scrape).
  mutable absl::flat_hash_map<uint64_t, FailingMessage> failing_messages_ ABSL_GUARDED_BY(mu_);
};

}  // namespace granary::materializer

#endif  // GRANARY_SERVICES_MATERIALIZER_STREAM_WORKER_H_
