#include "services/ingestion/pusher.h"

#include <algorithm>
#include <set>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"

#include "libs/base/retry_after.h"
#include "libs/base/status_macros.h"
#include "services/ingestion/batch_id.h"
#include "services/ingestion/push_batches.h"

namespace granary::ingestion {
namespace {

size_t RowsOf(const v1::PushRequest& request) {
  return request.columns().empty() ? 0 : request.columns().begin()->second.val_size();
}

// Room left in a message besides the payload, its subject and (twice) its message id: NATS'
// header block (with the 55-byte traceparent), and what a dead letter adds around the batch (its
// consumer, a reason of up to 515 bytes, counters, the framing), so that any batch accepted can
// also be kept as a dead letter, which carries the subject and id again and is published under an
// id made from them.
constexpr int64_t kHeaderAllowance = 1024;

// Gathers the acks of one batch's messages; the last one answers.
struct PendingPush {
  Pusher::Done done;
  v1::PushResponse response;
  absl::Time received;
  size_t rows = 0;
  // The push's share of the in-flight budget, until it is answered.
  InFlightBudget::Lease lease;
  absl::Mutex mu;
  size_t left ABSL_GUARDED_BY(mu) = 0;
  bool all_duplicates ABSL_GUARDED_BY(mu) = true;
  absl::Status error ABSL_GUARDED_BY(mu);
};

}  // namespace

Pusher::Pusher(PusherOptions options, CatalogLookup lookup,
               std::shared_ptr<bus::AckedPublisher> publisher,
               std::shared_ptr<InFlightBudget> budget, const base::Clock* clock,
               std::shared_ptr<IngestionMetrics> metrics)
    : options_(std::move(options)),
      lookup_(std::move(lookup)),
      publisher_(std::move(publisher)),
      budget_(std::move(budget)),
      clock_(clock),
      metrics_(std::move(metrics)) {}

absl::StatusOr<std::vector<events::v1::PushBatch>> Pusher::Prepare(const v1::PushRequest& request,
                                                                   const std::string& project,
                                                                   const std::string& batch_id) {
  if (std::find(options_.projects.begin(), options_.projects.end(), project) ==
      options_.projects.end()) {
    return absl::NotFoundError(
        absl::StrCat("project \"", project, "\" is not served by this ingestion service"));
  }
  if (request.push_source_name().empty()) {
    return absl::InvalidArgumentError("push_source_name: required");
  }
  if (batch_id.size() > 200) {
    return absl::InvalidArgumentError("batch_id: longer than 200 characters");
  }
  // It travels as a message header: nothing that could end or split one.
  for (char c : batch_id) {
    if (!absl::ascii_isalnum(c) && c != '-' && c != '_' && c != '.' && c != ':') {
      return absl::InvalidArgumentError("batch_id: only letters, digits and - _ . : are allowed");
    }
  }
  ASSIGN_OR_RETURN(std::shared_ptr<const registry_client::Catalog> catalog, lookup_(project));
  ASSIGN_OR_RETURN(std::shared_ptr<const PushRoute> route,
                   routes_.Get(*catalog, request.push_source_name()));
  return BuildPushBatches(*route, request,
                          {.batch_id = batch_id,
                           .received = clock_->Now(),
                           .max_rows = options_.max_batch_rows,
                           .max_future_skew = options_.max_future_skew});
}

absl::StatusOr<std::vector<std::string>> Pusher::Serialize(
    const std::vector<events::v1::PushBatch>& batches) {
  const int64_t max_payload = publisher_->max_payload();
  if (max_payload <= 0) return absl::UnavailableError("nats: not connected");
  std::vector<std::string> out;
  out.reserve(batches.size());
  for (const events::v1::PushBatch& batch : batches) {
    out.push_back(batch.SerializeAsString());
    const int64_t size = static_cast<int64_t>(out.back().size() + PushSubject(batch).size() +
                                              2 * PushMessageId(batch).size());
    const int64_t limit = max_payload - kHeaderAllowance;
    if (size > limit) {
      const int64_t fits = std::max<int64_t>(1, batch.rows_size() * limit / size);
      return absl::InvalidArgumentError(absl::StrCat(
          "columns: the batch is ", size, " bytes for feature view \"", batch.feature_view(),
          "\", more than the ", limit, " one message may carry (NATS max_payload ", max_payload,
          " bytes); nothing was stored: send at most about ", fits, " of these rows per batch"));
    }
  }
  return out;
}

void Pusher::Push(const v1::PushRequest& request, Done done, absl::string_view traceparent) {
  const absl::Time received = clock_->Now();
  const size_t rows = RowsOf(request);
  auto fail = [&](const absl::Status& status) {
    metrics_->RecordFailed(rows, status);
    done(status);
  };
  if (options_.streams_safe) {
    if (absl::Status safe = options_.streams_safe(); !safe.ok()) {
      return fail(absl::UnavailableError(absl::StrCat("not accepting pushes: ", safe.message())));
    }
  }
  absl::StatusOr<InFlightBudget::Lease> lease =
      budget_->Acquire(static_cast<int64_t>(request.ByteSizeLong()) * kInFlightBytesPerRequestByte);
  if (!lease.ok()) return fail(lease.status());
  const std::string project =
      request.project().empty() ? options_.default_project : request.project();
  std::string batch_id =
      request.batch_id().empty() ? ContentBatchId(project, request) : request.batch_id();
  absl::StatusOr<std::vector<events::v1::PushBatch>> batches = Prepare(request, project, batch_id);
  if (!batches.ok()) return fail(batches.status());
  absl::StatusOr<std::vector<std::string>> messages = Serialize(*batches);
  if (!messages.ok()) return fail(messages.status());

  auto pending = std::make_shared<PendingPush>();
  pending->done = std::move(done);
  pending->received = received;
  pending->rows = rows;
  pending->lease = std::move(*lease);
  pending->response.set_batch_id(batch_id);
  pending->response.set_rows(static_cast<int64_t>(rows));
  // The views the push feeds, each once (the whole of a push goes offline in one message).
  std::set<std::string> routed;
  for (const auto& b : *batches) {
    if (!b.whole_push()) routed.insert(b.feature_view());
    routed.insert(b.views().begin(), b.views().end());
  }
  for (const std::string& view : routed) pending->response.add_feature_views(view);
  {
    absl::MutexLock lock(&pending->mu);
    pending->left = batches->size();
  }
  for (size_t i = 0; i < batches->size(); ++i) {
    const events::v1::PushBatch& batch = (*batches)[i];
    publisher_->PublishAsync(
        PushSubject(batch), (*messages)[i], PushMessageId(batch), traceparent,
        [pending, metrics = metrics_, clock = clock_,
         full_retry = options_.stream_full_retry_after](absl::StatusOr<bus::PublishAck> ack) {
          bool last = false;
          absl::Status error;
          bool duplicate = false;
          {
            absl::MutexLock lock(&pending->mu);
            if (!ack.ok() && pending->error.ok()) pending->error = ack.status();
            if (!ack.ok() || !ack->duplicate) pending->all_duplicates = false;
            last = --pending->left == 0;
            error = pending->error;
            duplicate = pending->all_duplicates;
          }
          if (!last) return;
          if (!error.ok()) {
            metrics->RecordFailed(pending->rows, error);
            // Some views' messages may be stored: a retry must reuse the id to store them once.
            absl::Status answer(error.code(),
                                absl::StrCat(error.message(), " (retry with batch_id ",
                                             pending->response.batch_id(), ")"));
            if (absl::IsResourceExhausted(error)) answer = base::WithRetryAfter(answer, full_retry);
            pending->done(answer);
            return;
          }
          pending->response.set_duplicate(duplicate);
          metrics->RecordStored(pending->rows, duplicate, clock->Now() - pending->received);
          pending->done(std::move(pending->response));
        });
  }
}

}  // namespace granary::ingestion
