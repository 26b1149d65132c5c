#include "libs/offlinestore/entity_rows.h"

#include "absl/strings/str_cat.h"
#include "pqxx/pqxx"

#include "libs/base/status_macros.h"
#include "libs/keys/entity_key.h"
#include "libs/offlinestore/copy_text.h"
#include "libs/offlinestore/copy_writer.h"
#include "libs/offlinestore/sql_names.h"

namespace granary::offlinestore {

using types::v1::Value;
using types::v1::ValueType;

namespace {

// The column numbering the rows: a name no caller's column gets (CheckInline refuses it).
constexpr char kRowColumn[] = "__granary_row";

}  // namespace

absl::StatusOr<std::string> PgType(ValueType::Enum type) {
  switch (type) {
    case ValueType::BYTES:
      return std::string("bytea");
    case ValueType::STRING:
      return std::string("text");
    case ValueType::INT32:
      return std::string("integer");
    case ValueType::INT64:
      return std::string("bigint");
    case ValueType::DOUBLE:
      return std::string("double precision");
    case ValueType::FLOAT:
      return std::string("real");
    case ValueType::BOOL:
      return std::string("boolean");
    case ValueType::UNIX_TIMESTAMP:
      return std::string("timestamptz");
    case ValueType::BYTES_LIST:
      return std::string("bytea[]");
    case ValueType::STRING_LIST:
      return std::string("text[]");
    case ValueType::INT32_LIST:
      return std::string("integer[]");
    case ValueType::INT64_LIST:
      return std::string("bigint[]");
    case ValueType::DOUBLE_LIST:
      return std::string("double precision[]");
    case ValueType::FLOAT_LIST:
      return std::string("real[]");
    case ValueType::BOOL_LIST:
      return std::string("boolean[]");
    case ValueType::UNIX_TIMESTAMP_LIST:
      return std::string("timestamptz[]");
    default:
      return absl::InvalidArgumentError(
          absl::StrCat("no column holds values of type ", ValueType::Enum_Name(type)));
  }
}

ValueType::Enum TypeOfOid(unsigned oid) {
  switch (oid) {  // pg_type.oid of the built-in types (stable across releases)
    case 17:
      return ValueType::BYTES;
    case 21:  // smallint
    case 23:
      return ValueType::INT32;
    case 20:
      return ValueType::INT64;
    case 701:
      return ValueType::DOUBLE;
    case 700:
      return ValueType::FLOAT;
    case 16:
      return ValueType::BOOL;
    case 1114:  // timestamp (read as UTC: PinSession)
    case 1184:
      return ValueType::UNIX_TIMESTAMP;
    case 1001:
      return ValueType::BYTES_LIST;
    case 1009:
      return ValueType::STRING_LIST;
    case 1005:
    case 1007:
      return ValueType::INT32_LIST;
    case 1016:
      return ValueType::INT64_LIST;
    case 1022:
      return ValueType::DOUBLE_LIST;
    case 1021:
      return ValueType::FLOAT_LIST;
    case 1000:
      return ValueType::BOOL_LIST;
    case 1115:
    case 1185:
      return ValueType::UNIX_TIMESTAMP_LIST;
    default:
      return ValueType::STRING;
  }
}

absl::Status CheckInline(const InlineEntities& rows) {
  if (rows.columns.size() != rows.values.size()) {
    return absl::InvalidArgumentError("entity rows: columns and values differ in number");
  }
  for (size_t c = 0; c < rows.columns.size(); ++c) {
    const EntityColumn& column = rows.columns[c];
    if (column.name == kEntityTimestamp || column.name == kRowColumn) {
      return absl::InvalidArgumentError(
          absl::StrCat("entity rows: column \"", column.name, "\" is a name the rows' times take"));
    }
    if (rows.values[c].size() != rows.timestamps.size()) {
      return absl::InvalidArgumentError(
          absl::StrCat("entity rows: column \"", column.name, "\" has ", rows.values[c].size(),
                       " values for ", rows.timestamps.size(), " rows"));
    }
    RETURN_IF_ERROR(PgType(column.type).status());
    for (size_t r = 0; r < rows.values[c].size(); ++r) {
      const ValueType::Enum type = keys::TypeOf(rows.values[c][r]);
      if (type != ValueType::INVALID && type != ValueType::NULL_ && type != column.type) {
        return absl::InvalidArgumentError(absl::StrCat(
            "entity rows: column \"", column.name, "\", row ", r + 1, ": a ",
            ValueType::Enum_Name(type), " in a column of ", ValueType::Enum_Name(column.type)));
      }
    }
  }
  return absl::OkStatus();
}

absl::Status CreateEntityTable(pqxx::transaction_base& tx, const InlineEntities& rows) {
  RETURN_IF_ERROR(CheckInline(rows));
  std::string columns = absl::StrCat(kRowColumn, " bigint, ", kEntityTimestamp, " timestamptz");
  for (const EntityColumn& column : rows.columns) {
    ASSIGN_OR_RETURN(std::string name, QuoteIdentifier(column.name));
    ASSIGN_OR_RETURN(std::string type, PgType(column.type));
    absl::StrAppend(&columns, ", ", name, " ", type);
  }
  tx.exec(absl::StrCat("DROP TABLE IF EXISTS pg_temp.", kEntityTable));
  tx.exec(absl::StrCat("CREATE TEMPORARY TABLE ", kEntityTable, " (", columns, ")"));
  return absl::OkStatus();
}

absl::Status CopyEntities(pqxx::transaction_base& tx, const InlineEntities& rows) {
  std::vector<std::string> names = {kRowColumn, kEntityTimestamp};
  for (const EntityColumn& column : rows.columns) names.push_back(tx.quote_name(column.name));
  CopyWriter copy(tx, absl::StrCat("pg_temp.", kEntityTable), names);
  std::string line;
  for (size_t r = 0; r < rows.timestamps.size(); ++r) {
    line = absl::StrCat(r, "\t", PgTimestamp(rows.timestamps[r]));
    for (size_t c = 0; c < rows.columns.size(); ++c) {
      line += '\t';
      AppendCopyField(PgText(rows.values[c][r]), &line);
    }
    copy.WriteLine(line);
  }
  copy.Complete();
  return absl::OkStatus();
}

EntityRows InlineEntityRows(const InlineEntities& rows, const std::vector<std::string>& join_keys) {
  EntityRows out;
  out.table = absl::StrCat("pg_temp.", kEntityTable);
  out.join_keys = join_keys;
  out.timestamp_column = kEntityTimestamp;
  out.order_column = kRowColumn;
  for (const EntityColumn& column : rows.columns) {
    if (std::find(join_keys.begin(), join_keys.end(), column.name) == join_keys.end()) {
      out.extra_columns.push_back(column.name);
    }
  }
  return out;
}

absl::StatusOr<std::vector<EntityColumn>> DescribeQuery(pqxx::transaction_base& tx,
                                                        const std::string& query) {
  ASSIGN_OR_RETURN(std::string from, FromClause("", query, "q", "entity_sql"));
  // Prepared, not sent as text: PostgreSQL refuses to prepare more than one statement, so a
  // query that ends the parenthesis and goes on (even with COMMIT, out of the read-only
  // transaction) is refused here before anything runs. Spliced the same way into the join,
  // the text is one statement there too.
  constexpr char kProbe[] = "granary_entity_sql_probe";
  pqxx::result r;
  try {
    tx.conn().prepare(kProbe, absl::StrCat("SELECT * FROM ", from, " LIMIT 0"));
    r = tx.exec_prepared(kProbe);
    tx.conn().unprepare(kProbe);
  } catch (const pqxx::sql_error& e) {
    try {
      tx.conn().unprepare(kProbe);
    } catch (const std::exception&) {
    }
    const std::string state = e.sqlstate();
    // The caller's SQL: what is wrong with it is theirs to hear, by name.
    if (state == "42P01" || state == "42703" || state == "3F000" || state == "42883") {
      return absl::NotFoundError(absl::StrCat("entity_sql: ", e.what()));
    }
    if (state.rfind("42", 0) == 0 || state.rfind("22", 0) == 0 || state == "25006") {
      return absl::InvalidArgumentError(absl::StrCat("entity_sql: ", e.what()));
    }
    throw;
  }
  std::vector<EntityColumn> out;
  for (pqxx::row::size_type c = 0; c < r.columns(); ++c) {
    out.push_back({r.column_name(c), TypeOfOid(r.column_type(c))});
  }
  return out;
}

}  // namespace granary::offlinestore
