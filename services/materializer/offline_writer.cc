#include "services/materializer/offline_writer.h"

#include <optional>
#include <string>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "pqxx/pqxx"

#include "libs/base/proto_time.h"
#include "libs/base/status_macros.h"
#include "libs/offlinestore/copy_text.h"
#include "libs/offlinestore/copy_writer.h"
#include "libs/pg/errors.h"
#include "libs/pg/migrations.h"

namespace granary::materializer {
namespace {

using offlinestore::AppendCopyField;
using offlinestore::PgText;
using offlinestore::PgTimestamp;

const std::vector<pg::Migration>& Migrations() {
  static const auto* const kMigrations = new std::vector<pg::Migration>{
      {1, "offline batches",
       "CREATE TABLE granary_ingest.offline_batches ("
       "  message_id text PRIMARY KEY,"
       "  target text NOT NULL,"
       "  rows integer NOT NULL,"
       "  written_at timestamptz NOT NULL DEFAULT now())"},
      // The rows the table refused, kept with the batch: a redelivery (the dead letter of
      // those rows failed, or the worker died before storing it) gets them again instead of
      // an empty result, so they reach the dead letters and are never lost.
      {2, "rows refused by the table",
       "ALTER TABLE granary_ingest.offline_batches"
       "  ADD COLUMN rejected_rows text NOT NULL DEFAULT '',"
       "  ADD COLUMN rejected_reason text NOT NULL DEFAULT ''"},
  };
  return *kMigrations;
}

struct Target {
  std::string table;                 // quoted, possibly schema-qualified
  std::vector<std::string> columns;  // quoted, in row order
  bool created = false;              // whether the created timestamp column is written
  std::vector<int> features;         // indexes of the batch's features written (CatalogFor)
};

absl::StatusOr<Target> TargetOf(const events::v1::PushBatch& batch, const CatalogLookup& lookup,
                                pqxx::work& tx) {
  ASSIGN_OR_RETURN(BatchView checked, CatalogFor(batch, lookup));
  const registry_client::Catalog& catalog = *checked.catalog;
  const auto* push = catalog.FindDataSource(batch.push_source());
  const auto* source =
      push == nullptr ? nullptr : catalog.FindDataSource(push->push().batch_source());
  if (source == nullptr || !source->has_postgres() || source->postgres().table().empty()) {
    return absl::FailedPreconditionError(absl::StrCat(
        "push source ", batch.push_source(), " has no PostgreSQL table to append rows to"));
  }
  Target t;
  std::vector<std::string> parts = absl::StrSplit(source->postgres().table(), '.');
  for (const std::string& part : parts) {
    if (!t.table.empty()) t.table += ".";
    t.table += tx.quote_name(part);
  }
  // field_mapping maps a source column to the feature it holds.
  auto column_of = [&](const std::string& feature) {
    for (const auto& [column, name] : source->field_mapping()) {
      if (name == feature) return column;
    }
    return feature;
  };
  for (const std::string& k : batch.join_keys()) t.columns.push_back(tx.quote_name(column_of(k)));
  t.columns.push_back(tx.quote_name(source->timestamp_field()));
  if (!source->created_timestamp_column().empty()) {
    t.created = true;
    t.columns.push_back(tx.quote_name(source->created_timestamp_column()));
  }
  t.features = checked.features;
  for (int f : t.features) t.columns.push_back(tx.quote_name(column_of(batch.features(f))));
  return t;
}

// Rows the table refuses for good: a value it cannot hold (22xxx), a constraint (23xxx).
bool IsRowRefusal(const absl::Status& status) {
  const std::string state = pg::SqlState(status);
  return state.size() == 5 && (state.rfind("22", 0) == 0 || state.rfind("23", 0) == 0);
}

// Each row of the batch as a line of COPY's text format.
std::vector<std::string> CopyLines(const events::v1::PushBatch& batch, const Target& target) {
  std::vector<std::string> lines;
  lines.reserve(batch.rows_size());
  std::vector<std::optional<std::string>> texts;
  const std::string received = PgTimestamp(base::FromProtoTime(batch.received_time()));
  for (const events::v1::PushRow& row : batch.rows()) {  // shapes checked by CatalogFor
    texts.clear();
    for (const auto& v : row.join_values()) texts.push_back(PgText(v));
    texts.push_back(PgTimestamp(base::FromProtoTime(row.event_time())));
    if (target.created) {
      texts.push_back(row.has_created_time() ? PgTimestamp(base::FromProtoTime(row.created_time()))
                                             : received);
    }
    for (int f : target.features) texts.push_back(PgText(row.features(f)));
    std::string& line = lines.emplace_back();
    for (size_t i = 0; i < texts.size(); ++i) {
      if (i > 0) line += '\t';
      AppendCopyField(texts[i], &line);
    }
  }
  return lines;
}

}  // namespace

OfflineWriter::OfflineWriter(std::shared_ptr<pg::Pool> pool, CatalogLookup lookup,
                             std::shared_ptr<WriterMetrics> metrics)
    : pool_(std::move(pool)), lookup_(std::move(lookup)), metrics_(std::move(metrics)) {}

absl::Status OfflineWriter::Migrate() {
  return pg::Migrate(*pool_, "granary_ingest", Migrations());
}

absl::StatusOr<SinkResult> OfflineWriter::Write(const events::v1::PushBatch& batch) {
  // The batch's JetStream message id (ingestion's PushMessageId): unique per project, batch
  // and view, "*/offline" for the whole of a push whose source feeds several views.
  const std::string current_id =
      absl::StrCat(batch.project(), "/", batch.batch_id(), "/",
                   batch.whole_push() ? "*/offline" : batch.feature_view());
  std::string message_id;  // the one the ledger knows the batch by
  int64_t written = 0;
  SinkResult result;
  // `one_by_one`: each row in its own savepoint, the refused ones collected.
  auto write = [&](bool one_by_one) {
    return pool_->Transact([&](pqxx::work& tx) -> absl::Status {
      written = 0;
      result = SinkResult();
      ASSIGN_OR_RETURN(Target target, TargetOf(batch, lookup_, tx));
      message_id = current_id;
      if (batch.whole_push()) {
        // Versions before 2026-12-06 named the whole of a push after its first view: a batch
        // written under that id is written (its retry or redelivery comes under the new one).
        const std::string legacy = absl::StrCat(batch.project(), "/", batch.batch_id(), "/",
                                                batch.feature_view(), "/offline");
        if (!tx.exec_params("SELECT 1 FROM granary_ingest.offline_batches WHERE message_id = $1",
                            legacy)
                 .empty()) {
          message_id = legacy;
        }
      }
      // Waits for a replica writing the same batch to finish; then sees its id and stops.
      pqxx::result claimed = tx.exec_params(
          "INSERT INTO granary_ingest.offline_batches (message_id, target, rows) "
          "VALUES ($1, $2, $3) ON CONFLICT (message_id) DO NOTHING",
          message_id, target.table, batch.rows_size());
      if (claimed.affected_rows() == 0) {
        // Written before: answer with the rows it refused then, if any.
        pqxx::row done = tx.exec_params1(
            "SELECT rejected_rows, rejected_reason FROM granary_ingest.offline_batches "
            "WHERE message_id = $1",
            message_id);
        for (absl::string_view r :
             absl::StrSplit(done[0].as<std::string>(), ',', absl::SkipEmpty())) {
          int row = 0;
          if (!absl::SimpleAtoi(r, &row)) return absl::DataLossError("bad rejected_rows");
          result.rejected_rows.push_back(row);
        }
        result.reason = done[1].as<std::string>();
        return absl::OkStatus();
      }
      const std::vector<std::string> lines = CopyLines(batch, target);
      if (!one_by_one) {
        offlinestore::CopyWriter copy(tx, target.table, target.columns);
        for (const std::string& line : lines) copy.WriteLine(line);
        copy.Complete();
        written = static_cast<int64_t>(lines.size());
        return absl::OkStatus();
      }
      for (size_t r = 0; r < lines.size(); ++r) {
        try {
          pqxx::subtransaction row(tx, "row");
          {
            offlinestore::CopyWriter copy(row, target.table, target.columns);
            copy.WriteLine(lines[r]);
            copy.Complete();
          }
          row.commit();
          ++written;
        } catch (const pqxx::sql_error& e) {
          absl::Status refused = pg::StatusFromException(e);
          if (!IsRowRefusal(refused)) throw;  // not about this row: the whole batch is retried
          if (result.rejected_rows.empty()) result.reason = std::string(refused.message());
          result.rejected_rows.push_back(static_cast<int>(r));
        }
      }
      if (!result.rejected_rows.empty()) {
        tx.exec_params(
            "UPDATE granary_ingest.offline_batches SET rejected_rows = $2, rejected_reason = $3 "
            "WHERE message_id = $1",
            message_id, absl::StrJoin(result.rejected_rows, ","), result.reason);
      }
      return absl::OkStatus();
    });
  };
  absl::Status status = write(/*one_by_one=*/false);
  if (IsRowRefusal(status)) status = write(/*one_by_one=*/true);
  if (status.ok()) {
    metrics_->RecordRowsWritten("offline-writer", written);
    return result;
  }
  if (IsPermanent(status)) return status;  // the batch no longer fits the catalog
  // Anything else may pass: the server back, a table created, a permission granted.
  return absl::UnavailableError(status.message());
}

}  // namespace granary::materializer
