// The rows of a statement streamed with COPY (<statement>) TO STDOUT, one at a time: the
// result is never held whole in memory, whatever its size (materialization reads views of any
// size this way). Fields come as PostgreSQL's text output, NULL as std::nullopt.
//
//   CopyReader reader(tx, sql);
//   std::vector<std::optional<std::string>> fields;
//   while (true) {
//     ASSIGN_OR_RETURN(bool more, reader.Next(&fields));
//     if (!more) break;
//     ...
//   }
#ifndef GRANARY_LIBS_OFFLINESTORE_COPY_READER_H_
#define GRANARY_LIBS_OFFLINESTORE_COPY_READER_H_

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include <pqxx/stream_from>
#include <pqxx/transaction_base>

namespace granary::offlinestore {

// One line of COPY's text format split into its fields, escapes undone (\N is NULL).
// DATA_LOSS for a line that is not in that format.
absl::Status SplitCopyLine(absl::string_view line, std::vector<std::optional<std::string>>* fields);

class CopyReader {
 public:
  // Starts the COPY of `statement` (a SELECT) in `tx`, which serves nothing else until the
  // reader is done (Next returned false or an error) or destroyed. Destroyed before the end,
  // it cancels the statement (the transaction is then aborted).
  CopyReader(pqxx::transaction_base& tx, const std::string& statement);
  ~CopyReader();

  // The next row into `fields`; false at the end. Errors as libs/pg maps them.
  absl::StatusOr<bool> Next(std::vector<std::optional<std::string>>* fields);

 private:
  pqxx::connection_base* conn_;
  std::unique_ptr<pqxx::stream_from> stream_;
  absl::Status failed_;  // starting the COPY failed
  std::string line_;
};

}  // namespace granary::offlinestore

#endif  // GRANARY_LIBS_OFFLINESTORE_COPY_READER_H_
