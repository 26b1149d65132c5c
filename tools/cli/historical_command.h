// `granary get-historical-features`: a training set from entity rows in a CSV file, the features
// of a feature service or given by reference, joined point in time by the materializer and
// written as CSV (to a file, renamed into place only when complete, or to stdout with
// `--out -`), row batches written as they stream in, so neither end holds the whole set.
//
//   ASSIGN_OR_RETURN(EntityTable table, EntityTableFromCsv(text, "event_timestamp", now));
#ifndef GRANARY_TOOLS_CLI_HISTORICAL_COMMAND_H_
#define GRANARY_TOOLS_CLI_HISTORICAL_COMMAND_H_

#include <map>
#include <string>

#include "CLI/CLI.hpp"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "granary/materialization/v1/materialization.pb.h"

namespace granary::cli {

// The entity rows of a CSV file: its `timestamp_column` (any time ParseTimeText reads, `now`
// meaning `now`) becomes the rows' times; every other column is sent in the file's order, a
// join key as its entity's type in `join_key_types` (from EntityTypes), the rest typed by their
// values as `granary push` types a file without a schema. INVALID_ARGUMENT naming the line and
// column of what cannot be read, or the missing timestamp column.
absl::StatusOr<materialization::v1::EntityTable> EntityTableFromCsv(
    absl::string_view text, const std::string& timestamp_column, absl::Time now,
    const std::map<std::string, types::v1::ValueType::Enum>& join_key_types = {});

// A value as a CSV cell: empty for null, RFC 3339 for timestamps, JSON for bytes and lists,
// quoted (RFC 4180) when it holds a comma, quote or line break.
std::string CsvCell(const types::v1::Value& value);

// Registers the verb on `app`; when it runs it sets *exit_code.
void AddHistoricalCommand(CLI::App& app, int* exit_code);

}  // namespace granary::cli

#endif  // GRANARY_TOOLS_CLI_HISTORICAL_COMMAND_H_
