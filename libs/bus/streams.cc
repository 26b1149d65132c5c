#include "libs/bus/streams.h"

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/synchronization/mutex.h"

#include "libs/base/log.h"
#include "libs/base/status_macros.h"

namespace granary::bus {

JetStreamSettings ReadJetStreamSettings(config::Reader section, const NatsOptions& nats) {
  JetStreamSettings s;
  const size_t servers = std::vector<std::string>(absl::StrSplit(nats.url, ',')).size();
  s.replicas = static_cast<int>(section.Int("replicas", servers >= 3 ? 3 : 1, 1, 5));
  s.push_max_bytes = section.Bytes("push_max_bytes", s.push_max_bytes, int64_t{1} << 20);
  s.dedupe_window =
      section.Duration("dedupe_window", s.dedupe_window, absl::Seconds(1), absl::Hours(24));
  s.ack_wait = section.Duration("ack_wait", s.ack_wait, absl::Seconds(1), absl::Hours(1));
  s.max_ack_pending = section.Int("max_ack_pending", s.max_ack_pending, 1, 1'000'000);
  if (section.Has("dead_letter_max_bytes")) {
    s.dead_letter_max_bytes =
        section.Bytes("dead_letter_max_bytes", s.dead_letter_max_bytes, int64_t{1} << 20);
  }
  return s;
}

std::vector<StreamSpec> GranaryStreams(const JetStreamSettings& settings) {
  return {
      {.name = kPushStream,
       .subjects = {kPushSubjects},
       .retention = Retention::kLimits,
       .duplicate_window = settings.dedupe_window,
       .max_bytes = settings.push_max_bytes,
       .discard_new = true,
       .replicas = settings.replicas},
      // Full: dead-lettering fails and the message stays where it is (never dropped).
      {.name = kDeadLetterStream,
       .subjects = {"granary.deadletter.>"},
       .duplicate_window = absl::Minutes(2),
       .max_bytes = settings.dead_letter_max_bytes,
       .discard_new = true,
       .replicas = settings.replicas},
      {.name = kCleanupStream,
       .subjects = {"granary.cleanup.>"},
       .retention = Retention::kWorkQueue,
       .duplicate_window = absl::Minutes(10),
       .replicas = settings.replicas},
      // A task published twice (a job queued again) is stored once within the window, and
      // is harmless after it: a task that already succeeded is only acknowledged.
      {.name = kTaskStream,
       .subjects = {"granary.tasks.>"},
       .retention = Retention::kWorkQueue,
       .duplicate_window = absl::Minutes(10),
       .replicas = settings.replicas},
  };
}

std::vector<ConsumerSpec> GranaryConsumers(const JetStreamSettings& settings) {
  auto writer = [&](const char* durable) {
    return ConsumerSpec{.stream = kPushStream,
                        .durable = durable,
                        .filter_subject = kPushSubjects,
                        .ack_wait = settings.ack_wait,
                        .max_ack_pending = settings.max_ack_pending,
                        .replicas = settings.replicas};
  };
  return {writer(kOnlineWriter), writer(kOfflineWriter),
          ConsumerSpec{.stream = kCleanupStream,
                       .durable = kOnlineCleaner,
                       .filter_subject = "granary.cleanup.>",
                       .ack_wait = absl::Minutes(5),
                       .max_ack_pending = 100,
                       .replicas = settings.replicas},
          // Tasks run long and are kept alive as they go; ack_wait bounds how long a task
          // of a replica that died waits to run elsewhere.
          ConsumerSpec{.stream = kTaskStream,
                       .durable = kTaskRunner,
                       .filter_subject = "granary.tasks.>",
                       .ack_wait = settings.ack_wait,
                       .max_ack_pending = 10000,
                       .replicas = settings.replicas}};
}

absl::StatusOr<std::vector<std::string>> DeclareStreams(JetStream& js,
                                                        const JetStreamSettings& settings,
                                                        bool create_consumers) {
  std::vector<std::string> differences;
  for (const StreamSpec& spec : GranaryStreams(settings)) {
    ASSIGN_OR_RETURN(std::vector<std::string> found, js.EnsureStream(spec));
    for (const std::string& d : found)
      differences.push_back(absl::StrCat("stream ", spec.name, " ", d));
  }
  for (const ConsumerSpec& spec : GranaryConsumers(settings)) {
    ASSIGN_OR_RETURN(std::vector<std::string> found, js.EnsureConsumer(spec, create_consumers));
    for (const std::string& d : found) {
      differences.push_back(absl::StrCat("consumer ", spec.stream, "/", spec.durable, " ", d));
    }
  }
  return differences;
}

absl::Status StreamSafety::Get() const {
  absl::MutexLock lock(&mu_);
  return verdict_;
}

void StreamSafety::Set(absl::Status verdict) {
  absl::MutexLock lock(&mu_);
  verdict_ = std::move(verdict);
}

bool BreaksGuarantees(absl::string_view difference) {
  // Settings under which a stored batch or dead letter can vanish unprocessed, or a consumer's
  // floor pass messages it never had (the push stream is trimmed below the floors).
  // Fewer replicas than declared: an ack no longer means a quorum stored it; memory storage
  // loses everything on a restart; a per-subject limit drops old messages even with discard
  // new.
  for (absl::string_view stream : {kPushStream, kDeadLetterStream, kTaskStream}) {
    for (absl::string_view setting :
         {"retention:", "max_age:", "discard:", "replicas:", "storage:", "max_msgs_per_subject:"}) {
      if (absl::StartsWith(difference, absl::StrCat("stream ", stream, " ", setting))) return true;
    }
  }
  if (!absl::StartsWith(difference, "consumer ")) return false;
  for (absl::string_view setting :
       {" filter_subject:", " ack_policy:", " deliver_policy:", " max_deliver:"}) {
    if (absl::StrContains(difference, setting)) return true;
  }
  return false;
}

std::function<absl::Status()> JetStreamCheck(
    std::shared_ptr<Connection> nats, std::shared_ptr<JetStream> js, JetStreamSettings settings,
    absl::Duration redeclare_every, std::shared_ptr<StreamSafety> safety, bool create_consumers) {
  struct State {
    absl::Mutex mu;
    absl::Time next ABSL_GUARDED_BY(mu) = absl::InfinitePast();
    std::vector<std::string> logged ABSL_GUARDED_BY(mu);
    absl::Status verdict ABSL_GUARDED_BY(mu);
  };
  auto state = std::make_shared<State>();
  return [nats, js, settings, state, redeclare_every, safety, create_consumers]() -> absl::Status {
    RETURN_IF_ERROR(nats->Ping());
    absl::MutexLock lock(&state->mu);
    if (absl::Now() < state->next) return state->verdict;
    // Declared again now and then: a stream or consumer deleted meanwhile (by an operator, or
    // lost by a cluster) is created again without restarting every service.
    ASSIGN_OR_RETURN(std::vector<std::string> differences,
                     DeclareStreams(*js, settings, create_consumers));
    state->next = absl::Now() + redeclare_every;
    if (differences != state->logged) {
      for (const std::string& d : differences) {
        base::LogWarning(
            "JetStream configured otherwise than this service's settings; left as it is")
            .With("difference", d);
      }
      state->logged = differences;
    }
    std::vector<std::string> unsafe;
    for (const std::string& d : differences) {
      if (BreaksGuarantees(d)) unsafe.push_back(d);
    }
    state->verdict =
        unsafe.empty()
            ? absl::OkStatus()
            : absl::FailedPreconditionError(absl::StrCat(
                  "JetStream settings under which acknowledged batches can be lost: ",
                  absl::StrJoin(unsafe, "; "),
                  " (see services/ingestion/README.md: recreate the stream or consumer)"));
    if (safety != nullptr) safety->Set(state->verdict);
    return state->verdict;
  };
}

}  // namespace granary::bus
