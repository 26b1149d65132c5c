// Appends pushed rows to the push source's batch source table in PostgreSQL, with COPY, exactly
// once per message: the message id ("<project>/<batch_id>/<view>") is recorded in
// granary_ingest.offline_batches in the same transaction as the rows, so a redelivered batch
// (a worker killed after the commit, before its ack) finds its id and writes nothing.
// Columns: the join keys, the source's timestamp column, its created timestamp column (the
// row's created time, else when ingestion received it), and the features, renamed through the
// source's field mapping.
//
// When the table refuses some rows for good (a value it cannot hold, a constraint: SQLSTATE
// classes 22 and 23), the batch is written again row by row, each in a savepoint, so that only
// those rows are refused (and dead-lettered) and every other row is stored. Anything else (the
// server away, a missing table or permission an operator can fix) is retried.
//
//   OfflineWriter writer(pool, lookup, metrics);
//   ASSIGN_OR_RETURN(SinkResult result, writer.Write(batch));
#ifndef GRANARY_SERVICES_MATERIALIZER_OFFLINE_WRITER_H_
#define GRANARY_SERVICES_MATERIALIZER_OFFLINE_WRITER_H_

#include <atomic>
#include <memory>

#include "libs/pg/pool.h"
#include "services/materializer/online_writer.h"
#include "services/materializer/push_handler.h"
#include "services/materializer/writer_metrics.h"

namespace granary::materializer {

class OfflineWriter : public BatchSink {
 public:
  OfflineWriter(std::shared_ptr<pg::Pool> pool, CatalogLookup lookup,
                std::shared_ptr<WriterMetrics> metrics);

  // Creates or upgrades its ledger's schema (granary_ingest); run when the service is built.
  absl::Status Migrate();

  const char* name() const override { return "offline"; }
  bool Wants(const events::v1::PushBatch& batch) const override { return batch.offline(); }
  // FAILED_PRECONDITION when the batch no longer fits the catalog or the push source has no
  // table; UNAVAILABLE for everything that may pass.
  absl::StatusOr<SinkResult> Write(const events::v1::PushBatch& batch) override;

 private:
  const std::shared_ptr<pg::Pool> pool_;
  const CatalogLookup lookup_;
  const std::shared_ptr<WriterMetrics> metrics_;
};

}  // namespace granary::materializer

#endif  // GRANARY_SERVICES_MATERIALIZER_OFFLINE_WRITER_H_
