#include "services/materializer/online_writer.h"

#include <algorithm>

#include "absl/strings/str_cat.h"

#include "libs/base/proto_time.h"
#include "libs/base/status_macros.h"
#include "libs/keys/entity_key.h"
#include "libs/keys/hash_field.h"
#include "services/materializer/write_time_writes.h"

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
                                               (*catalog)->version(),
                                               ", the batch was checked "
                                               "against version ",
                                               batch.registry_version()));
  }
  const auto* view = (*catalog)->FindFeatureView(batch.feature_view());
  if (view == nullptr) {
    return absl::FailedPreconditionError(absl::StrCat(
        "feature view ", batch.feature_view(), " is no longer in project ", batch.project()));
  }
  if (batch.view_version() != 0 && view->meta().created_version() != batch.view_version()) {
    return absl::FailedPreconditionError(
        absl::StrCat("feature view ", batch.feature_view(),
                     " was deleted and created again (at version ", view->meta().created_version(),
                     ") after this batch was accepted for the view created "
                     "at version ",
                     batch.view_version()));
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

namespace {

// A batch's rows as they go to the store, and its view's header (`write` without rows).
struct BatchWrite {
  onlinestore::ViewWrite write;
  absl::Time newest = absl::InfinitePast();  // its newest event time
  // The catalog it was checked against, and the features its values are of (for the
  // write-time on-demand views it feeds).
  std::shared_ptr<const registry_client::Catalog> catalog;
  std::vector<std::string> features;
};

absl::StatusOr<BatchWrite> ToWrite(const events::v1::PushBatch& batch,
                                   const CatalogLookup& lookup) {
  ASSIGN_OR_RETURN(BatchView target, CatalogFor(batch, lookup));
  BatchWrite out;
  onlinestore::ViewWrite& write = out.write;
  write.view = batch.feature_view();
  write.view_version = target.view->meta().created_version();
  for (int f : target.features) {
    write.feature_fields.push_back(keys::FeatureField(batch.feature_view(), batch.features(f)));
    out.features.push_back(batch.features(f));
  }
  out.catalog = target.catalog;
  write.rows.reserve(batch.rows_size());
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
    onlinestore::RowWrite& row_out = write.rows.emplace_back();
    row_out.key = std::move(redis_key);
    row_out.event_time = base::FromProtoTime(row.event_time());
    // Batches from before created times were always set: created when received.
    row_out.created_time =
        row.has_created_time() ? base::FromProtoTime(row.created_time()) : received;
    row_out.values.reserve(target.features.size());
    for (int f : target.features) row_out.values.push_back(row.features(f).SerializeAsString());
    out.newest = std::max(out.newest, row_out.event_time);
  }
  return out;
}

bool SameHeader(const onlinestore::ViewWrite& a, const onlinestore::ViewWrite& b) {
  return a.view == b.view && a.view_version == b.view_version && a.key_ttl == b.key_ttl &&
         a.feature_fields == b.feature_fields;
}

}  // namespace

absl::StatusOr<SinkResult> OnlineWriter::Write(const events::v1::PushBatch& batch) {
  const events::v1::PushBatch* one[] = {&batch};
  return std::move(WriteAll(one)[0]);
}

std::vector<absl::StatusOr<SinkResult>> OnlineWriter::WriteAll(
    absl::Span<const events::v1::PushBatch* const> batches) {
  std::vector<absl::StatusOr<SinkResult>> results(batches.size(), SinkResult{});
  // Batches of the same view and columns (the usual case) merge into one write.
  struct Group {
    onlinestore::ViewWrite write;
    std::shared_ptr<const registry_client::Catalog> catalog;
    std::vector<std::string> features;
    struct Member {
      size_t batch;
      size_t first_row;  // where its rows start in write.rows
      absl::Time newest;
    };
    std::vector<Member> members;
  };
  std::vector<Group> groups;
  for (size_t b = 0; b < batches.size(); ++b) {
    absl::StatusOr<BatchWrite> one = ToWrite(*batches[b], lookup_);
    if (!one.ok()) {
      results[b] = one.status();
      continue;
    }
    Group* group = nullptr;
    for (Group& g : groups) {
      if (SameHeader(g.write, one->write)) group = &g;
    }
    if (group == nullptr) {
      group = &groups.emplace_back();
      group->write = std::move(one->write);
      group->catalog = std::move(one->catalog);
      group->features = std::move(one->features);
      group->members.push_back({b, 0, one->newest});
      continue;
    }
    group->members.push_back({b, group->write.rows.size(), one->newest});
    std::move(one->write.rows.begin(), one->write.rows.end(),
              std::back_inserter(group->write.rows));
  }
  if (groups.empty()) return results;
  std::unique_ptr<onlinestore::OnlineStoreSession> session;
  {
    absl::MutexLock lock(&mu_);
    if (!idle_.empty()) {
      session = std::move(idle_.back());
      idle_.pop_back();
    }
  }
  if (session == nullptr) session = store_->NewSession();
  // Redis in trouble (unreachable, timing out, out of memory): the groups after the first
  // that met it are not asked, so that a call takes one write timeout, not one per group.
  absl::Status trouble;
  for (const Group& group : groups) {
    // Each group its own write timeout.
    absl::StatusOr<onlinestore::WriteResult> written =
        trouble.ok() ? session->WriteNewer(group.write, absl::Now() + write_timeout_)
                     : absl::StatusOr<onlinestore::WriteResult>(trouble);
    // The write-time on-demand views it feeds, after it: a batch is settled only once both are
    // written (written again, its rows change nothing and its derived rows are completed).
    if (written.ok()) {
      absl::Status derived =
          WriteWriteTimeViews(*group.catalog, group.write, group.features, *session, write_timeout_,
                              *metrics_, "online-writer");
      if (!derived.ok()) written = derived;
    }
    if (!written.ok() && !IsPermanent(written.status())) trouble = written.status();
    const absl::Time done = absl::Now();
    for (size_t m = 0; m < group.members.size(); ++m) {
      const Group::Member& member = group.members[m];
      const events::v1::PushBatch& batch = *batches[member.batch];
      if (!written.ok()) {
        results[member.batch] = written.status();
        continue;
      }
      const size_t end =
          m + 1 < group.members.size() ? group.members[m + 1].first_row : group.write.rows.size();
      SinkResult& result = *results[member.batch];
      for (size_t r : written->wrong_type_rows) {
        if (r >= member.first_row && r < end) {
          result.rejected_rows.push_back(static_cast<int>(r - member.first_row));
        }
      }
      if (!result.rejected_rows.empty()) {
        result.reason = "their keys hold something other than a hash in Redis (WRONGTYPE)";
      }
      metrics_->RecordOnline(batch.project(), batch.feature_view(),
                             done - base::FromProtoTime(batch.received_time()), member.newest,
                             static_cast<int64_t>(end - member.first_row));
    }
    if (written.ok()) metrics_->RecordRowsWritten("online-writer", written->written);
  }
  {
    absl::MutexLock lock(&mu_);
    idle_.push_back(std::move(session));  // a failed one reconnects on its next call
  }
  return results;
}

}  // namespace granary::materializer
