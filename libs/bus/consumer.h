// Durable pull consumers as their users see them: a MessageSource hands out messages, each
// acknowledged, refused or terminated once. JetStream implements DurableConsumers; the
// materializer's workers take the interfaces, so their logic can be tested without a server.
//
//   ASSIGN_OR_RETURN(auto source, consumers.Bind("GRANARY_PUSH", "online-writer"));
//   ASSIGN_OR_RETURN(auto messages, source->Fetch(64, absl::Milliseconds(500)));
//   for (auto& m : messages) { ...; m->Ack(); }
#ifndef GRANARY_LIBS_BUS_CONSUMER_H_
#define GRANARY_LIBS_BUS_CONSUMER_H_

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace granary::bus {

// A delivered message. Destroying it without Ack, Nak or Term leaves it to be delivered again
// once the consumer's ack wait passes.
class Message {
 public:
  virtual ~Message() = default;

  virtual absl::string_view subject() const = 0;
  virtual absl::string_view data() const = 0;
  // The id its publisher gave it for deduplication; empty when none.
  virtual absl::string_view message_id() const = 0;
  // The W3C traceparent its publisher sent with it (libs/trace); empty when none.
  virtual absl::string_view traceparent() const { return {}; }
  // 1 on the first delivery.
  virtual uint64_t deliveries() const = 0;
  virtual uint64_t stream_sequence() const = 0;

  // Done with it: it will not be delivered again.
  virtual absl::Status Ack() = 0;
  // Deliver it again after `delay`.
  virtual absl::Status Nak(absl::Duration delay) = 0;
  // Never deliver it again (after it was dead-lettered, for instance).
  virtual absl::Status Term() = 0;
  // Still working on it: restarts the ack-wait clock.
  virtual absl::Status InProgress() = 0;
};

class MessageSource {
 public:
  virtual ~MessageSource() = default;
  // Up to `max` messages, waiting at most `timeout` for the first; empty when none came.
  // UNAVAILABLE while the server is unreachable (the source resumes after a reconnect); any
  // other error means the source is no use any more (bind again).
  virtual absl::StatusOr<std::vector<std::unique_ptr<Message>>> Fetch(int max,
                                                                      absl::Duration timeout) = 0;
};

class DurableConsumers {
 public:
  virtual ~DurableConsumers() = default;
  // A source of the durable consumer `durable` of `stream`, which must have been declared
  // (libs/bus/streams.h): NOT_FOUND when it was not. Every source bound to the same durable,
  // in any process, shares its messages.
  virtual absl::StatusOr<std::unique_ptr<MessageSource>> Bind(const std::string& stream,
                                                              const std::string& durable) = 0;
};

}  // namespace granary::bus

#endif  // GRANARY_LIBS_BUS_CONSUMER_H_
