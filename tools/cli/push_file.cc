#include "tools/cli/push_file.h"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "nlohmann/json.hpp"

namespace granary::cli {
namespace {

using nlohmann::json;
using types::v1::ValueType;

absl::Status Invalid(absl::string_view where, absl::string_view message) {
  return absl::InvalidArgumentError(absl::StrCat(where, ": ", message));
}

std::string Kind(const json& j) {
  if (j.is_object()) return "an object";
  if (j.is_array()) return absl::StrCat("a list of ", j.size(), " values");
  const char* kind = j.is_string()    ? "a string"
                     : j.is_boolean() ? "a bool"
                     : j.is_number()  ? "a number"
                                      : "null";
  return absl::StrCat(kind, " (", j.dump().substr(0, 40), ")");
}

template <typename Cell>
ValueType::Enum ColumnType(const std::string& name, const std::vector<Cell>& cells,
                           const PushFileOptions& options, CellContext& cx) {
  if (auto it = options.types.find(name); it != options.types.end()) return it->second;
  return options.guess ? GuessType(cells, cx) : ValueType::STRING;
}

absl::Status CheckHeader(const std::vector<std::string>& header, int line) {
  for (size_t i = 0; i < header.size(); ++i) {
    std::string where = absl::StrCat("line ", line, ", column ", i + 1);
    if (header[i].empty()) return Invalid(where, "the header names no column");
    if (std::find(header.begin(), header.begin() + i, header[i]) != header.begin() + i) {
      return Invalid(where, absl::StrCat("column \"", header[i], "\" appears twice"));
    }
  }
  return absl::OkStatus();
}

}  // namespace

bool CsvReader::Next(std::vector<std::string>& fields) {
  fields.clear();
  if (!status_.ok()) return false;
  const size_t size = text_.size();
  while (pos_ < size && (text_[pos_] == '\n' || text_[pos_] == '\r')) {
    if (text_[pos_++] == '\n') ++line_;
  }
  if (pos_ >= size) return false;
  record_line_ = line_;
  while (true) {
    std::string where = absl::StrCat("line ", line_, ", field ", fields.size() + 1);
    std::string field;
    if (text_[pos_] == '"') {
      ++pos_;
      while (true) {
        size_t quote = text_.find('"', pos_);
        if (quote == absl::string_view::npos) {
          status_ = Invalid(where, "a quoted field is never closed");
          return false;
        }
        absl::string_view chunk = text_.substr(pos_, quote - pos_);
        line_ += std::count(chunk.begin(), chunk.end(), '\n');
        field.append(chunk.data(), chunk.size());
        pos_ = quote + 1;
        if (pos_ < size && text_[pos_] == '"') {  // "" is one quote
          field.push_back('"');
          ++pos_;
          continue;
        }
        break;
      }
      if (pos_ < size && text_[pos_] != ',' && text_[pos_] != '\n' && text_[pos_] != '\r') {
        status_ = Invalid(where,
                          "text after the closing quote (write a quote inside a quoted "
                          "field as \"\")");
        return false;
      }
    } else {
      size_t end = std::min(text_.find_first_of(",\r\n", pos_), size);
      absl::string_view raw = text_.substr(pos_, end - pos_);
      if (absl::StrContains(raw, '"')) {
        status_ = Invalid(where,
                          "a quote inside an unquoted field (quote the whole field and "
                          "write the quote as \"\")");
        return false;
      }
      field.assign(raw.data(), raw.size());
      pos_ = end;
    }
    fields.push_back(std::move(field));
    if (pos_ >= size) return true;
    if (text_[pos_] == ',') {
      ++pos_;
      if (pos_ >= size) fields.emplace_back();  // "a,b," ends with an empty field
      if (pos_ >= size) return true;
      continue;
    }
    if (text_[pos_] == '\r' && pos_ + 1 < size && text_[pos_ + 1] == '\n') ++pos_;
    ++pos_;
    ++line_;
    return true;
  }
}

absl::StatusOr<PushTable> ParseCsv(absl::string_view text, const PushFileOptions& options,
                                   CellContext& cx) {
  absl::ConsumePrefix(&text, "\xEF\xBB\xBF");  // the byte order mark spreadsheets write
  CsvReader csv(text);
  std::vector<std::string> header;
  if (!csv.Next(header)) {
    if (!csv.status().ok()) return csv.status();
    return absl::InvalidArgumentError("the file is empty: expected a header line of column names");
  }
  if (absl::Status s = CheckHeader(header, csv.line()); !s.ok()) return s;
  PushTable table;
  std::vector<std::vector<std::string>> cells(header.size());
  for (std::vector<std::string> record; csv.Next(record);) {
    if (record.size() != header.size()) {
      return Invalid(absl::StrCat("line ", csv.line()),
                     absl::StrCat(record.size(), " fields, but the header has ", header.size()));
    }
    for (size_t c = 0; c < record.size(); ++c) cells[c].push_back(std::move(record[c]));
    table.row_lines.push_back(csv.line());
  }
  if (!csv.status().ok()) return csv.status();
  table.rows = static_cast<int>(table.row_lines.size());
  for (size_t c = 0; c < header.size(); ++c) {
    ValueType::Enum type = ColumnType(header[c], cells[c], options, cx);
    types::v1::RepeatedValue column;
    column.mutable_val()->Reserve(table.rows);
    for (int r = 0; r < table.rows; ++r) {
      if (cells[c][r].empty()) {
        column.add_val()->set_null_val(types::v1::NULL_);
        continue;
      }
      absl::StatusOr<types::v1::Value> v = TextValue(cells[c][r], type, cx);
      if (!v.ok()) {
        return Invalid(absl::StrCat("line ", table.row_lines[r], ", column ", header[c]),
                       v.status().message());
      }
      *column.add_val() = *std::move(v);
    }
    std::vector<std::string>().swap(cells[c]);
    table.columns.push_back(header[c]);
    table.types.push_back(type);
    table.values.push_back(std::move(column));
  }
  return table;
}

absl::StatusOr<PushTable> ParseJson(absl::string_view text, const PushFileOptions& options,
                                    CellContext& cx) {
  json doc;
  try {
    doc = json::parse(text.begin(), text.end());
  } catch (const json::exception& e) {
    absl::string_view message = e.what();  // "[json.exception.parse_error.101] parse error at..."
    if (size_t bracket = message.find("] "); bracket != absl::string_view::npos) {
      message.remove_prefix(bracket + 2);
    }
    return absl::InvalidArgumentError(absl::StrCat("not JSON: ", message));
  }
  PushTable table;
  std::vector<std::vector<json>> cells;
  const bool by_column = doc.is_object();
  if (by_column) {
    for (auto& [name, values] : doc.items()) {
      if (!values.is_array()) {
        return Invalid(name, absl::StrCat("expected a list of values, found ", Kind(values)));
      }
      if (!cells.empty() && values.size() != cells[0].size()) {
        return Invalid(name, absl::StrCat(values.size(), " values, but ", table.columns[0], " has ",
                                          cells[0].size()));
      }
      table.columns.push_back(name);
      cells.emplace_back(std::make_move_iterator(values.begin()),
                         std::make_move_iterator(values.end()));
    }
    table.rows = cells.empty() ? 0 : static_cast<int>(cells[0].size());
  } else if (doc.is_array()) {
    std::map<std::string, size_t> index;
    for (size_t r = 0; r < doc.size(); ++r) {
      json& row = doc[r];
      if (!row.is_object()) {
        return Invalid(absl::StrCat("[", r, "]"),
                       absl::StrCat("expected an object of column values, found ", Kind(row)));
      }
      for (auto& [name, value] : row.items()) {
        auto [it, added] = index.emplace(name, table.columns.size());
        if (added) {
          table.columns.push_back(name);
          cells.emplace_back(r, json());  // earlier rows lack it: null
        }
        cells[it->second].push_back(std::move(value));
      }
      for (auto& column : cells) column.resize(r + 1);  // later columns or missing keys: null
    }
    table.rows = static_cast<int>(doc.size());
  } else {
    return absl::InvalidArgumentError(
        absl::StrCat("expected an object of columns or a list of row objects, found ", Kind(doc)));
  }
  for (size_t c = 0; c < table.columns.size(); ++c) {
    const std::string& name = table.columns[c];
    ValueType::Enum type = ColumnType(name, cells[c], options, cx);
    types::v1::RepeatedValue column;
    column.mutable_val()->Reserve(table.rows);
    for (int r = 0; r < table.rows; ++r) {
      absl::StatusOr<types::v1::Value> v = JsonValue(cells[c][r], type, cx);
      if (!v.ok()) {
        return Invalid(
            by_column ? absl::StrCat(name, "[", r, "]") : absl::StrCat("[", r, "].", name),
            v.status().message());
      }
      *column.add_val() = *std::move(v);
    }
    table.types.push_back(type);
    table.values.push_back(std::move(column));
  }
  return table;
}

absl::StatusOr<PushTable> ReadPushFile(const std::string& path, const PushFileOptions& options,
                                       CellContext& cx, std::string* content) {
  std::string ext = absl::AsciiStrToLower(std::filesystem::path(path).extension().string());
  if (ext != ".csv" && ext != ".json") {
    return absl::InvalidArgumentError(
        absl::StrCat(path, ": expected a .csv or .json file, found \"", ext, "\""));
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::NotFoundError(absl::StrCat("cannot read ", path));
  std::ostringstream buffer;
  buffer << in.rdbuf();
  *content = buffer.str();
  absl::StatusOr<PushTable> table =
      ext == ".csv" ? ParseCsv(*content, options, cx) : ParseJson(*content, options, cx);
  if (!table.ok()) return Invalid(path, table.status().message());
  return table;
}

}  // namespace granary::cli
