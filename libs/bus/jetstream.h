// JetStream over a bus::Connection: streams declared at start-up, publishes that complete
// only when the server stored the message (with the message id as deduplication key), and
// durable pull consumers shared by any number of workers.
//
//   ASSIGN_OR_RETURN(auto js, JetStream::Create(nats));
//   RETURN_IF_ERROR(js->EnsureStream({.name = "GRANARY_PUSH", .subjects = {"granary.push.>"}}));
//   js->PublishAsync("granary.push.p.v", bytes, "batch-7/v", [](absl::StatusOr<PublishAck> a) {});
//   ASSIGN_OR_RETURN(auto consumer, js->Consume({.stream = "GRANARY_PUSH",
//                                                .durable = "online-writer",
//                                                .subject = "granary.push.>"}));
//   ASSIGN_OR_RETURN(auto messages, consumer->Fetch(64, absl::Seconds(1)));
//   for (auto& m : messages) { ...; m.Ack(); }
#ifndef GRANARY_LIBS_BUS_JETSTREAM_H_
#define GRANARY_LIBS_BUS_JETSTREAM_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include <nats/nats.h>

#include "libs/bus/connection.h"

namespace granary::bus {

struct StreamSpec {
  std::string name;
  std::vector<std::string> subjects;
  // Messages with the same id published within this window are stored once.
  absl::Duration duplicate_window = absl::Minutes(10);
  // Messages older than this are removed; zero keeps them until the limits below.
  absl::Duration max_age = absl::Hours(24 * 7);
  int64_t max_bytes = -1;
  // A work queue removes a message once it is acknowledged (only one consumer per subject).
  bool work_queue = false;
};

struct ConsumerSpec {
  std::string stream;
  // Every replica using the same durable name shares its messages.
  std::string durable;
  // The subjects it takes from the stream (a wildcard such as "granary.push.>" for all).
  std::string subject;
  // A message not acknowledged within this time is delivered again (to any replica).
  absl::Duration ack_wait = absl::Seconds(30);
  // Unacknowledged messages the server hands out at once, over all replicas.
  int64_t max_ack_pending = 10000;
};

// What the server said when it stored a published message.
struct PublishAck {
  uint64_t sequence = 0;
  // The id was already stored within the duplicate window; nothing was stored again.
  bool duplicate = false;
};

// A delivered message; acknowledge, refuse or terminate it exactly once (destroying it
// without doing so leaves it to be delivered again after the consumer's ack_wait).
class Delivery {
 public:
  explicit Delivery(natsMsg* msg);
  Delivery(Delivery&& other) noexcept;
  Delivery& operator=(Delivery&&) = delete;
  Delivery(const Delivery&) = delete;
  ~Delivery();

  absl::string_view subject() const;
  absl::string_view data() const;
  // 1 on the first delivery.
  uint64_t deliveries() const { return deliveries_; }
  uint64_t stream_sequence() const { return stream_sequence_; }

  // Done with it: the server will not deliver it again.
  absl::Status Ack();
  // Deliver again after `delay`.
  absl::Status Nak(absl::Duration delay);
  // Never deliver again (after it was dead-lettered, for instance).
  absl::Status Term();
  // Still working on it: restarts the ack_wait clock.
  absl::Status InProgress();

 private:
  natsMsg* msg_;
  uint64_t deliveries_ = 0;
  uint64_t stream_sequence_ = 0;
};

class PullConsumer {
 public:
  PullConsumer(const PullConsumer&) = delete;
  PullConsumer& operator=(const PullConsumer&) = delete;
  ~PullConsumer();

  // Up to `max` messages, waiting at most `timeout` for the first; empty when none came.
  // UNAVAILABLE while NATS is unreachable (the subscription resumes after a reconnect).
  absl::StatusOr<std::vector<Delivery>> Fetch(int max, absl::Duration timeout);

 private:
  friend class JetStream;
  PullConsumer(std::shared_ptr<Connection> connection, natsSubscription* sub)
      : connection_(std::move(connection)), sub_(sub) {}
  std::shared_ptr<Connection> connection_;
  natsSubscription* sub_;
};

using PublishDone = std::function<void(absl::StatusOr<PublishAck>)>;

// Publishing with the server's acknowledgment, as its users see it (JetStream implements it).
class AckedPublisher {
 public:
  virtual ~AckedPublisher() = default;
  // Calls `done` exactly once: with the ack once the server stored the message, or with an
  // error (UNAVAILABLE when the server is unreachable or did not answer in time: never an ack
  // that was not received). `done` may run before this returns, or on the client's thread;
  // it must not block. `msg_id` empty: no deduplication.
  virtual void PublishAsync(absl::string_view subject, absl::string_view data,
                            absl::string_view msg_id, PublishDone done) = 0;
};

struct JetStreamOptions {
  // A publish not stored by then completes with UNAVAILABLE.
  absl::Duration publish_timeout = absl::Seconds(5);
  // Publishes awaiting their ack at once; a publish beyond it waits 50 ms for room, then
  // fails with UNAVAILABLE (back-pressure for the caller to pass on).
  int64_t max_pending = 4096;
};

class JetStream : public AckedPublisher {
 public:
  static absl::StatusOr<std::unique_ptr<JetStream>> Create(std::shared_ptr<Connection> connection,
                                                           JetStreamOptions options = {});
  JetStream(const JetStream&) = delete;
  JetStream& operator=(const JetStream&) = delete;
  // Waits for the acks of publishes in flight (up to publish_timeout) and completes them.
  ~JetStream() override;

  // Creates the stream, or brings an existing one to the spec. UNAVAILABLE while NATS is
  // unreachable.
  absl::Status EnsureStream(const StreamSpec& spec);
  // Creates the durable consumer if needed and binds a pull subscription to it.
  absl::StatusOr<std::unique_ptr<PullConsumer>> Consume(const ConsumerSpec& spec);

  void PublishAsync(absl::string_view subject, absl::string_view data, absl::string_view msg_id,
                    PublishDone done) override;
  // The same, waiting for the outcome.
  absl::StatusOr<PublishAck> Publish(absl::string_view subject, absl::string_view data,
                                     absl::string_view msg_id);

 private:
  JetStream(std::shared_ptr<Connection> connection, jsCtx* js, JetStreamOptions options)
      : connection_(std::move(connection)), js_(js), options_(options) {}
  static void OnAck(jsCtx* js, natsMsg* msg, jsPubAck* pa, jsPubAckErr* pae, void* closure);

  std::shared_ptr<Connection> connection_;
  jsCtx* js_ = nullptr;
  const JetStreamOptions options_;
  absl::Mutex mu_;
  // Callbacks of publishes in flight, by the message the client hands back with the ack.
  absl::flat_hash_map<const natsMsg*, PublishDone> pending_ ABSL_GUARDED_BY(mu_);
};

}  // namespace granary::bus

#endif  // GRANARY_LIBS_BUS_JETSTREAM_H_
