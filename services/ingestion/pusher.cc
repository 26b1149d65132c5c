#include "services/ingestion/pusher.h"

#include <algorithm>

#include "absl/random/random.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/synchronization/mutex.h"

#include "libs/base/status_macros.h"
#include "services/ingestion/push_batches.h"

namespace granary::ingestion {
namespace {

size_t RowsOf(const v1::PushRequest& request) {
  return request.columns().empty() ? 0 : request.columns().begin()->second.val_size();
}

std::string NewBatchId() {
  static thread_local absl::BitGen gen;
  return absl::StrFormat("%016x%016x", absl::Uniform<uint64_t>(gen), absl::Uniform<uint64_t>(gen));
}

// Gathers the acks of one batch's messages; the last one answers.
struct PendingPush {
  Pusher::Done done;
  v1::PushResponse response;
  absl::Time received;
  size_t rows = 0;
  absl::Mutex mu;
  size_t left ABSL_GUARDED_BY(mu) = 0;
  bool all_duplicates ABSL_GUARDED_BY(mu) = true;
  absl::Status error ABSL_GUARDED_BY(mu);
};

}  // namespace

Pusher::Pusher(PusherOptions options, CatalogLookup lookup,
               std::shared_ptr<bus::AckedPublisher> publisher, const base::Clock* clock,
               std::shared_ptr<IngestionMetrics> metrics)
    : options_(std::move(options)),
      lookup_(std::move(lookup)),
      publisher_(std::move(publisher)),
      clock_(clock),
      metrics_(std::move(metrics)) {}

absl::StatusOr<std::vector<events::v1::PushBatch>> Pusher::Prepare(const v1::PushRequest& request,
                                                                   const std::string& batch_id) {
  const std::string& project =
      request.project().empty() ? options_.default_project : request.project();
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
  return BuildPushBatches(
      *route, request,
      {.batch_id = batch_id, .received = clock_->Now(), .max_rows = options_.max_batch_rows});
}

void Pusher::Push(const v1::PushRequest& request, Done done) {
  const absl::Time received = clock_->Now();
  const size_t rows = RowsOf(request);
  std::string batch_id = request.batch_id().empty() ? NewBatchId() : request.batch_id();
  absl::StatusOr<std::vector<events::v1::PushBatch>> batches = Prepare(request, batch_id);
  if (!batches.ok()) {
    metrics_->RecordFailed(rows, batches.status());
    done(batches.status());
    return;
  }
  auto pending = std::make_shared<PendingPush>();
  pending->done = std::move(done);
  pending->received = received;
  pending->rows = rows;
  pending->response.set_batch_id(batch_id);
  pending->response.set_rows(static_cast<int64_t>(rows));
  for (const auto& b : *batches) pending->response.add_feature_views(b.feature_view());
  {
    absl::MutexLock lock(&pending->mu);
    pending->left = batches->size();
  }
  for (const events::v1::PushBatch& batch : *batches) {
    publisher_->PublishAsync(
        PushSubject(batch), batch.SerializeAsString(), PushMessageId(batch),
        [pending, metrics = metrics_, clock = clock_](absl::StatusOr<bus::PublishAck> ack) {
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
            pending->done(
                absl::Status(error.code(), absl::StrCat(error.message(), " (retry with batch_id ",
                                                        pending->response.batch_id(), ")")));
            return;
          }
          pending->response.set_duplicate(duplicate);
          metrics->RecordStored(pending->rows, duplicate, clock->Now() - pending->received);
          pending->done(std::move(pending->response));
        });
  }
}

}  // namespace granary::ingestion
