#include "services/materializer/online_writer.h"

#include <algorithm>

#include "absl/strings/str_cat.h"

#include "libs/base/proto_time.h"
#include "libs/base/status_macros.h"
#include "libs/keys/entity_key.h"
#include "libs/keys/hash_field.h"

namespace granary::materializer {

absl::StatusOr<BatchView> CatalogFor(const events::v1::PushBatch& batch,
                                     const CatalogLookup& lookup) {
  absl::StatusOr<std::shared_ptr<const registry_client::Catalog>> catalog = lookup(batch.project());
  if (absl::IsNotFound(catalog.status())) {
    return absl::FailedPreconditionError(
        absl::StrCat("project ", batch.project(), " is no longer in the registry"));
  }
  RETURN_IF_ERROR(catalog.status());
  // Versions only grow, also across a project deleted and created again: a catalog older
  // than the batch's may miss what the batch was checked against.
  if ((*catalog)->version() < batch.registry_version()) {
    return absl::UnavailableError(absl::StrCat("catalog of ", batch.project(), " at version ",
                                               (*catalog)->version(), ", the batch was checked "
                                               "against version ", batch.registry_version()));
  }
  const auto* view = (*catalog)->FindFeatureView(batch.feature_view());
  if (view == nullptr) {
    return absl::FailedPreconditionError(absl::StrCat(
        "feature view ", batch.feature_view(), " is no longer in project ", batch.project()));
  }
  if (batch.view_version() != 0 && view->meta().created_version() != batch.view_version()) {
    return absl::FailedPreconditionError(absl::StrCat(
        "feature view ", batch.feature_view(), " was deleted and created again (at version ",
        view->meta().created_version(), ") after this batch was accepted for the view created "
        "at version ", batch.view_version()));
  }
  for (const events::v1::PushRow& row : batch.rows()) {
    if (row.join_values_size() != batch.join_keys_size() ||
        row.features_size() != batch.features_size()) {
      return absl::DataLossError("push batch rows do not match its columns");
    }
  }
  BatchView out{*catalog, view, {}};
  for (int i = 0; i < batch.features_size(); ++i) {
    const std::string& feature = batch.features(i);
    bool found = false;
    for (const auto& field : view->schema()) found = found || field.name() == feature;
    // The whole of a push (offline only) also carries the other views' features.
    for (const std::string& other : batch.views()) {
      const auto* carried = batch.whole_push() ? (*catalog)->FindFeatureView(other) : nullptr;
      if (carried == nullptr) continue;
      for (const auto& field : carried->schema()) found = found || field.name() == feature;
    }
    if (found) out.features.push_back(i);
  }
  return out;
}

OnlineWriter::OnlineWriter(std::shared_ptr<onlinestore::OnlineStore> store, CatalogLookup lookup,
                           std::shared_ptr<WriterMetrics> metrics, absl::Duration write_timeout)
    : store_(std::move(store)),
      lookup_(std::move(lookup)),
      metrics_(std::move(metrics)),
      write_timeout_(write_timeout) {}

absl::StatusOr<SinkResult> OnlineWriter::Write(const events::v1::PushBatch& batch) {
  ASSIGN_OR_RETURN(BatchView target, CatalogFor(batch, lookup_));
  onlinestore::ViewWrite write;
  write.view = batch.feature_view();
  write.view_version = target.view->meta().created_version();
  for (int f : target.features) {
    write.feature_fields.push_back(keys::FeatureField(batch.feature_view(), batch.features(f)));
  }
  write.rows.reserve(batch.rows_size());
  absl::Time newest = absl::InfinitePast();
  // Every key of the batch starts the same: the (sorted) join key names, built once.
  std::vector<std::string> names(batch.join_keys().begin(), batch.join_keys().end());
  if (!std::is_sorted(names.begin(), names.end())) {
    return absl::DataLossError("push batch join keys are not sorted");
  }
  types::v1::Value dummy;
  if (names.empty()) {
    names.push_back(keys::kDummyJoinKey);
    dummy.set_string_val("");
  }
  const std::string prefix = keys::JoinKeysPrefix(names);
  const absl::Time received = base::FromProtoTime(batch.received_time());
  for (const events::v1::PushRow& row : batch.rows()) {
    std::string redis_key = prefix;
    if (batch.join_keys_size() == 0) RETURN_IF_ERROR(keys::AppendKeyValue(dummy, &redis_key));
    for (const types::v1::Value& v : row.join_values()) {
      absl::Status key = keys::AppendKeyValue(v, &redis_key);
      if (!key.ok()) return absl::DataLossError(key.message());
    }
    redis_key += batch.project();
    onlinestore::RowWrite& out = write.rows.emplace_back();
    out.key = std::move(redis_key);
    out.event_time = base::FromProtoTime(row.event_time());
    // Batches from before created times were always set: created when received.
    out.created_time =
        row.has_created_time() ? base::FromProtoTime(row.created_time()) : received;
    out.values.reserve(target.features.size());
    for (int f : target.features) out.values.push_back(row.features(f).SerializeAsString());
    newest = std::max(newest, out.event_time);
  }
  std::unique_ptr<onlinestore::OnlineStoreSession> session;
  {
    absl::MutexLock lock(&mu_);
    if (!idle_.empty()) {
      session = std::move(idle_.back());
      idle_.pop_back();
    }
  }
  if (session == nullptr) session = store_->NewSession();
  absl::StatusOr<onlinestore::WriteResult> written =
      session->WriteNewer(write, absl::Now() + write_timeout_);
  {
    absl::MutexLock lock(&mu_);
    idle_.push_back(std::move(session));  // a failed one reconnects on its next call
  }
  RETURN_IF_ERROR(written.status());
  metrics_->RecordRowsWritten("online-writer", written->written);
  metrics_->RecordOnline(batch.project(), batch.feature_view(), absl::Now() - received, newest);
  SinkResult result;
  for (size_t r : written->wrong_type_rows) result.rejected_rows.push_back(static_cast<int>(r));
  if (!result.rejected_rows.empty()) {
    result.reason = "their keys hold something other than a hash in Redis (WRONGTYPE)";
  }
  return result;
}

}  // namespace granary::materializer
