// The file given to `granary push`, read into typed columns. Two formats, by extension:
//   .csv   RFC 4180: a header line, then one record per row; quoted fields may hold commas,
//          line breaks and doubled quotes. An empty cell is null.
//   .json  Feast's column shape {"driver_id": [1001, 1002], "conv_rate": [0.5, 0.7]} or a list
//          of rows [{"driver_id": 1001, "conv_rate": 0.5}, ...] (a key missing from a row is null).
// Each column is typed by `types` (the push source's schema); a column not in it is sent as
// STRING (so the ingestion service can name it), or guessed when there is no schema at all.
// Problems name the line (CSV) or JSON path and the column.
//
//   CsvReader csv(text);
//   for (std::vector<std::string> record; csv.Next(record);) { ... csv.line() ... }
//
//   ASSIGN_OR_RETURN(PushTable table, ReadPushFile("rows.csv", {.types = types}, cx, &content));
#ifndef GRANARY_TOOLS_CLI_PUSH_FILE_H_
#define GRANARY_TOOLS_CLI_PUSH_FILE_H_

#include <map>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "granary/types/v1/value.pb.h"

#include "tools/cli/push_value.h"

namespace granary::cli {

// RFC 4180 records, one at a time; CRLF or LF line ends; blank lines are skipped.
class CsvReader {
 public:
  explicit CsvReader(absl::string_view text) : text_(text) {}

  // The next record; false at the end or on malformed input (then status() says why).
  bool Next(std::vector<std::string>& fields);
  // The line (from 1) the last record started on.
  int line() const { return record_line_; }
  const absl::Status& status() const { return status_; }

 private:
  absl::string_view text_;
  size_t pos_ = 0;
  int line_ = 1;
  int record_line_ = 0;
  absl::Status status_;
};

struct PushFileOptions {
  // Column -> the type its values are sent as.
  std::map<std::string, types::v1::ValueType::Enum> types;
  // No schema is known: guess each column's type from its values instead of sending STRING.
  bool guess = false;
};

// The rows of a file, column-wise.
struct PushTable {
  // Column names, in the file's order.
  std::vector<std::string> columns;
  // One per column, each with `rows` values.
  std::vector<types::v1::RepeatedValue> values;
  // The type each column was sent as.
  std::vector<types::v1::ValueType::Enum> types;
  int rows = 0;
  // CSV: the line each row starts on (for messages); empty for JSON.
  std::vector<int> row_lines;
};

absl::StatusOr<PushTable> ParseCsv(absl::string_view text, const PushFileOptions& options,
                                   CellContext& cx);
absl::StatusOr<PushTable> ParseJson(absl::string_view text, const PushFileOptions& options,
                                    CellContext& cx);

// Reads `path` (by its extension) into *content and parses it. NOT_FOUND when it cannot be read,
// INVALID_ARGUMENT for an unknown extension or malformed content (naming the file).
absl::StatusOr<PushTable> ReadPushFile(const std::string& path, const PushFileOptions& options,
                                       CellContext& cx, std::string* content);

}  // namespace granary::cli

#endif  // GRANARY_TOOLS_CLI_PUSH_FILE_H_
