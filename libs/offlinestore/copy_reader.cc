#include "libs/offlinestore/copy_reader.h"

#include "absl/strings/str_cat.h"

#include "libs/pg/errors.h"

namespace granary::offlinestore {

absl::Status SplitCopyLine(absl::string_view line,
                           std::vector<std::optional<std::string>>* fields) {
  fields->clear();
  std::string field;
  bool null = false;
  auto end_field = [&] {
    if (null) {
      fields->push_back(std::nullopt);
    } else {
      fields->push_back(std::move(field));
    }
    field.clear();
    null = false;
  };
  for (size_t i = 0; i < line.size(); ++i) {
    const char c = line[i];
    if (c == '\t') {
      end_field();
      continue;
    }
    if (null) return absl::DataLossError("COPY line: text after \\N in a field");
    if (c != '\\') {
      field += c;
      continue;
    }
    if (++i == line.size()) return absl::DataLossError("COPY line: ends with a backslash");
    switch (line[i]) {
      case 'N':
        if (!field.empty()) return absl::DataLossError("COPY line: \\N inside a field");
        null = true;
        break;
      case 't':
        field += '\t';
        break;
      case 'n':
        field += '\n';
        break;
      case 'r':
        field += '\r';
        break;
      case 'b':
        field += '\b';
        break;
      case 'f':
        field += '\f';
        break;
      case 'v':
        field += '\v';
        break;
      default:  // \\ and any other character stand for themselves
        field += line[i];
    }
  }
  end_field();
  return absl::OkStatus();
}

CopyReader::CopyReader(pqxx::transaction_base& tx, const std::string& statement)
    : conn_(&tx.conn()) {
  try {
    // libpqxx 6 puts what it is given as the "table" right after COPY: a parenthesized
    // statement makes it COPY (<statement>) TO STDOUT.
    stream_ = std::make_unique<pqxx::stream_from>(tx, absl::StrCat("(", statement, ")"));
  } catch (const std::exception& e) {
    failed_ = pg::StatusFromException(e);
  }
}

CopyReader::~CopyReader() {
  if (stream_ == nullptr) return;
  try {
    // Stopped early (the caller went away, a job was cancelled, a row failed): PostgreSQL is
    // asked to stop rather than send the rest, which is then only what was in flight.
    conn_->cancel_query();
    while (stream_->get_raw_line(line_)) {
    }
    stream_->complete();
  } catch (const std::exception&) {
    // The cancelled statement's error: the transaction reports it on its next use.
  }
}

absl::StatusOr<bool> CopyReader::Next(std::vector<std::optional<std::string>>* fields) {
  if (!failed_.ok()) return failed_;
  if (stream_ == nullptr) return false;  // over
  try {
    if (!stream_->get_raw_line(line_)) {
      stream_->complete();
      stream_.reset();
      return false;
    }
  } catch (const std::exception& e) {
    failed_ = pg::StatusFromException(e);
    stream_.reset();
    return failed_;
  }
  // libpqxx 6 hands the line with its terminating newline (one in the data is escaped).
  absl::string_view line = line_;
  if (!line.empty() && line.back() == '\n') line.remove_suffix(1);
  absl::Status split = SplitCopyLine(line, fields);
  if (!split.ok()) return split;
  return true;
}

}  // namespace granary::offlinestore
