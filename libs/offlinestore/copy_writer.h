// Rows into a table with COPY ... FROM STDIN, each row a line of COPY's text format (copy_text.h
// builds them). The one place Granary writes COPY: the offline writer's pushed rows and the
// historical retrieval's inline entity rows.
//
//   CopyWriter copy(tx, "pg_temp.entity_rows", {"row_number", "event_timestamp"});
//   copy.WriteLine("0\t2026-11-21 10:00:00+00");
//   copy.Complete();
#ifndef GRANARY_LIBS_OFFLINESTORE_COPY_WRITER_H_
#define GRANARY_LIBS_OFFLINESTORE_COPY_WRITER_H_

#include <memory>
#include <string>
#include <vector>

#include "pqxx/transaction_base"

namespace pqxx {
class tablewriter;
}

namespace granary::offlinestore {

class CopyWriter {
 public:
  // `table` and `columns` as SQL names (quoted where they need to be).
  CopyWriter(pqxx::transaction_base& tx, const std::string& table,
             const std::vector<std::string>& columns);
  ~CopyWriter();
  CopyWriter(const CopyWriter&) = delete;
  CopyWriter& operator=(const CopyWriter&) = delete;

  void WriteLine(const std::string& line);
  // Ends the COPY; the rows are in once the transaction commits. Throws pqxx::sql_error for a
  // row the table refuses.
  void Complete();

 private:
  std::unique_ptr<pqxx::tablewriter> writer_;
};

}  // namespace granary::offlinestore

#endif  // GRANARY_LIBS_OFFLINESTORE_COPY_WRITER_H_
