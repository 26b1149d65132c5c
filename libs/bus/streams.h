// The JetStream streams and durable consumers Granary's services share, declared from one set
// of settings: the `jetstream:` section of every service that uses JetStream. Each service
// declares all of them the same way when NATS first answers; whoever comes first creates them,
// and a service that finds one configured otherwise says so (a warning naming each setting)
// and leaves it as it is, so a stream is never silently reconfigured by the last one started.
//
//   jetstream:
//     replicas: 3                 # copies kept; default 3 when nats.url lists 3+ servers, else 1
//     push_max_bytes: 1GiB        # GRANARY_PUSH's bound: when full, pushes are refused
//     dedupe_window: 10m          # a batch id pushed again within it is stored once
//     ack_wait: 30s               # a batch a writer holds longer goes to another replica
//     max_ack_pending: 10000      # batches handed out at once, per writer consumer
//     dead_letter_max_bytes: 10GiB  # unset (the default): dead letters are kept until purged,
//                                   # without bound; set: at least 1MiB, and when full a
//                                   # letter cannot be stored (the message stays, the worker
//                                   # is stalled) rather than an older one dropped
//
//   host.AddDependency("nats", JetStreamCheck(nats, js, settings));
#ifndef GRANARY_LIBS_BUS_STREAMS_H_
#define GRANARY_LIBS_BUS_STREAMS_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"

#include "libs/bus/connection.h"
#include "libs/bus/jetstream.h"
#include "libs/bus/options.h"
#include "libs/config/reader.h"

namespace granary::bus {

// Pushed batches, subject granary.push.<project>.<feature_view>. A batch stays until both writer
// consumers acknowledged it, whatever its age: the stream itself removes nothing (limits
// retention, no age) and the materializers trim it below both writers' acknowledgement floors
// (stream_trimmer.h says why not interest retention); at push_max_bytes new pushes are refused
// (RESOURCE_EXHAUSTED) instead of anything stored being dropped.
inline constexpr char kPushStream[] = "GRANARY_PUSH";
inline constexpr char kPushSubjects[] = "granary.push.>";
// Its two durable consumers, declared with it; while one is missing, nothing is trimmed.
inline constexpr char kOnlineWriter[] = "online-writer";
inline constexpr char kOfflineWriter[] = "offline-writer";

// Messages a consumer gave up on, subject granary.deadletter.<consumer>; kept until purged.
inline constexpr char kDeadLetterStream[] = "GRANARY_DEADLETTER";

// Online data of deleted feature views to remove, subject granary.cleanup.<project>; a work
// queue consumed by one materializer replica per message.
inline constexpr char kCleanupStream[] = "GRANARY_CLEANUP";
inline constexpr char kOnlineCleaner[] = "online-cleaner";

// Materialization tasks, subject granary.tasks.<project>; a work queue: each task goes to one
// materializer replica, and back to the queue when that replica dies before acknowledging it.
inline constexpr char kTaskStream[] = "GRANARY_TASKS";
inline constexpr char kTaskRunner[] = "task-runner";

struct JetStreamSettings {
  int replicas = 1;
  int64_t push_max_bytes = int64_t{1} << 30;
  absl::Duration dedupe_window = absl::Minutes(10);
  absl::Duration ack_wait = absl::Seconds(30);
  int64_t max_ack_pending = 10000;
  int64_t dead_letter_max_bytes = -1;
};

// Reads the section (root.Section("jetstream")); `nats` gives the default replica count.
JetStreamSettings ReadJetStreamSettings(config::Reader section, const NatsOptions& nats);

std::vector<StreamSpec> GranaryStreams(const JetStreamSettings& settings);
std::vector<ConsumerSpec> GranaryConsumers(const JetStreamSettings& settings);

// Creates every stream and consumer that is missing; returns how existing ones differ from
// the settings, one line each, naming the stream or consumer. Without `create_consumers` the
// consumers are only compared (the materializer, which consumes, creates them; the others'
// NATS users may not: deploy/nats/nats.conf).
absl::StatusOr<std::vector<std::string>> DeclareStreams(JetStream& js,
                                                        const JetStreamSettings& settings,
                                                        bool create_consumers = true);

// A health check for a service that uses JetStream: NATS answers, and everything is declared.
// NATS may be down at start, so the declaration happens on the first check that reaches it
// (the runtime repeats checks until they pass), and again every `redeclare_every`, so that a
// stream or consumer deleted meanwhile comes back; differences are logged when they change.
// A difference under which acknowledged batches can be lost (BreaksGuarantees) fails the check
// (FAILED_PRECONDITION naming it): the service is NOT_SERVING until an operator fixes it.
// The verdict of the last JetStreamCheck that reached NATS, for callers that must not act
// while the settings are unsafe (ingestion refuses pushes it could not keep). Until a check
// has run it is UNAVAILABLE.
class StreamSafety {
 public:
  absl::Status Get() const;
  void Set(absl::Status verdict);

 private:
  mutable absl::Mutex mu_;
  absl::Status verdict_ ABSL_GUARDED_BY(mu_) =
      absl::UnavailableError("JetStream's streams have not been checked yet");
};

// `safety`, when given, gets each verdict; `create_consumers` as for DeclareStreams.
std::function<absl::Status()> JetStreamCheck(std::shared_ptr<Connection> nats,
                                             std::shared_ptr<JetStream> js,
                                             JetStreamSettings settings,
                                             absl::Duration redeclare_every = absl::Seconds(30),
                                             std::shared_ptr<StreamSafety> safety = nullptr,
                                             bool create_consumers = true);

// Whether a difference DeclareStreams reported lets a batch or dead letter vanish unprocessed:
// GRANARY_PUSH's or GRANARY_DEADLETTER's retention, max_age, discard, replicas, storage or
// per-subject limit, or a consumer's
// filter, ack or deliver policy.
bool BreaksGuarantees(absl::string_view difference);

}  // namespace granary::bus

#endif  // GRANARY_LIBS_BUS_STREAMS_H_
