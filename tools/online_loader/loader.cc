#include "tools/online_loader/loader.h"

#include <fstream>
#include <sstream>
#include <utility>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "granary/registry/v1/registry_service.grpc.pb.h"
#include "grpcpp/grpcpp.h"

#include "libs/base/grpc_status.h"
#include "libs/base/proto_time.h"
#include "libs/base/status_macros.h"
#include "libs/config/reader.h"
#include "libs/keys/entity_key.h"
#include "libs/keys/hash_field.h"
#include "libs/onlinestore/redis_online_store.h"
#include "libs/rpc/health.h"
#include "tools/online_loader/value_text.h"

namespace granary::online_loader {
namespace {

using registry::v1::FeatureView;
using registry_client::Catalog;
using types::v1::Value;
using types::v1::ValueType;

// The row key that is not a column: how long before now the row's event time is.
constexpr char kAgeKey[] = "age";

// What Reader::String returns for a value that is not a single one (a list or a mapping); it
// has then recorded the problem. A NUL cannot appear in a plain YAML scalar.
const std::string& NotAScalar() {
  static const std::string* const kText = new std::string("\0(not a scalar)", 15);
  return *kText;
}

// "30s", "5m", "2h", "1d", "1d12h": Abseil's durations, plus whole days as in the repo's ttl.
bool ParseAge(absl::string_view text, absl::Duration* age) {
  absl::Duration days = absl::ZeroDuration();
  size_t d = text.find('d');
  if (d != absl::string_view::npos) {
    int64_t n;
    if (!absl::SimpleAtoi(text.substr(0, d), &n)) return false;
    days = absl::Hours(24) * n;
    text = text.substr(d + 1);
  }
  absl::Duration rest = absl::ZeroDuration();
  if (!text.empty() && !absl::ParseDuration(text, &rest)) return false;
  *age = days + rest;
  return *age >= absl::ZeroDuration();
}

// A join key of the view's entities, as rows name it.
struct KeyColumn {
  std::string name;
  std::string entity;
  ValueType::Enum type;
};

// Reads one column of a row: true with *value set for a value, true with *value unset for a
// column left out, false (the problem recorded) for a bad one. `null` is a null Value.
bool ReadColumn(config::Reader& row, const std::string& column, ValueType::Enum type,
                Value* value) {
  value->Clear();
  if (!row.Has(column)) {
    // Present but null (Has is false for both): the key has a line.
    if (row.Line(column) > 0) {
      row.Skip(column);
      value->set_null_val(types::v1::NULL_);
    }
    return true;
  }
  absl::StatusOr<Value> parsed;
  if (IsListType(type)) {
    parsed = ParseListValue(type, row.StringList(column));
  } else {
    std::string text = row.String(column, NotAScalar());
    if (text == NotAScalar()) return false;
    parsed = ParseValue(type, text);
  }
  if (!parsed.ok()) {
    row.AddError(column, parsed.status().message());
    return false;
  }
  *value = *std::move(parsed);
  return true;
}

// Builds one view's writes from its section of the file; problems are recorded in the reader.
class ViewBuilder {
 public:
  ViewBuilder(const Catalog& catalog, absl::Time now) : catalog_(catalog), now_(now) {}

  // False when the view cannot be written at all (its rows are then not read).
  bool Resolve(config::Reader& view, const std::string& name) {
    view_ = catalog_.FindFeatureView(name);
    if (view_ == nullptr) {
      view.AddError("name", UnknownView(name));
      return false;
    }
    if (view_->has_online() && !view_->online()) {
      view.AddError("name", absl::StrCat("feature view ", name,
                                         " is not served online (online: false in the registry)"));
      return false;
    }
    for (const std::string& entity_name : view_->entities()) {
      const registry::v1::Entity* entity = catalog_.FindEntity(entity_name);
      if (entity == nullptr) {
        view.AddError("name", absl::StrCat("entity ", entity_name, " of feature view ", name,
                                           " is not in the registry"));
        return false;
      }
      keys_.push_back({entity->join_key().empty() ? entity->name() : entity->join_key(),
                       entity->name(), entity->value_type()});
    }
    write_.view = name;
    write_.view_version = view_->meta().created_version();
    for (const auto& field : view_->schema()) {
      write_.feature_fields.push_back(keys::FeatureField(name, field.name()));
    }
    for (const KeyColumn& key : keys_) {
      if (key.name == kAgeKey) return AgeConflict(view, "join key");
    }
    for (const auto& field : view_->schema()) {
      if (field.name() == kAgeKey) return AgeConflict(view, "feature");
    }
    return true;
  }

  void AddRow(config::Reader& row, size_t index) {
    absl::Duration age = absl::ZeroDuration();
    std::string age_text = row.String(kAgeKey, "0s");
    if (!ParseAge(age_text, &age)) {
      row.AddError(kAgeKey, absl::StrCat("expected how long ago, such as 30s, 5m, 2h, 1d or "
                                         "1d12h, got \"",
                                         age_text, "\""));
    }
    std::vector<std::pair<std::string, Value>> key_values;
    bool key_ok = true;
    for (const KeyColumn& key : keys_) {
      Value value;
      if (!ReadColumn(row, key.name, key.type, &value)) {
        key_ok = false;
      } else if (value.val_case() == Value::VAL_NOT_SET || value.has_null_val()) {
        // A key left out has no line of its own: point at the row's.
        std::string where =
            row.Line(key.name) > 0 ? "" : absl::StrCat(" (the row at line ", row.line(), ")");
        row.AddError(key.name, absl::StrCat("required: every row needs its ", key.name,
                                            ", the join key of entity ", key.entity, where));
        key_ok = false;
      } else {
        key_values.emplace_back(key.name, std::move(value));
      }
    }
    if (keys_.empty()) {
      key_values.emplace_back(keys::kDummyJoinKey, Value());
      key_values.back().second.set_string_val("");
    }

    onlinestore::RowWrite write;
    write.event_time = now_ - age;
    write.created_time = now_;
    write.values.resize(view_->schema_size());
    for (int i = 0; i < view_->schema_size(); ++i) {
      const auto& field = view_->schema(i);
      Value value;
      if (ReadColumn(row, field.name(), field.dtype(), &value) &&
          value.val_case() != Value::VAL_NOT_SET) {
        write.values[i] = value.SerializeAsString();
      }
    }
    if (!key_ok) return;
    absl::StatusOr<std::string> key = keys::RedisKey(std::move(key_values), catalog_.project());
    if (!key.ok()) {
      row.AddError(keys_.front().name, key.status().message());
      return;
    }
    auto [seen, inserted] = first_row_of_key_.emplace(*key, index);
    if (!inserted) {
      // The older of two rows would be skipped by the guarded write: surely a mistake. (A view
      // without entities has one key; BuildWrites reports its extra rows.)
      if (!keys_.empty()) {
        row.AddError(keys_.front().name,
                     absl::StrCat("the same entity as rows[", seen->second, "]"));
      }
      return;
    }
    write.key = *std::move(key);
    write_.rows.push_back(std::move(write));
  }

  bool has_entities() const { return !keys_.empty(); }
  onlinestore::ViewWrite Take() { return std::move(write_); }

 private:
  std::string UnknownView(const std::string& name) const {
    if (catalog_.FindOnDemandFeatureView(name) != nullptr) {
      return absl::StrCat(name,
                          " is an on-demand feature view: its features are computed at request "
                          "time, not stored");
    }
    std::vector<std::string> names;
    for (const FeatureView& fv : catalog_.repo().feature_views()) names.push_back(fv.name());
    return absl::StrCat("no feature view named \"", name, "\" in project ", catalog_.project(),
                        names.empty()
                            ? " (it has none)"
                            : absl::StrCat(" (its views: ", absl::StrJoin(names, ", "), ")"));
  }

  bool AgeConflict(config::Reader& view, absl::string_view what) {
    view.AddError("name", absl::StrCat("feature view ", view_->name(), " has a ", what,
                                       " named \"age\", which values files use for the row's "
                                       "age; it cannot be loaded this way"));
    return false;
  }

  const Catalog& catalog_;
  const absl::Time now_;
  const FeatureView* view_ = nullptr;
  std::vector<KeyColumn> keys_;
  onlinestore::ViewWrite write_;
  absl::flat_hash_map<std::string, size_t> first_row_of_key_;
};

}  // namespace

absl::StatusOr<ValuesFile> ReadValuesFile(const std::string& path) {
  std::ifstream in(path);
  if (!in) return absl::NotFoundError(absl::StrCat("cannot read values file ", path));
  std::ostringstream text;
  text << in.rdbuf();
  return ParseValuesFile(text.str(), path);
}

absl::StatusOr<ValuesFile> ParseValuesFile(std::string yaml, std::string source) {
  ASSIGN_OR_RETURN(config::Reader root, config::Reader::FromString(yaml, source));
  std::string project = root.String("project", "");
  if (project.empty()) {
    return absl::InvalidArgumentError(absl::StrCat(
        source, ": project: required (the project whose feature views the values are for)"));
  }
  return ValuesFile{std::move(source), std::move(yaml), std::move(project)};
}

absl::StatusOr<std::vector<ViewRows>> BuildWrites(const ValuesFile& file, const Catalog& catalog,
                                                  absl::Time now) {
  ASSIGN_OR_RETURN(config::Reader root, config::Reader::FromString(file.yaml, file.source));
  if (root.String("project", "") != catalog.project()) {
    root.AddError("project", absl::StrCat("the catalog given is project ", catalog.project()));
  }
  std::vector<ViewRows> out;
  absl::flat_hash_map<std::string, size_t> view_index;
  std::vector<config::Reader> views = root.List("views");
  if (views.empty()) {
    root.AddError("views", "required: a list of feature views, each with its rows");
  }
  for (size_t i = 0; i < views.size(); ++i) {
    config::Reader& view = views[i];
    std::string name = view.RequiredString("name");
    if (name.empty()) {
      view.Skip("rows");
      continue;
    }
    if (auto [it, inserted] = view_index.emplace(name, i); !inserted) {
      view.AddError("name", absl::StrCat("listed twice (also views[", it->second,
                                         "]): give all its rows in one place"));
    }
    ViewBuilder builder(catalog, now);
    if (!builder.Resolve(view, name)) {
      view.Skip("rows");
      continue;
    }
    std::vector<config::Reader> rows = view.List("rows");
    if (rows.empty()) {
      view.AddError("rows", "required: the view's rows, one mapping of columns to values each");
    }
    if (!builder.has_entities() && rows.size() > 1) {
      view.AddError("rows", absl::StrCat("feature view ", name,
                                         " has no entities, hence one row; got ", rows.size()));
    }
    for (size_t j = 0; j < rows.size(); ++j) builder.AddRow(rows[j], j);
    out.push_back({name, builder.Take()});
  }
  RETURN_IF_ERROR(root.Finish());
  return out;
}

absl::StatusOr<std::unique_ptr<const Catalog>> FetchCatalog(const std::string& registry_address,
                                                            const std::string& project,
                                                            absl::Duration timeout) {
  registry::v1::GetSnapshotRequest req;
  req.set_project(project);
  registry::v1::GetSnapshotResponse resp;
  grpc::ClientContext ctx;
  ctx.set_deadline(absl::ToChronoTime(absl::Now() + timeout));
  grpc::Status s = registry::v1::RegistryService::NewStub(rpc::InsecureChannel(registry_address))
                       ->GetSnapshot(&ctx, req, &resp);
  if (s.error_code() == grpc::StatusCode::NOT_FOUND) {
    return absl::NotFoundError(absl::StrCat("project ", project, " is not in the registry at ",
                                            registry_address, " (apply its repository first)"));
  }
  if (!s.ok()) {
    absl::Status status = base::FromGrpcStatus(s);
    return absl::Status(status.code(),
                        absl::StrCat("registry at ", registry_address, ": ", status.message()));
  }
  return std::make_unique<const Catalog>(std::move(*resp.mutable_snapshot()));
}

std::string Summary(const ViewResult& result) {
  std::string line = absl::StrCat(result.view, ": ", result.written,
                                  result.written == 1 ? " row" : " rows", " written");
  if (int64_t kept = result.rows - result.written; kept > 0) {
    absl::StrAppend(&line, ", ", kept, " left as stored (not newer than the stored row)");
  }
  return line;
}

absl::StatusOr<std::vector<ViewResult>> WriteViews(onlinestore::OnlineStore& store,
                                                   const std::vector<ViewRows>& views,
                                                   absl::Duration timeout) {
  std::unique_ptr<onlinestore::OnlineStoreSession> session = store.NewSession();
  std::vector<ViewResult> results;
  for (const ViewRows& view : views) {
    absl::StatusOr<onlinestore::WriteResult> written =
        session->WriteNewer(view.write, absl::Now() + timeout);
    if (!written.ok()) {
      return absl::Status(written.status().code(),
                          absl::StrCat("writing ", view.view, ": ", written.status().message()));
    }
    if (!written->wrong_type_rows.empty()) {
      return absl::FailedPreconditionError(
          absl::StrCat("writing ", view.view, ": ", written->wrong_type_rows.size(),
                       " rows have keys that hold something other than a hash in Redis"));
    }
    results.push_back({view.view, static_cast<int64_t>(view.write.rows.size()), written->written});
  }
  return results;
}

absl::StatusOr<std::vector<ViewResult>> Load(const LoadOptions& options, absl::Time now) {
  ASSIGN_OR_RETURN(ValuesFile file, ReadValuesFile(options.values_path));
  ASSIGN_OR_RETURN(std::unique_ptr<const Catalog> catalog,
                   FetchCatalog(options.registry_address, file.project, options.timeout));
  ASSIGN_OR_RETURN(std::vector<ViewRows> views, BuildWrites(file, *catalog, now));
  onlinestore::RedisOnlineStore store(options.redis);
  return WriteViews(store, views, options.timeout);
}

}  // namespace granary::online_loader
