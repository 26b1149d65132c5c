// The JetStream streams Granary's services share, declared by whichever service starts first
// and re-declared harmlessly by the others.
//
//   RETURN_IF_ERROR(js->EnsureStream(PushStreamSpec(absl::Minutes(10), absl::Hours(168))));
#ifndef GRANARY_LIBS_BUS_STREAMS_H_
#define GRANARY_LIBS_BUS_STREAMS_H_

#include "absl/time/time.h"

#include "libs/bus/jetstream.h"

namespace granary::bus {

// Pushed batches, subject granary.push.<project>.<feature_view>, kept by age (limits
// retention), not by interest: a batch acknowledged to a producer before any writer ever
// started must still be there for it.
inline constexpr char kPushStream[] = "GRANARY_PUSH";
// Messages a consumer gave up on, subject granary.deadletter.<consumer>.
inline constexpr char kDeadLetterStream[] = "GRANARY_DEADLETTER";

inline StreamSpec PushStreamSpec(absl::Duration dedupe_window, absl::Duration retention) {
  return {.name = kPushStream,
          .subjects = {"granary.push.>"},
          .duplicate_window = dedupe_window,
          .max_age = retention};
}

inline StreamSpec DeadLetterStreamSpec(absl::Duration retention) {
  return {.name = kDeadLetterStream,
          .subjects = {"granary.deadletter.>"},
          .duplicate_window = absl::Minutes(2),
          .max_age = retention};
}

}  // namespace granary::bus

#endif  // GRANARY_LIBS_BUS_STREAMS_H_
