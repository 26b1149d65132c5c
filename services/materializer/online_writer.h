// Applies pushed batches to the online store with guarded writes (a row is written only if
// newer than the stored one: its event time, then its created time; atomically per row in
// Redis), so replicas, redeliveries and out-of-order pushes can never move a value backwards.
// Batches of one view and the same columns given together (WriteAll) share one write.
// Each row is stamped with the view's incarnation: a batch meant for a view that was deleted
// (and maybe created again under the same name) is refused for good, and is dead-lettered.
// A row whose key holds something other than a hash is refused alone. The write-time on-demand
// views a batch's view feeds are computed from its rows and written after them, in the same
// call (libs/transforms/write_time.h).
//
//   OnlineWriter writer(store, lookup, metrics, absl::Seconds(5));
//   ASSIGN_OR_RETURN(SinkResult result, writer.Write(batch));
#ifndef GRANARY_SERVICES_MATERIALIZER_ONLINE_WRITER_H_
#define GRANARY_SERVICES_MATERIALIZER_ONLINE_WRITER_H_

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"

#include "libs/onlinestore/online_store.h"
#include "libs/registry_client/catalog.h"
#include "services/materializer/push_handler.h"
#include "services/materializer/writer_metrics.h"

namespace granary::materializer {

// The catalog of a project (NOT_FOUND: no such project; UNAVAILABLE: not loaded yet).
using CatalogLookup = std::function<absl::StatusOr<std::shared_ptr<const registry_client::Catalog>>(
    const std::string& project)>;

// The catalog of the batch's project and the batch's view in it, once checked that the batch
// still fits: UNAVAILABLE while the catalog held is older than the one the batch was checked
// against (it catches up); FAILED_PRECONDITION when the project or view no longer exists or
// the view was created again since the batch was accepted; DATA_LOSS when its rows do not
// match its columns. A feature removed from the view
// since then is left out (`features`), the rest is written: removing one feature must not
// turn every batch in flight into a dead letter that no replay could ever write.
struct BatchView {
  std::shared_ptr<const registry_client::Catalog> catalog;
  const registry::v1::FeatureView* view = nullptr;
  // Indexes into batch.features() of the features still in the view (or, for the whole of a
  // push, in one of the views it feeds), in order.
  std::vector<int> features;
};
absl::StatusOr<BatchView> CatalogFor(const events::v1::PushBatch& batch,
                                     const CatalogLookup& lookup);

class OnlineWriter : public BatchSink {
 public:
  OnlineWriter(std::shared_ptr<onlinestore::OnlineStore> store, CatalogLookup lookup,
               std::shared_ptr<WriterMetrics> metrics, absl::Duration write_timeout);

  const char* name() const override { return "online"; }
  bool Wants(const events::v1::PushBatch& batch) const override { return batch.online(); }
  absl::StatusOr<SinkResult> Write(const events::v1::PushBatch& batch) override;
  // Batches of one view and the same columns share one write: one round trip to Redis for
  // them all, each such group within its own write timeout.
  bool writes_together() const override { return true; }
  std::vector<absl::StatusOr<SinkResult>> WriteAll(
      absl::Span<const events::v1::PushBatch* const> batches) override;

 private:
  const std::shared_ptr<onlinestore::OnlineStore> store_;
  const CatalogLookup lookup_;
  const std::shared_ptr<WriterMetrics> metrics_;
  const absl::Duration write_timeout_;
  absl::Mutex mu_;
  // Sessions are one thread's at a time: each write borrows one.
  std::vector<std::unique_ptr<onlinestore::OnlineStoreSession>> idle_ ABSL_GUARDED_BY(mu_);
};

}  // namespace granary::materializer

#endif  // GRANARY_SERVICES_MATERIALIZER_ONLINE_WRITER_H_
