// JetStream over a bus::Connection: streams and durable consumers declared (never silently
// reconfigured), publishes that complete only when the server stored the message (the
// message id deduplicates), durable pull consumers shared by any number of workers, and the
// few management calls operators' tools need (stream and consumer state, reading and deleting
// one stored message).
//
//   ASSIGN_OR_RETURN(auto js, JetStream::Create(nats));
//   ASSIGN_OR_RETURN(auto differences, js->EnsureStream({.name = "S", .subjects = {"s.>"}}));
//   js->PublishAsync("s.a", bytes, "batch-7", [](absl::StatusOr<PublishAck> a) {...});
//   ASSIGN_OR_RETURN(auto source, js->Bind("S", "workers"));
#ifndef GRANARY_LIBS_BUS_JETSTREAM_H_
#define GRANARY_LIBS_BUS_JETSTREAM_H_

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"

#include "libs/bus/connection.h"
#include "libs/bus/consumer.h"
#include "libs/bus/publisher.h"
#include "libs/bus/stream_store.h"

namespace granary::bus {

enum class Retention {
  // Messages go by the limits below only, whether consumed or not.
  kLimits,
  // A message goes once every consumer acknowledged it (none is kept for a stream without
  // consumers: declare them first).
  kInterest,
  // A message goes once one consumer acknowledged it.
  kWorkQueue,
};

struct StreamSpec {
  std::string name;
  std::vector<std::string> subjects;
  Retention retention = Retention::kLimits;
  // Messages with the same id published within this window are stored once.
  absl::Duration duplicate_window = absl::Minutes(2);
  // Messages older than this are removed; zero keeps them (up to max_bytes).
  absl::Duration max_age = absl::ZeroDuration();
  // -1: no bound.
  int64_t max_bytes = -1;
  // At max_bytes: refuse new messages (true) rather than drop the oldest.
  bool discard_new = false;
  // Copies kept by a cluster; an ack then means a quorum stored the message.
  int replicas = 1;
};

struct ConsumerSpec {
  std::string stream;
  // Every replica using the same durable name shares its messages.
  std::string durable;
  // The subjects it takes from the stream ("granary.push.>").
  std::string filter_subject;
  // A message not acknowledged within this time is delivered again (to any replica).
  absl::Duration ack_wait = absl::Seconds(30);
  // Unacknowledged messages handed out at once, over all replicas.
  int64_t max_ack_pending = 10000;
  // Copies of its state kept; on an interest-retention stream it must equal the stream's, or
  // a message can be removed before every consumer acknowledged it. 0: the stream's.
  int replicas = 0;
};

struct ConsumerState {
  // Delivered and not yet acknowledged (over all replicas).
  int64_t ack_pending = 0;
  // Not yet delivered.
  uint64_t pending = 0;
  int64_t redelivered = 0;
  // The stream sequence at and below which it acknowledged everything.
  uint64_t ack_floor = 0;
  // As configured (0: the stream's).
  int64_t replicas = 0;
};

struct JetStreamOptions {
  // A publish not stored by then completes with UNAVAILABLE.
  absl::Duration publish_timeout = absl::Seconds(5);
  // Publishes awaiting their ack at once; a publish beyond it waits 50 ms for room, then
  // fails with UNAVAILABLE (back-pressure for the caller to pass on).
  int64_t max_pending = 4096;
};

class JetStream : public AckedPublisher, public DurableConsumers, public StreamStore {
 public:
  static absl::StatusOr<std::unique_ptr<JetStream>> Create(std::shared_ptr<Connection> connection,
                                                           JetStreamOptions options = {});
  JetStream(const JetStream&) = delete;
  JetStream& operator=(const JetStream&) = delete;
  // Waits for the acks of publishes in flight (up to publish_timeout) and completes them.
  ~JetStream() override;

  // Creates the stream when it does not exist. An existing stream is left as it is (an
  // operator may have changed it on purpose): the answer lists how its configuration differs
  // from `spec`, one line per setting, empty when it does not. UNAVAILABLE while NATS is
  // unreachable.
  absl::StatusOr<std::vector<std::string>> EnsureStream(const StreamSpec& spec);
  // The same for a durable consumer. With `create` false a missing consumer is left missing
  // (and reported as no difference): for services that only check the consumers another
  // service owns (their NATS users may not create consumers).
  absl::StatusOr<std::vector<std::string>> EnsureConsumer(const ConsumerSpec& spec,
                                                          bool create = true);

  absl::StatusOr<ConsumerState> GetConsumerState(const std::string& stream,
                                                 const std::string& durable);
  absl::StatusOr<StreamState> GetStreamState(const std::string& stream) override;
  absl::StatusOr<StoredMessage> GetMessage(const std::string& stream, uint64_t sequence) override;
  absl::Status DeleteMessage(const std::string& stream, uint64_t sequence) override;
  // Removes every message of the stream with a sequence below `sequence`.
  absl::Status PurgeBelow(const std::string& stream, uint64_t sequence);
  // For operators' tools and tests: a durable consumer gone (declared again by the services).
  absl::Status DeleteConsumer(const std::string& stream, const std::string& durable);

  using AckedPublisher::PublishAsync;
  void PublishAsync(absl::string_view subject, absl::string_view data, absl::string_view msg_id,
                    absl::string_view traceparent, PublishDone done) override;
  int64_t max_payload() const override;
  absl::StatusOr<std::unique_ptr<MessageSource>> Bind(const std::string& stream,
                                                      const std::string& durable) override;

 private:
  struct State;
  explicit JetStream(std::unique_ptr<State> state);
  std::unique_ptr<State> state_;
};

}  // namespace granary::bus

#endif  // GRANARY_LIBS_BUS_JETSTREAM_H_
