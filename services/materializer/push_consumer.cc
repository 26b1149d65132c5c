#include "services/materializer/push_consumer.h"

#include <algorithm>

#include "absl/strings/str_cat.h"

#include "libs/base/log.h"
#include "libs/base/proto_time.h"
#include "libs/bus/streams.h"

namespace granary::materializer {

bool IsTransient(const absl::Status& status) {
  switch (status.code()) {
    case absl::StatusCode::kUnavailable:
    case absl::StatusCode::kDeadlineExceeded:
    case absl::StatusCode::kAborted:
    case absl::StatusCode::kResourceExhausted:
      return true;
    default:
      return false;
  }
}

PushConsumer::PushConsumer(PushConsumerOptions options, std::shared_ptr<bus::JetStream> js,
                           std::shared_ptr<BatchSink> sink, std::shared_ptr<WriterMetrics> metrics)
    : options_(std::move(options)),
      js_(std::move(js)),
      sink_(std::move(sink)),
      metrics_(std::move(metrics)) {}

PushConsumer::~PushConsumer() { Stop(); }

void PushConsumer::Start() {
  for (int i = 0; i < options_.threads; ++i) threads_.emplace_back([this] { Loop(); });
}

void PushConsumer::Stop() {
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
  }
  for (std::thread& t : threads_) t.join();
  threads_.clear();
}

bool PushConsumer::WaitStopping(absl::Duration d) {
  absl::MutexLock lock(&mu_);
  mu_.AwaitWithTimeout(absl::Condition(&stopping_), d);
  return stopping_;
}

absl::Duration PushConsumer::Backoff(uint64_t deliveries) const {
  absl::Duration d = options_.min_backoff;
  for (uint64_t i = 1; i < deliveries && d < options_.max_backoff; ++i) d *= 2;
  return std::min(d, options_.max_backoff);
}

void PushConsumer::Loop() {
  std::unique_ptr<bus::PullConsumer> consumer;
  absl::Status last_error;
  while (!WaitStopping(absl::ZeroDuration())) {
    if (consumer == nullptr) {
      absl::StatusOr<std::unique_ptr<bus::PullConsumer>> made =
          js_->Consume({.stream = bus::kPushStream,
                        .durable = options_.durable,
                        .subject = "granary.push.>",
                        .ack_wait = options_.ack_wait});
      if (!made.ok()) {
        if (made.status() != last_error) {
          base::LogWarning("cannot consume pushed batches yet; retrying")
              .With("consumer", options_.durable)
              .With("error", made.status());
          last_error = made.status();
        }
        WaitStopping(options_.max_backoff / 10);
        continue;
      }
      consumer = std::move(*made);
      last_error = absl::OkStatus();
    }
    absl::StatusOr<std::vector<bus::Delivery>> got =
        consumer->Fetch(options_.fetch_batch, options_.fetch_wait);
    if (!got.ok()) {
      // NATS away: the subscription resumes after the client reconnects. Anything else (the
      // consumer was deleted, say): subscribe again.
      if (!absl::IsUnavailable(got.status())) consumer.reset();
      WaitStopping(options_.min_backoff);
      continue;
    }
    const absl::Time fetched = absl::Now();
    for (bus::Delivery& delivery : *got) {
      // The last of a slow batch would otherwise pass ack_wait and go to another replica
      // while still in hand (harmless, the sinks are idempotent, but wasted work).
      if (absl::Now() - fetched > options_.ack_wait / 3) (void)delivery.InProgress();
      Handle(delivery);
    }
  }
}

void PushConsumer::Handle(bus::Delivery& delivery) {
  events::v1::PushBatch batch;
  absl::Status status;
  if (!batch.ParseFromArray(delivery.data().data(), static_cast<int>(delivery.data().size()))) {
    status = absl::DataLossError(
        absl::StrCat("undecodable push batch (", delivery.data().size(), " bytes)"));
  } else if (!sink_->Wants(batch)) {
    metrics_->RecordBatch(options_.durable, BatchOutcome::kSkipped);
    (void)delivery.Ack();  // if lost, it comes back and is skipped again
    return;
  } else {
    status = sink_->Write(batch);
  }
  if (status.ok()) {
    metrics_->RecordBatch(options_.durable, BatchOutcome::kWritten);
    if (absl::Status s = delivery.Ack(); !s.ok()) {
      // Delivered again after ack_wait; the sink is idempotent.
      base::LogWarning("ack failed").With("consumer", options_.durable).With("error", s);
    }
    return;
  }
  const bool give_up = !IsTransient(status) &&
                       delivery.deliveries() >= static_cast<uint64_t>(options_.max_deliveries);
  if (give_up) {
    absl::Status dead = DeadLetter(delivery, std::string(status.message()));
    if (dead.ok()) {
      metrics_->RecordBatch(options_.durable, BatchOutcome::kDeadLettered);
      base::LogError("batch dead-lettered")
          .With("consumer", options_.durable)
          .With("subject", delivery.subject())
          .With("sequence", delivery.stream_sequence())
          .With("reason", status);
      (void)delivery.Term();  // if lost, it comes back and is dead-lettered again (deduplicated)
      return;
    }
    status = dead;  // the dead letter itself could not be stored: keep the message
  }
  metrics_->RecordBatch(options_.durable, BatchOutcome::kRetried);
  base::LogWarning("batch not written; it will be delivered again")
      .With("consumer", options_.durable)
      .With("subject", delivery.subject())
      .With("deliveries", delivery.deliveries())
      .With("error", status);
  (void)delivery.Nak(Backoff(delivery.deliveries()));
}

absl::Status PushConsumer::DeadLetter(const bus::Delivery& delivery, const std::string& reason) {
  events::v1::DeadLetter letter;
  letter.set_subject(std::string(delivery.subject()));
  letter.set_payload(std::string(delivery.data()));
  letter.set_reason(reason);
  letter.set_deliveries(delivery.deliveries());
  letter.set_consumer(options_.durable);
  *letter.mutable_time() = base::ToProtoTime(absl::Now());
  letter.set_stream_sequence(delivery.stream_sequence());
  const std::string subject = absl::StrCat("granary.deadletter.", options_.durable);
  const std::string id = absl::StrCat(options_.durable, "/", delivery.stream_sequence());
  absl::Status sent = js_->Publish(subject, letter.SerializeAsString(), id).status();
  if (absl::IsInvalidArgument(sent)) {
    // Too large with its payload: the letter still goes, pointing at the stream sequence.
    letter.clear_payload();
    letter.set_reason(absl::StrCat(reason, " (payload left in ", bus::kPushStream, " at sequence ",
                                   delivery.stream_sequence(), ")"));
    sent = js_->Publish(subject, letter.SerializeAsString(), id).status();
  }
  return sent;
}

}  // namespace granary::materializer
