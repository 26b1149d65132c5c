// Publishing that completes only when the server stored the message: what ingestion, the
// registry and the materializer publish through. JetStream implements it; a component that
// publishes takes an AckedPublisher, so it can be given another one in a unit test.
//
//   publisher.PublishAsync("granary.push.p.v", bytes, "p/batch-7/v",
//                          [](absl::StatusOr<PublishAck> ack) { ... });
//   ASSIGN_OR_RETURN(PublishAck ack, publisher.Publish(subject, bytes, id));  // waits
#ifndef GRANARY_LIBS_BUS_PUBLISHER_H_
#define GRANARY_LIBS_BUS_PUBLISHER_H_

#include <cstdint>
#include <functional>
#include <utility>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace granary::bus {

// What the server said when it stored a published message.
struct PublishAck {
  uint64_t sequence = 0;
  // The id was already stored within the stream's duplicate window; nothing was stored again.
  bool duplicate = false;
};

using PublishDone = std::function<void(absl::StatusOr<PublishAck>)>;

class AckedPublisher {
 public:
  virtual ~AckedPublisher() = default;

  // Calls `done` exactly once: with the ack once the server stored the message, or with an
  // error, never with an ack that was not received:
  //   UNAVAILABLE          the server is unreachable or did not answer in time (maybe stored:
  //                        publish again with the same id);
  //   RESOURCE_EXHAUSTED   the stream is full (nothing stored; try again later);
  //   INVALID_ARGUMENT     the message is larger than the server takes.
  // `done` may run before this returns, or on the client's thread; it must not block.
  // `msg_id` empty: no deduplication. `traceparent` (W3C trace context, libs/trace) travels
  // in the message's headers to whoever processes it; empty: none.
  virtual void PublishAsync(absl::string_view subject, absl::string_view data,
                            absl::string_view msg_id, absl::string_view traceparent,
                            PublishDone done) = 0;
  // Without a trace context.
  void PublishAsync(absl::string_view subject, absl::string_view data, absl::string_view msg_id,
                    PublishDone done) {
    PublishAsync(subject, data, msg_id, absl::string_view(), std::move(done));
  }

  // The largest message (payload and headers) the server accepts; 0 while that is not known
  // (never connected).
  virtual int64_t max_payload() const = 0;

  // PublishAsync, waiting for the outcome.
  absl::StatusOr<PublishAck> Publish(absl::string_view subject, absl::string_view data,
                                     absl::string_view msg_id, absl::string_view traceparent = {});
};

}  // namespace granary::bus

#endif  // GRANARY_LIBS_BUS_PUBLISHER_H_
