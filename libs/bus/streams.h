// The JetStream streams Granary's services share, declared by whichever service starts first
// and re-declared harmlessly by the others.
//
//   host.AddDependency("nats", JetStreamCheck(nats, js, {PushStreamSpec(...)}));
#ifndef GRANARY_LIBS_BUS_STREAMS_H_
#define GRANARY_LIBS_BUS_STREAMS_H_

#include <atomic>
#include <functional>
#include <memory>
#include <vector>

#include "absl/status/status.h"
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

// A health check for a service that uses JetStream: NATS answers, and `streams` are declared.
// NATS may be down at start, so the streams are declared by the first check that reaches it
// (the runtime repeats checks until they pass), and once only.
inline std::function<absl::Status()> JetStreamCheck(std::shared_ptr<Connection> nats,
                                                    std::shared_ptr<JetStream> js,
                                                    std::vector<StreamSpec> streams) {
  auto declared = std::make_shared<std::atomic<bool>>(false);
  return [nats, js, streams, declared]() -> absl::Status {
    if (absl::Status s = nats->Ping(); !s.ok()) return s;
    if (declared->load()) return absl::OkStatus();
    for (const StreamSpec& spec : streams) {
      if (absl::Status s = js->EnsureStream(spec); !s.ok()) return s;
    }
    declared->store(true);
    return absl::OkStatus();
  };
}

}  // namespace granary::bus

#endif  // GRANARY_LIBS_BUS_STREAMS_H_
