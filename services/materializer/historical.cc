#include "services/materializer/historical.h"

#include <algorithm>
#include <set>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "pqxx/pqxx"

#include "libs/base/proto_time.h"
#include "libs/base/status_macros.h"
#include "libs/keys/entity_key.h"
#include "libs/offlinestore/copy_reader.h"
#include "libs/offlinestore/entity_rows.h"
#include "libs/offlinestore/point_in_time.h"
#include "libs/offlinestore/sql_names.h"
#include "libs/offlinestore/value_text.h"
#include "libs/offlinestore/view_source.h"
#include "libs/pg/errors.h"
#include "libs/transforms/value_conversion.h"
#include "services/materializer/retrieval_plan.h"

namespace granary::materializer {
namespace {

namespace v1 = materialization::v1;
using offlinestore::EntityColumn;
using offlinestore::ViewSource;
using types::v1::ValueType;

// The times a protobuf Timestamp (and PostgreSQL, and the CLI) can hold.
const absl::Time kEarliest = absl::FromUnixSeconds(-62135596800);  // 0001-01-01
const absl::Time kLatest = absl::FromUnixSeconds(253402300800);    // 10000-01-01

// The join keys of all views, in the order they first appear, with their declared types.
std::vector<EntityColumn> JoinKeys(const std::vector<ViewSource>& views) {
  std::vector<EntityColumn> out;
  for (const ViewSource& view : views) {
    for (size_t k = 0; k < view.join_keys.size(); ++k) {
      const bool seen = std::any_of(out.begin(), out.end(), [&](const EntityColumn& c) {
        return c.name == view.join_keys[k];
      });
      if (!seen) out.push_back({view.join_keys[k], view.join_types[k]});
    }
  }
  return out;
}

// The inline entity rows, columns in the caller's order (else by name), each typed by its
// values; join keys as their entities declare them.
absl::StatusOr<offlinestore::InlineEntities> InlineRows(const v1::EntityTable& table,
                                                        const std::vector<EntityColumn>& keys) {
  offlinestore::InlineEntities rows;
  std::vector<std::string> names(table.column_order().begin(), table.column_order().end());
  if (names.empty()) {
    for (const auto& [name, values] : table.columns()) names.push_back(name);
    std::sort(names.begin(), names.end());
  }
  if (names.size() != static_cast<size_t>(table.columns_size())) {
    return absl::InvalidArgumentError(
        "entity_table.column_order: must name every column once, and only those");
  }
  for (int r = 0; r < table.event_timestamps_size(); ++r) {
    const absl::Time t = base::FromProtoTime(table.event_timestamps(r));
    if (t < kEarliest || t >= kLatest) {
      return absl::InvalidArgumentError(absl::StrCat("entity_table.event_timestamps: row ", r + 1,
                                                     " is outside years 1 to 9999"));
    }
    rows.timestamps.push_back(t);
  }
  for (size_t i = 0; i < names.size(); ++i) {
    if (std::find(names.begin() + i + 1, names.end(), names[i]) != names.end()) {
      return absl::InvalidArgumentError(
          absl::StrCat("entity_table.column_order: \"", names[i], "\" named twice"));
    }
  }
  for (const std::string& name : names) {
    auto it = table.columns().find(name);
    if (it == table.columns().end()) {
      return absl::InvalidArgumentError(
          absl::StrCat("entity_table.column_order: no column \"", name, "\""));
    }
    EntityColumn column{name, ValueType::INVALID};
    auto key = std::find_if(keys.begin(), keys.end(),
                            [&](const EntityColumn& k) { return k.name == name; });
    std::vector<types::v1::Value> values(it->second.val().begin(), it->second.val().end());
    if (key != keys.end()) {
      column.type = key->type;
      types::v1::Value scratch;
      for (size_t r = 0; r < values.size(); ++r) {
        if (keys::TypeOf(values[r]) == ValueType::NULL_) continue;
        const types::v1::Value* as_key = keys::CoerceKeyValue(values[r], key->type, &scratch);
        if (as_key == nullptr) {
          return absl::InvalidArgumentError(
              absl::StrCat("entity_table: column \"", name, "\", row ", r + 1, ": not a ",
                           ValueType::Enum_Name(key->type), " (the type of join key ", name, ")"));
        }
        if (as_key == &scratch) values[r] = scratch;
      }
    } else {
      for (const auto& v : values) {
        const ValueType::Enum type = keys::TypeOf(v);
        if (type != ValueType::NULL_ && type != ValueType::INVALID) {
          column.type = type;
          break;
        }
      }
      if (column.type == ValueType::INVALID) column.type = ValueType::STRING;  // all null
    }
    rows.columns.push_back(column);
    rows.values.push_back(std::move(values));
  }
  for (const EntityColumn& key : keys) {
    if (table.columns().find(key.name) == table.columns().end()) {
      return absl::InvalidArgumentError(
          absl::StrCat("entity_table: no column \"", key.name, "\", a join key of the features"));
    }
  }
  RETURN_IF_ERROR(offlinestore::CheckInline(rows));
  return rows;
}

}  // namespace

Historical::Historical(HistoricalOptions options, std::shared_ptr<pg::Pool> offline,
                       CatalogLookup lookup)
    : options_(std::move(options)), offline_(std::move(offline)), lookup_(std::move(lookup)) {}

absl::Status Historical::Run(
    const v1::GetHistoricalFeaturesRequest& request,
    const std::function<bool(const v1::GetHistoricalFeaturesResponse&)>& send,
    absl::Time deadline) {
  const std::string project =
      request.project().empty() ? options_.default_project : request.project();
  if (project.empty()) {
    return absl::InvalidArgumentError("project: required (this materializer has no default)");
  }
  absl::StatusOr<std::shared_ptr<const registry_client::Catalog>> catalog = lookup_(project);
  if (absl::IsNotFound(catalog.status())) {
    return absl::NotFoundError(absl::StrCat("project ", project, " does not exist"));
  }
  RETURN_IF_ERROR(catalog.status());
  ASSIGN_OR_RETURN(std::vector<ViewAsk> asked, Asked(request, **catalog));
  ASSIGN_OR_RETURN(RetrievalPlan plan,
                   PlanRetrieval(asked, **catalog, request.full_feature_names()));
  const std::vector<ViewSource>& views = plan.views;
  const std::vector<EntityColumn> keys = JoinKeys(views);
  std::vector<std::string> key_names;
  for (const EntityColumn& k : keys) key_names.push_back(k.name);

  std::optional<offlinestore::InlineEntities> inline_rows;
  if (request.has_entity_table()) {
    ASSIGN_OR_RETURN(inline_rows, InlineRows(request.entity_table(), keys));
  } else if (request.entity_sql().empty()) {
    return absl::InvalidArgumentError("entity_table or entity_sql: one is required");
  }
  const bool inline_given = inline_rows.has_value();
  auto join = [&](pqxx::connection& conn) -> absl::Status {
    if (inline_given) {
      // CREATE and ANALYZE are refused in the read-only transaction below; the table is the
      // session's.
      pqxx::work setup(conn);
      RETURN_IF_ERROR(offlinestore::CreateEntityTable(setup, *inline_rows));
      RETURN_IF_ERROR(offlinestore::CopyEntities(setup, *inline_rows));
      // The planner's row count and key spread of the rows, for the join's plan.
      setup.exec(absl::StrCat("ANALYZE pg_temp.", offlinestore::kEntityTable));
      setup.commit();
    }
    // Read only: an entity query or a source's query can never change anything.
    pqxx::transaction<pqxx::read_committed, pqxx::read_only> tx(conn);
    // The configured limit, or the caller's deadline when that comes first.
    const absl::Duration limit = std::max(
        std::min(options_.statement_timeout, deadline - absl::Now()), absl::Milliseconds(1));
    tx.exec(absl::StrCat("SET LOCAL statement_timeout = ", absl::ToInt64Milliseconds(limit)));
    // The join's cost estimate is high enough for PostgreSQL to compile it, which costs more
    // than it saves on index probes (measured: tools/bench/run historical).
    tx.exec("SET LOCAL jit = off");
    RETURN_IF_ERROR(offlinestore::PinSession(tx));
    offlinestore::EntityRows entities;
    std::vector<EntityColumn> entity_columns;  // as output: keys, timestamp, extras
    if (inline_given) {
      entities = offlinestore::InlineEntityRows(*inline_rows, key_names);
      for (const EntityColumn& k : keys) entity_columns.push_back(k);
      entity_columns.push_back({offlinestore::kEntityTimestamp, ValueType::UNIX_TIMESTAMP});
      for (const EntityColumn& c : inline_rows->columns) {
        if (std::find(key_names.begin(), key_names.end(), c.name) == key_names.end()) {
          entity_columns.push_back(c);
        }
      }
    } else {
      ASSIGN_OR_RETURN(std::vector<EntityColumn> described,
                       offlinestore::DescribeQuery(tx, request.entity_sql()));
      entities.query = request.entity_sql();
      entities.join_keys = key_names;
      entities.timestamp_column = request.event_timestamp_column().empty()
                                      ? std::string("event_timestamp")
                                      : request.event_timestamp_column();
      auto has = [&](const std::string& name) {
        return std::any_of(described.begin(), described.end(),
                           [&](const EntityColumn& c) { return c.name == name; });
      };
      for (const std::string& needed : key_names) {
        if (!has(needed)) {
          return absl::InvalidArgumentError(
              absl::StrCat("entity_sql: no column \"", needed, "\", a join key of the features"));
        }
      }
      if (!has(entities.timestamp_column)) {
        return absl::InvalidArgumentError(absl::StrCat(
            "entity_sql: no column \"", entities.timestamp_column, "\" (event_timestamp_column)"));
      }
      for (const EntityColumn& c : described) {
        if (c.name == entities.timestamp_column && c.type != ValueType::UNIX_TIMESTAMP) {
          return absl::InvalidArgumentError(
              absl::StrCat("entity_sql: column \"", c.name, "\" is not a timestamp"));
        }
      }
      for (const EntityColumn& k : keys) entity_columns.push_back(k);
      entity_columns.push_back({entities.timestamp_column, ValueType::UNIX_TIMESTAMP});
      for (const EntityColumn& c : described) {
        if (!std::any_of(entity_columns.begin(), entity_columns.end(),
                         [&](const EntityColumn& e) { return e.name == c.name; })) {
          entities.extra_columns.push_back(c.name);
          entity_columns.push_back(c);
        }
      }
    }
    for (const ViewSource& view : views) RETURN_IF_ERROR(offlinestore::CheckSource(tx, view));
    // Columns named <view>__<feature> in the SQL whatever the response calls them: sources of
    // on-demand views may share feature names with what is asked.
    ASSIGN_OR_RETURN(std::string joined,
                     offlinestore::PointInTimeSql(entities, views, /*full_feature_names=*/true));
    // Request sources' columns come from the entity rows.
    std::vector<OnDemandAsk> on_demand = plan.on_demand;
    for (OnDemandAsk& od : on_demand) {
      const auto& inputs = od.program->inputs();
      for (size_t i = 0; i < inputs.size(); ++i) {
        if (!inputs[i].from_request || !od.inputs[i].needed) continue;
        auto it = std::find_if(entity_columns.begin(), entity_columns.end(),
                               [&](const EntityColumn& c) { return c.name == inputs[i].column; });
        if (it == entity_columns.end()) {
          return absl::InvalidArgumentError(absl::StrCat(
              "entity rows: no column \"", inputs[i].column, "\", read from request source ",
              inputs[i].source, " by on-demand feature view ", od.program->view_name()));
        }
        // Taken as the request source's type, as serving takes request_context.
        if (!transforms::Convertible(it->type, inputs[i].type)) {
          return absl::InvalidArgumentError(absl::StrCat(
              "entity rows: column \"", inputs[i].column, "\" is ", ValueType::Enum_Name(it->type),
              ", but request source ", inputs[i].source, " declares it ",
              ValueType::Enum_Name(inputs[i].type)));
        }
        od.inputs[i].entity_column = static_cast<int>(it - entity_columns.begin());
      }
    }

    // The header: the entity columns, then what was asked. The SQL's columns (the entity
    // columns, then every joined feature), each read through the text form of its type.
    v1::GetHistoricalFeaturesResponse header;
    std::vector<ValueType::Enum> types;
    std::vector<std::string> selects, sql_names;
    auto select = [&](const std::string& name, ValueType::Enum type) -> absl::Status {
      types.push_back(type);
      sql_names.push_back(name);
      ASSIGN_OR_RETURN(std::string quoted, offlinestore::QualifiedColumn("q", name));
      ASSIGN_OR_RETURN(std::string expression, offlinestore::FeatureExpression(quoted, type));
      selects.push_back(expression);
      return absl::OkStatus();
    };
    auto add_header = [&](const std::string& name, ValueType::Enum type) {
      v1::Column* column = header.mutable_header()->add_columns();
      column->set_name(name);
      column->set_dtype(type);
    };
    for (const EntityColumn& c : entity_columns) {
      RETURN_IF_ERROR(select(c.name, c.type));
      add_header(c.name, c.type);
    }
    // Index of each view's first feature among the SQL's columns.
    std::vector<size_t> first_feature;
    for (const ViewSource& view : views) {
      first_feature.push_back(types.size());
      for (const ViewSource::Feature& f : view.features) {
        RETURN_IF_ERROR(select(absl::StrCat(view.name, "__", f.name),
                               f.type == ValueType::INVALID ? ValueType::STRING : f.type));
      }
    }
    for (const OutputColumn& c : plan.outputs) add_header(c.name, c.type);
    if (!send(header)) return absl::CancelledError("the caller went away");
    offlinestore::CopyReader reader(
        tx, absl::StrCat("SELECT ", absl::StrJoin(selects, ", "), " FROM (", joined, ") q"));
    std::vector<std::optional<std::string>> fields;
    std::vector<types::v1::Value> values;
    std::vector<const types::v1::Value*> inputs;
    std::vector<std::vector<absl::StatusOr<types::v1::Value>>> computed(on_demand.size());
    std::vector<types::v1::Value> request_values;
    int64_t failed_outputs = 0;
    // Per on-demand view, whether each output is asked for (only those are evaluated).
    std::vector<std::vector<bool>> wanted;
    for (const OnDemandAsk& od : on_demand) {
      std::vector<bool>& w = wanted.emplace_back(od.program->outputs().size(), false);
      for (int o : od.outputs) w[o] = true;
    }
    v1::GetHistoricalFeaturesResponse batch;
    size_t line = 0;
    while (true) {
      ASSIGN_OR_RETURN(bool more, reader.Next(&fields));
      if (more) {
        ++line;
        if (fields.size() != types.size()) {
          return absl::DataLossError("a joined row does not have the header's columns");
        }
        values.resize(fields.size());
        for (size_t c = 0; c < fields.size(); ++c) {
          absl::StatusOr<types::v1::Value> value =
              offlinestore::ParseFeatureText(fields[c], types[c]);
          if (!value.ok()) {
            return absl::InvalidArgumentError(absl::StrCat(
                "entity row ", line, ", column ", sql_names[c], ": ", value.status().message()));
          }
          values[c] = std::move(*value);
        }
        // On-demand views, with the engine serving runs: an output whose expression fails for
        // this row is null, the row's other values unaffected.
        for (size_t o = 0; o < on_demand.size(); ++o) {
          inputs.clear();
          request_values.assign(on_demand[o].inputs.size(), types::v1::Value());
          absl::Status request_status;
          for (size_t i = 0; i < on_demand[o].inputs.size(); ++i) {
            const OnDemandAsk::Input& in = on_demand[o].inputs[i];
            if (in.entity_column >= 0) {
              absl::StatusOr<types::v1::Value> converted = transforms::ConvertValue(
                  values[in.entity_column], on_demand[o].program->inputs()[i].type);
              if (converted.ok()) {
                request_values[i] = std::move(*converted);
              } else {
                request_status = converted.status();  // out of INT32's range, say
              }
              inputs.push_back(&request_values[i]);
            } else if (in.view >= 0) {
              inputs.push_back(&values[first_feature[in.view] + in.feature]);
            } else {
              inputs.push_back(nullptr);
            }
          }
          // A write-time view without a source row in its TTL: nothing was stored, null.
          if (on_demand[o].row_time_view >= 0 &&
              values[first_feature[on_demand[o].row_time_view] + on_demand[o].row_time_feature]
                      .val_case() != types::v1::Value::kUnixTimestampVal) {
            request_status = absl::NotFoundError("no source row");
          }
          if (request_status.ok()) {
            on_demand[o].program->Evaluate(inputs, &computed[o], &wanted[o]);
          } else {
            computed[o].assign(on_demand[o].program->outputs().size(), request_status);
          }
        }
        v1::Row* row = batch.mutable_batch()->add_rows();
        for (size_t c = 0; c < entity_columns.size(); ++c) *row->add_values() = values[c];
        for (const OutputColumn& c : plan.outputs) {
          if (c.view >= 0) {
            *row->add_values() = values[first_feature[c.view] + c.feature];
            continue;
          }
          const absl::StatusOr<types::v1::Value>& out = computed[c.on_demand][c.output];
          types::v1::Value* value = row->add_values();
          if (out.ok()) {
            *value = *out;
          } else {
            value->set_null_val(types::v1::NULL_);
            // Failed, as opposed to not computed for want of a stored source row.
            if (absl::IsInvalidArgument(out.status())) ++failed_outputs;
          }
          if (value->val_case() == types::v1::Value::VAL_NOT_SET) {
            value->set_null_val(types::v1::NULL_);
          }
        }
      }
      const bool full = static_cast<size_t>(batch.batch().rows_size()) >= options_.batch_rows;
      if ((full || !more) && batch.batch().rows_size() > 0) {
        if (!send(batch)) return absl::CancelledError("the caller went away");
        batch.Clear();
      }
      if (!more) break;
    }
    if (failed_outputs > 0 && options_.on_demand_failed) options_.on_demand_failed(failed_outputs);
    tx.commit();
    return absl::OkStatus();
  };
  absl::Status status = offline_->WithConnection([&](pqxx::connection& conn) {
    absl::Status joined;
    try {
      joined = join(conn);
    } catch (const std::exception& e) {
      joined = pg::StatusFromException(e);
    }
    if (conn.is_open()) {
      // Whatever the SQL that ran did to the session (settings, session advisory locks, the
      // temporary table), none of it reaches the pool's next user.
      try {
        pqxx::nontransaction reset(conn);
        reset.exec("DISCARD ALL");
      } catch (const std::exception&) {
        conn.disconnect();
      }
    }
    return joined;
  });
  const std::string state = pg::SqlState(status);
  const char* const what = request.entity_sql().empty()
                               ? "the entity rows or a feature view's source query"
                               : "entity_sql or a feature view's source query";
  if (state == "25006") {
    // The caller's query (or a source's) tried to write: the request is what is wrong.
    return absl::InvalidArgumentError(
        absl::StrCat(what, " tried to write in the read-only retrieval: ", status.message()));
  }
  if (state == "57014") {
    return absl::DeadlineExceededError(
        absl::StrCat("the retrieval ran past its time limit: ", status.message()));
  }
  if (state.rfind("22", 0) == 0 || state == "42883" || state == "42804") {
    // A value out of range or keys of another type than the views': the rows asked about.
    return absl::InvalidArgumentError(absl::StrCat(what, ": ", status.message()));
  }
  return status;
}

}  // namespace granary::materializer
