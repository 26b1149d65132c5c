// The dead letters in stream GRANARY_DEADLETTER, for operators: listed and shown with filters
// (project, feature view, consumer, reason, time, sequences), replayed (each letter's message
// published again where it came from), purged. Letters stay until purged.
//
// A replay publishes the original message to its original subject with message id
// "<original id>/replay-<letter sequence>": a second replay of the same letter within the
// stream's duplicate window stores nothing, and one later is harmless too, because the workers
// are idempotent by the batch id the message carries (the offline ledger) and by time (online).
// The original id itself cannot be reused: JetStream would take the replay for the original
// within its window and store nothing.
//
//   DeadLetters letters(js, js);
//   ASSIGN_OR_RETURN(auto page, letters.List(filter, 100, ""));
#ifndef GRANARY_SERVICES_MATERIALIZER_DEAD_LETTERS_H_
#define GRANARY_SERVICES_MATERIALIZER_DEAD_LETTERS_H_

#include <functional>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "granary/deadletter/v1/deadletter.pb.h"

#include "libs/bus/publisher.h"
#include "libs/bus/stream_store.h"

namespace granary::materializer {

class DeadLetters {
 public:
  DeadLetters(std::shared_ptr<bus::StreamStore> store,
              std::shared_ptr<bus::AckedPublisher> publisher)
      : store_(std::move(store)), publisher_(std::move(publisher)) {}

  // INVALID_ARGUMENT naming the field for a bad page size or token.
  absl::StatusOr<deadletter::v1::ListDeadLettersResponse> List(
      const deadletter::v1::ListDeadLettersRequest& request);
  // NOT_FOUND naming the sequence.
  absl::StatusOr<deadletter::v1::DeadLetter> Get(uint64_t sequence);
  // Stops at the first letter that cannot be published (UNAVAILABLE, RESOURCE_EXHAUSTED ...);
  // those replayed before stay replayed, and replaying again is safe.
  absl::StatusOr<deadletter::v1::ReplayDeadLettersResponse> Replay(
      const deadletter::v1::ReplayDeadLettersRequest& request);
  // INVALID_ARGUMENT for an empty filter without `all`.
  absl::StatusOr<deadletter::v1::PurgeDeadLettersResponse> Purge(
      const deadletter::v1::PurgeDeadLettersRequest& request);

 private:
  struct Letter;
  // Calls `visit` for each stored letter from `from` on that matches, until it returns false
  // or `max_scanned` letters were looked at; returns the next sequence to look at (0: none).
  absl::StatusOr<uint64_t> Scan(const deadletter::v1::DeadLetterFilter& filter, uint64_t from,
                                uint64_t max_scanned,
                                const std::function<absl::StatusOr<bool>(const Letter&)>& visit);

  const std::shared_ptr<bus::StreamStore> store_;
  const std::shared_ptr<bus::AckedPublisher> publisher_;
};

}  // namespace granary::materializer

#endif  // GRANARY_SERVICES_MATERIALIZER_DEAD_LETTERS_H_
