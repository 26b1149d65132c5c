// Applies pushed batches to the online store: one guarded write per batch (a row is written
// only if its event time is newer than the stored one, atomically in Redis), so replicas,
// redeliveries and out-of-order pushes can never move a value backwards. A batch for a view
// the registry no longer has (and did not just create) fails for good: it is dead-lettered.
//
//   OnlineWriter writer(store, lookup, metrics);
//   RETURN_IF_ERROR(writer.Write(batch));
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
#include "services/materializer/push_consumer.h"
#include "services/materializer/writer_metrics.h"

namespace granary::materializer {

// The catalog of a project (NOT_FOUND: no such project; UNAVAILABLE: not loaded yet).
using CatalogLookup = std::function<absl::StatusOr<std::shared_ptr<const registry_client::Catalog>>(
    const std::string& project)>;

// The catalog of the batch's project, once checked that the batch still fits it: the view
// exists and has the features. FAILED_PRECONDITION when not, UNAVAILABLE when the catalog held
// may just be older than the batch.
absl::StatusOr<std::shared_ptr<const registry_client::Catalog>> CatalogFor(
    const events::v1::PushBatch& batch, const CatalogLookup& lookup);

class OnlineWriter : public BatchSink {
 public:
  OnlineWriter(std::shared_ptr<onlinestore::OnlineStore> store, CatalogLookup lookup,
               std::shared_ptr<WriterMetrics> metrics, absl::Duration write_timeout);

  bool Wants(const events::v1::PushBatch& batch) const override { return batch.online(); }
  absl::Status Write(const events::v1::PushBatch& batch) override;

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
