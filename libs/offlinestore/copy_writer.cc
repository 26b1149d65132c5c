#include "libs/offlinestore/copy_writer.h"

#include "pqxx/tablewriter"

namespace granary::offlinestore {

// libpqxx 6 streams rows of dynamic width only through tablewriter, deprecated in favour of a
// stream_to of fixed-width tuples; Granary's rows are as wide as the data they carry.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
CopyWriter::CopyWriter(pqxx::transaction_base& tx, const std::string& table,
                       const std::vector<std::string>& columns)
    : writer_(std::make_unique<pqxx::tablewriter>(tx, table, columns.begin(), columns.end())) {}

CopyWriter::~CopyWriter() = default;

void CopyWriter::WriteLine(const std::string& line) { writer_->write_raw_line(line); }

void CopyWriter::Complete() { writer_->complete(); }
#pragma GCC diagnostic pop

}  // namespace granary::offlinestore
