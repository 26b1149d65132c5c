// Appends pushed rows to the push source's batch source table in PostgreSQL, with COPY, exactly
// once per message: the message id ("<batch_id>/<view>") is recorded in
// granary_ingest.offline_batches in the same transaction as the rows, so a redelivered batch
// (a worker killed after the commit, before its ack) finds its id and writes nothing.
// Columns: the join keys, the source's timestamp column, its created timestamp column (the
// row's created time, else when ingestion received it), and the features, renamed through the
// source's field mapping.
//
//   OfflineWriter writer(pool, lookup);
//   RETURN_IF_ERROR(writer.Write(batch));
#ifndef GRANARY_SERVICES_MATERIALIZER_OFFLINE_WRITER_H_
#define GRANARY_SERVICES_MATERIALIZER_OFFLINE_WRITER_H_

#include <atomic>
#include <memory>

#include "libs/pg/pool.h"
#include "services/materializer/online_writer.h"
#include "services/materializer/push_consumer.h"
#include "services/materializer/writer_metrics.h"

namespace granary::materializer {

class OfflineWriter : public BatchSink {
 public:
  OfflineWriter(std::shared_ptr<pg::Pool> pool, CatalogLookup lookup,
                std::shared_ptr<WriterMetrics> metrics);

  // UNAVAILABLE while PostgreSQL is down; FAILED_PRECONDITION when the batch source is not a
  // table or the table refuses the rows (a missing table or column, a type that does not fit).
  bool Wants(const events::v1::PushBatch& batch) const override { return batch.offline(); }
  absl::Status Write(const events::v1::PushBatch& batch) override;

 private:
  const std::shared_ptr<pg::Pool> pool_;
  const CatalogLookup lookup_;
  const std::shared_ptr<WriterMetrics> metrics_;
  std::atomic<bool> migrated_{false};
};

}  // namespace granary::materializer

#endif  // GRANARY_SERVICES_MATERIALIZER_OFFLINE_WRITER_H_
