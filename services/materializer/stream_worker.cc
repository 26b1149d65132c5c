#include "services/materializer/stream_worker.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "granary/events/v1/events.pb.h"

#include "libs/base/log.h"
#include "libs/base/proto_time.h"
#include "libs/bus/streams.h"
#include "libs/trace/span.h"
#include "libs/trace/trace_context.h"

namespace granary::materializer {

namespace {

constexpr size_t kMaxReason = 512;

}  // namespace

bool IsPermanent(const absl::Status& status) {
  switch (status.code()) {
    case absl::StatusCode::kFailedPrecondition:
    case absl::StatusCode::kInvalidArgument:
    case absl::StatusCode::kDataLoss:
      return true;
    default:
      return false;
  }
}

void MessageHandler::HandleAll(absl::Span<bus::Message* const> messages,
                               const KeepAlive& keep_alive, SettleFn settle) {
  absl::Time kept = keep_alive.clock->Now();
  for (size_t i = 0; i < messages.size(); ++i) {
    keep_alive.IfDue(messages.subspan(i), &kept);
    settle(i, Handle(*messages[i]));
  }
}

void MessageHandler::KeepAlive::IfDue(absl::Span<bus::Message* const> rest,
                                      absl::Time* kept) const {
  const absl::Time now = clock->Now();
  if (now - *kept < every) return;
  for (bus::Message* message : rest) (void)message->InProgress();
  *kept = now;
}

StreamWorker::StreamWorker(StreamWorkerOptions options,
                           std::shared_ptr<bus::DurableConsumers> consumers,
                           std::shared_ptr<bus::AckedPublisher> dead_letters,
                           std::shared_ptr<MessageHandler> handler,
                           std::shared_ptr<WriterMetrics> metrics, const base::Clock* clock)
    : options_(std::move(options)),
      consumers_(std::move(consumers)),
      dead_letters_(std::move(dead_letters)),
      handler_(std::move(handler)),
      metrics_(std::move(metrics)),
      clock_(clock) {}

StreamWorker::~StreamWorker() { Stop(); }

void StreamWorker::Start() {
  for (int i = 0; i < options_.threads; ++i) threads_.emplace_back([this] { Loop(); });
}

void StreamWorker::Stop() {
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
  }
  for (std::thread& t : threads_) t.join();
  threads_.clear();
}

bool StreamWorker::WaitStopping(absl::Duration d) {
  absl::MutexLock lock(&mu_);
  mu_.AwaitWithTimeout(absl::Condition(&stopping_), d);
  return stopping_;
}

absl::Duration StreamWorker::Backoff(uint64_t deliveries) const {
  absl::Duration d = options_.min_backoff;
  for (uint64_t i = 1; i < deliveries && d < options_.max_backoff; ++i) d *= 2;
  return std::min(d, options_.max_backoff);
}

void StreamWorker::Succeeded(uint64_t sequence) {
  absl::MutexLock lock(&mu_);
  failing_since_ = absl::InfiniteFuture();
  failing_messages_.erase(sequence);
}

void StreamWorker::Failed(const absl::Status& status) {
  absl::MutexLock lock(&mu_);
  failing_since_ = std::min(failing_since_, clock_->Now());
  last_error_ = status;
}

void StreamWorker::MessageFailed(uint64_t sequence) {
  absl::MutexLock lock(&mu_);
  const absl::Time now = clock_->Now();
  failing_messages_.try_emplace(sequence, FailingMessage{now, now}).first->second.last = now;
}

absl::Duration StreamWorker::oldest_failing() const {
  absl::MutexLock lock(&mu_);
  const absl::Time now = clock_->Now();
  absl::Duration oldest = absl::ZeroDuration();
  for (auto it = failing_messages_.begin(); it != failing_messages_.end();) {
    // Not delivered here again for longer than a redelivery takes: another replica has it
    // (and reports it), or it was settled there.
    if (now - it->second.last > options_.max_backoff + options_.ack_wait) {
      failing_messages_.erase(it++);
      continue;
    }
    oldest = std::max(oldest, now - it->second.first);
    ++it;
  }
  return oldest;
}

void StreamWorker::SourceFailed(const absl::Status& status) {
  absl::MutexLock lock(&mu_);
  source_failing_since_ = std::min(source_failing_since_, clock_->Now());
  last_error_ = status;
}

void StreamWorker::SourceAnswered() {
  absl::MutexLock lock(&mu_);
  source_failing_since_ = absl::InfiniteFuture();
}

absl::Duration StreamWorker::stalled_for() const {
  absl::MutexLock lock(&mu_);
  const absl::Time since = std::min(failing_since_, source_failing_since_);
  if (since == absl::InfiniteFuture()) return absl::ZeroDuration();
  absl::Duration failing = clock_->Now() - since;
  return failing >= options_.stall_after ? failing : absl::ZeroDuration();
}

absl::Status StreamWorker::Health() const {
  absl::Duration stalled = stalled_for();
  if (stalled == absl::ZeroDuration()) return absl::OkStatus();
  absl::MutexLock lock(&mu_);
  return absl::UnavailableError(
      absl::StrCat(options_.durable, " has written nothing for ",
                   absl::FormatDuration(absl::Trunc(stalled, absl::Seconds(1))),
                   " while failing: ", last_error_.message()));
}

void StreamWorker::Loop() {
  std::unique_ptr<bus::MessageSource> source;
  absl::Status last_error;
  while (!WaitStopping(absl::ZeroDuration())) {
    if (source == nullptr) {
      absl::StatusOr<std::unique_ptr<bus::MessageSource>> bound =
          consumers_->Bind(options_.stream, options_.durable);
      if (!bound.ok()) {
        // NATS away, or the consumer not declared yet (the service's NATS check declares it).
        // Not writing for that long is stalled like any other failure.
        SourceFailed(bound.status());
        if (bound.status() != last_error) {
          base::LogWarning("cannot consume yet; retrying")
              .With("consumer", options_.durable)
              .With("error", bound.status());
          last_error = bound.status();
        }
        WaitStopping(options_.min_backoff * 5);
        continue;
      }
      source = std::move(*bound);
      last_error = absl::OkStatus();
    }
    absl::StatusOr<std::vector<std::unique_ptr<bus::Message>>> got =
        source->Fetch(options_.fetch_batch, options_.fetch_wait);
    if (!got.ok()) {
      // NATS away: the source resumes after the client reconnects. Anything else (the
      // consumer was deleted, say): bind again.
      SourceFailed(got.status());
      if (!absl::IsUnavailable(got.status())) source.reset();
      WaitStopping(options_.min_backoff);
      continue;
    }
    SourceAnswered();
    in_hand_ += static_cast<int64_t>(got->size());
    std::vector<bus::Message*> messages;
    messages.reserve(got->size());
    for (std::unique_ptr<bus::Message>& message : *got) messages.push_back(message.get());
    std::vector<bool> settled(messages.size(), false);
    std::vector<std::unique_ptr<trace::Span>> spans = StartSpans(messages);
    auto settle = [&](size_t i, Handled handled) {
      if (i >= messages.size() || settled[i]) return;
      settled[i] = true;
      if (spans[i] != nullptr && !handled.status.ok()) {
        spans[i]->SetError(handled.status.ToString());
      }
      Settle(*messages[i], std::move(handled));
      spans[i].reset();
      --in_hand_;
    };
    handler_->HandleAll(messages, {.every = options_.ack_wait / 3, .clock = clock_}, settle);
    // A handler that left one unanswered must not lose it: it is retried.
    for (size_t i = 0; i < messages.size(); ++i) {
      if (!settled[i]) settle(i, Handled{absl::InternalError("the handler gave no answer")});
    }
  }
}

std::vector<std::unique_ptr<trace::Span>> StreamWorker::StartSpans(
    const std::vector<bus::Message*>& messages) const {
  std::vector<std::unique_ptr<trace::Span>> spans(messages.size());
  if (options_.tracer == nullptr) return spans;
  for (size_t i = 0; i < messages.size(); ++i) {
    // Only messages that belong to a trace: the rest (tasks of a job) would each start one.
    std::optional<trace::TraceContext> parent = trace::ParseTraceparent(messages[i]->traceparent());
    if (!parent) continue;
    spans[i] =
        std::make_unique<trace::Span>(options_.tracer, "", trace::SpanKind::kConsumer, parent);
    if (!spans[i]->recording()) continue;
    spans[i]->SetName(absl::StrCat("process ", options_.durable));
    spans[i]->SetAttribute("messaging.system", std::string("nats"));
    spans[i]->SetAttribute("messaging.destination.name", std::string(messages[i]->subject()));
    spans[i]->SetAttribute("messaging.consumer.group.name", options_.durable);
    spans[i]->SetAttribute("messaging.message.id", std::string(messages[i]->message_id()));
    spans[i]->SetAttribute("messaging.nats.deliveries",
                           static_cast<int64_t>(messages[i]->deliveries()));
  }
  return spans;
}

void StreamWorker::Settle(bus::Message& message, Handled handled) {
  absl::Status status = handled.status;
  if (status.ok() && handled.rejected.has_value()) {
    // The rest is written: only the rejected part must not be lost before the ack.
    status = DeadLetter(message, handled.rejected->payload, handled.rejected->reason,
                        handled.rejected->part);
    if (status.ok()) {
      metrics_->RecordBatch(options_.durable, BatchOutcome::kPartlyDeadLettered);
      base::LogError("part of a message dead-lettered")
          .With("consumer", options_.durable)
          .With("trace_id", trace::TraceIdOf(message.traceparent()))
          .With("subject", message.subject())
          .With("sequence", message.stream_sequence())
          .With("reason", handled.rejected->reason);
    }
  }
  if (status.ok()) {
    Succeeded(message.stream_sequence());
    if (!handled.rejected.has_value()) {
      metrics_->RecordBatch(options_.durable,
                            handled.skipped ? BatchOutcome::kSkipped : BatchOutcome::kWritten);
    }
    if (absl::Status s = message.Ack(); !s.ok()) {
      // Delivered again after ack_wait; the handler is idempotent.
      base::LogWarning("ack failed")
          .With("consumer", options_.durable)
          .With("trace_id", trace::TraceIdOf(message.traceparent()))
          .With("error", s);
    }
    return;
  }
  if (IsPermanent(status) &&
      message.deliveries() >= static_cast<uint64_t>(options_.max_deliveries)) {
    absl::Status dead =
        DeadLetter(message, std::string(message.data()), std::string(status.message()), "");
    if (dead.ok()) {
      // A message settled for good is progress: the worker is not stuck on it.
      Succeeded(message.stream_sequence());
      metrics_->RecordBatch(options_.durable, BatchOutcome::kDeadLettered);
      base::LogError("message dead-lettered")
          .With("consumer", options_.durable)
          .With("trace_id", trace::TraceIdOf(message.traceparent()))
          .With("subject", message.subject())
          .With("sequence", message.stream_sequence())
          .With("reason", status);
      (void)message.Term();  // if lost, it comes back and is dead-lettered again (deduplicated)
      return;
    }
    // The dead letter itself could not be stored: keep the message, and count it as the
    // failure it is (whatever its code), so that a worker stuck on it shows as stalled.
    Failed(dead);
    status = dead;
  } else if (!IsPermanent(status)) {
    Failed(status);
  }
  MessageFailed(message.stream_sequence());
  metrics_->RecordBatch(options_.durable, BatchOutcome::kRetried);
  base::LogWarning("message not processed; it will be delivered again")
      .With("consumer", options_.durable)
      .With("trace_id", trace::TraceIdOf(message.traceparent()))
      .With("subject", message.subject())
      .With("deliveries", message.deliveries())
      .With("error", status);
  (void)message.Nak(Backoff(message.deliveries()));
}

absl::Status StreamWorker::DeadLetter(const bus::Message& message, const std::string& payload,
                                      const std::string& reason, const std::string& part) {
  events::v1::DeadLetter letter;
  letter.set_subject(std::string(message.subject()));
  letter.set_payload(payload);
  letter.set_reason(reason.size() > kMaxReason ? reason.substr(0, kMaxReason) + "..." : reason);
  letter.set_deliveries(message.deliveries());
  letter.set_consumer(options_.durable);
  *letter.mutable_time() = base::ToProtoTime(clock_->Now());
  letter.set_stream_sequence(message.stream_sequence());
  letter.set_message_id(std::string(message.message_id()));
  letter.set_partial(!part.empty());
  const std::string subject = absl::StrCat("granary.deadletter.", options_.durable);
  // Named after the message's own id (unique per project, batch and view) where it has one:
  // stream sequences start again when a stream is recreated, and a letter deduplicated
  // against an older one of the same sequence would be lost once the original is terminated.
  std::string id = message.message_id().empty()
                       ? absl::StrCat(options_.durable, "/seq/", message.stream_sequence())
                       : absl::StrCat(options_.durable, "/", message.message_id());
  if (!part.empty()) absl::StrAppend(&id, "/", part);
  // Never without its payload: the original goes once it is terminated. Ingestion leaves
  // room in every message for what a letter adds (a reason of up to kMaxReason bytes).
  // The dead letter stays in the batch's trace.
  absl::Status sent =
      dead_letters_->Publish(subject, letter.SerializeAsString(), id, message.traceparent())
          .status();
  return sent;
}

}  // namespace granary::materializer
