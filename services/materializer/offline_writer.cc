#include "services/materializer/offline_writer.h"

#include <optional>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "pqxx/pqxx"
#include "pqxx/tablewriter"

#include "libs/base/proto_time.h"
#include "libs/base/status_macros.h"
#include "libs/pg/errors.h"
#include "libs/pg/migrations.h"
#include "services/materializer/pg_text.h"

namespace granary::materializer {
namespace {

const std::vector<pg::Migration>& Migrations() {
  static const auto* const kMigrations = new std::vector<pg::Migration>{
      {1, "offline batches",
       "CREATE TABLE granary_ingest.offline_batches ("
       "  message_id text PRIMARY KEY,"
       "  target text NOT NULL,"
       "  rows integer NOT NULL,"
       "  written_at timestamptz NOT NULL DEFAULT now())"},
  };
  return *kMigrations;
}

struct Target {
  std::string table;                 // quoted, possibly schema-qualified
  std::vector<std::string> columns;  // quoted, in row order
  bool created = false;              // whether the created timestamp column is written
};

absl::StatusOr<Target> TargetOf(const events::v1::PushBatch& batch, const CatalogLookup& lookup,
                                pqxx::work& tx) {
  ASSIGN_OR_RETURN(std::shared_ptr<const registry_client::Catalog> catalog,
                   CatalogFor(batch, lookup));
  const auto* push = catalog->FindDataSource(batch.push_source());
  const auto* source =
      push == nullptr ? nullptr : catalog->FindDataSource(push->push().batch_source());
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
  for (const std::string& f : batch.features()) t.columns.push_back(tx.quote_name(column_of(f)));
  return t;
}

// Errors retrying will not cure: the table or a column is missing (42xxx), a value does not
// fit (22xxx), a constraint refuses the row (23xxx), or the batch no longer fits the catalog.
bool IsPermanent(const absl::Status& status) {
  if (absl::IsFailedPrecondition(status) || absl::IsInvalidArgument(status)) return true;
  const std::string state = pg::SqlState(status);
  return state.size() == 5 &&
         (state.rfind("42", 0) == 0 || state.rfind("22", 0) == 0 || state.rfind("23", 0) == 0);
}

// COPY's text format: a field with backslash, tab, newline and carriage return escaped; \N for
// NULL.
void AppendCopyField(const std::optional<std::string>& text, std::string* line) {
  if (!text.has_value()) {
    *line += "\\N";
    return;
  }
  for (char c : *text) {
    switch (c) {
      case '\\':
        *line += "\\\\";
        break;
      case '\t':
        *line += "\\t";
        break;
      case '\n':
        *line += "\\n";
        break;
      case '\r':
        *line += "\\r";
        break;
      default:
        *line += c;
    }
  }
}

// libpqxx 6 streams rows of dynamic width only through tablewriter, deprecated in favour of a
// stream_to that takes tuples of fixed width; our rows are as wide as the batch.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
std::unique_ptr<pqxx::tablewriter> CopyInto(pqxx::work& tx, const Target& target) {
  return std::make_unique<pqxx::tablewriter>(tx, target.table, target.columns.begin(),
                                             target.columns.end());
}
#pragma GCC diagnostic pop

}  // namespace

OfflineWriter::OfflineWriter(std::shared_ptr<pg::Pool> pool, CatalogLookup lookup,
                             std::shared_ptr<WriterMetrics> metrics)
    : pool_(std::move(pool)), lookup_(std::move(lookup)), metrics_(std::move(metrics)) {}

absl::Status OfflineWriter::Write(const events::v1::PushBatch& batch) {
  if (!migrated_.load()) {
    RETURN_IF_ERROR(pg::Migrate(*pool_, "granary_ingest", Migrations()));
    migrated_.store(true);
  }
  // The batch's JetStream message id (events.proto): unique per project, batch and view.
  const std::string message_id =
      absl::StrCat(batch.project(), "/", batch.batch_id(), "/", batch.feature_view());
  bool wrote = false;
  absl::Status status = pool_->Transact([&](pqxx::work& tx) -> absl::Status {
    ASSIGN_OR_RETURN(Target target, TargetOf(batch, lookup_, tx));
    // Waits for a replica writing the same batch to finish; then sees its id and stops.
    pqxx::result claimed = tx.exec_params(
        "INSERT INTO granary_ingest.offline_batches (message_id, target, rows) "
        "VALUES ($1, $2, $3) ON CONFLICT (message_id) DO NOTHING",
        message_id, target.table, batch.rows_size());
    if (claimed.affected_rows() == 0) return absl::OkStatus();
    std::unique_ptr<pqxx::tablewriter> copy = CopyInto(tx, target);
    std::vector<std::optional<std::string>> texts;
    std::string line;
    const std::string received = PgTimestamp(base::FromProtoTime(batch.received_time()));
    for (const events::v1::PushRow& row : batch.rows()) {
      texts.clear();
      for (const auto& v : row.join_values()) texts.push_back(PgText(v));
      texts.push_back(PgTimestamp(base::FromProtoTime(row.event_time())));
      if (target.created) {
        texts.push_back(row.has_created_time()
                            ? PgTimestamp(base::FromProtoTime(row.created_time()))
                            : received);
      }
      for (const auto& v : row.features()) texts.push_back(PgText(v));
      line.clear();
      for (size_t i = 0; i < texts.size(); ++i) {
        if (i > 0) line += '\t';
        AppendCopyField(texts[i], &line);
      }
      copy->write_raw_line(line);
    }
    copy->complete();
    wrote = true;
    return absl::OkStatus();
  });
  if (status.ok()) {
    metrics_->RecordRowsWritten("offline-writer", wrote ? batch.rows_size() : 0);
  } else if (IsPermanent(status)) {
    return absl::FailedPreconditionError(status.message());
  } else if (!IsTransient(status)) {
    // Anything else (a connection lost mid-COPY, a failover) may pass: retry.
    return absl::UnavailableError(status.message());
  }
  return status;
}

}  // namespace granary::materializer
