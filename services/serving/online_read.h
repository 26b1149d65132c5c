// One GetOnlineFeatures read in flight: the AsyncRead that turns HMGET replies into Feast's
// column-major response as they arrive, written straight to bytes (ResponseBuilder). Every
// feature value starts NOT_FOUND; each reply then settles its values:
//
//   no "_ts:<view>" for the row             NOT_FOUND (the entity was never written)
//   "_created:<view>" of another incarnation NOT_FOUND (written for a view since deleted)
//   now - event time > the view's ttl       OUTSIDE_MAX_AGE, value omitted (ttl 0: no limit)
//   field absent                            NOT_FOUND
//   a stored null (or empty Value)          NULL_VALUE
//   otherwise                               PRESENT
//
// with event_timestamps from "_ts:<view>" (the epoch when not found). Bytes that are not a
// well-formed Value or Timestamp are NOT_FOUND too, and counted as corrupt.
//
//   auto read = std::make_unique<OnlineRead>(plan, now, deadline);
//   RETURN_IF_ERROR(read->Prepare(request.entities(), request.request_context(), max_rows));
//   read.release()->Start(store, done);  // deletes itself once done
#ifndef GRANARY_SERVICES_SERVING_ONLINE_READ_H_
#define GRANARY_SERVICES_SERVING_ONLINE_READ_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"

#include "libs/onlinestore/online_store.h"
#include "services/serving/compute_pool.h"
#include "services/serving/entity_keys.h"
#include "services/serving/read_plan.h"
#include "services/serving/response_builder.h"

namespace granary::serving {

class OnlineRead : public onlinestore::AsyncRead {
 public:
  // Called once, before the read deletes itself (from Done, or from a compute thread for reads
  // with on-demand features): the serialized GetOnlineFeaturesResponse, or why there is none.
  using Completion =
      std::function<void(absl::StatusOr<std::string> response, const ReadCounts& counts)>;

  // `caller_may_wait`: see AsyncRead::MayReadOnCaller.
  OnlineRead(std::shared_ptr<const ReadPlan> plan, absl::Time now, absl::Time deadline,
             bool caller_may_wait = true);

  // Checks the entity rows (and the request columns on-demand views read), builds the keys and
  // lays out the response.
  absl::Status Prepare(const EntityColumns& entities, const EntityColumns& request_context,
                       size_t max_rows);
  // Reads from `store`; from here on the read owns itself and deletes itself after `done`.
  // On-demand features are computed on `compute` when given, else on the thread that completes
  // the read.
  void Start(onlinestore::OnlineStore& store, Completion done,
             std::shared_ptr<ComputePool> compute = nullptr);

  absl::Span<const onlinestore::HashGet> gets() const override { return keys_.gets(); }
  absl::Time deadline() const override { return deadline_; }
  void OnField(size_t get, size_t field, const char* data, size_t size) override;
  // That entity's hash is not a hash: its features stay NOT_FOUND, counted as corrupt.
  void OnGetError(size_t get, absl::string_view reason) override;
  void Done(absl::Status status) override;
  bool MayReadOnCaller() const override { return caller_may_wait_; }

 private:
  // A view's row, from its timestamp field, while the row's features arrive.
  struct ViewRow {
    bool found = false;
    bool expired = false;
    ResponseBuilder::Bytes timestamp;
  };

  // Computes what is computed, answers, and deletes the read.
  void Finish(absl::Status status);
  void OnTimestamp(const PlannedView& view, ViewRow& row, const char* data, size_t size);
  void OnRowMeta(const PlannedView& view, ViewRow& row, const char* data, size_t size);

  const std::shared_ptr<const ReadPlan> plan_;
  const absl::Time now_;
  const absl::Time deadline_;
  const bool caller_may_wait_;
  Completion done_;
  std::shared_ptr<ComputePool> compute_;
  EntityKeys keys_;
  ResponseBuilder builder_;
  std::vector<ViewRow> view_rows_;  // of the get being read, by view index in its group
  size_t current_get_ = SIZE_MAX;
  size_t current_row_ = 0;
  const KeyGroup* current_group_ = nullptr;
  int64_t corrupt_ = 0;
  // The request columns on-demand views read (copied: the request may be gone by Done).
  std::vector<types::v1::RepeatedValue> request_columns_;
};

}  // namespace granary::serving

#endif  // GRANARY_SERVICES_SERVING_ONLINE_READ_H_
