#include "tools/cli/serving_commands.h"

#include <iostream>
#include <memory>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "granary/registry/v1/registry_service.grpc.pb.h"
#include "granary/serving/v1/serving.grpc.pb.h"
#include "grpcpp/grpcpp.h"

#include "libs/base/grpc_status.h"
#include "libs/base/proto_time.h"
#include "libs/base/status_macros.h"
#include "libs/feast_json/online_features_json.h"
#include "libs/feast_json/value_json.h"
#include "tools/cli/command.h"
#include "tools/cli/entity_types.h"
#include "tools/cli/output.h"
#include "tools/cli/push_value.h"

namespace granary::cli {
namespace {

using types::v1::Value;
using types::v1::ValueType;

constexpr absl::Duration kTimeout = absl::Seconds(10);

// An entity value typed as its entity declares it (or as guessed for its column), through the
// conversion `granary push` uses for cells.
absl::StatusOr<Value> TypedValue(const std::string& text, ValueType::Enum type,
                                 const std::string& where, CellContext& cx) {
  absl::StatusOr<Value> v = TextValue(text, type, cx);
  if (!v.ok()) {
    return absl::InvalidArgumentError(absl::StrCat(where, ": ", v.status().message(), " (",
                                                   ValueType::Enum_Name(type), " entity)"));
  }
  return v;
}

// One "name=value,value,..." flag as a typed column of `columns`: typed as the registry declares
// the name, else as `granary push` types a file without a schema.
absl::Status AddColumn(absl::string_view flag, absl::string_view what, const std::string& text,
                       const std::map<std::string, ValueType::Enum>& types,
                       google::protobuf::Map<std::string, types::v1::RepeatedValue>* columns) {
  size_t eq = text.find('=');
  if (eq == std::string::npos || eq == 0) {
    return absl::InvalidArgumentError(absl::StrCat(flag, ": expected ", what,
                                                   "=value,value,... (e.g. driver_id=1001,1002), "
                                                   "got \"",
                                                   text, "\""));
  }
  std::string name = text.substr(0, eq);
  auto it = types.find(name);
  ValueType::Enum type = it == types.end() ? ValueType::INVALID : it->second;
  auto& column = (*columns)[name];
  if (column.val_size() > 0) {
    return absl::InvalidArgumentError(absl::StrCat(flag, ": ", name, " given twice"));
  }
  std::vector<std::string> texts = absl::StrSplit(text.substr(eq + 1), ',');
  CellContext cx{.now = absl::Now()};
  if (type == ValueType::INVALID) type = GuessType(texts, cx);
  for (size_t i = 0; i < texts.size(); ++i) {
    absl::StatusOr<Value> v =
        TypedValue(texts[i], type, absl::StrCat(flag, " ", name, "[", i, "]"), cx);
    if (!v.ok()) return v.status();
    *column.add_val() = *std::move(v);
  }
  return absl::OkStatus();
}

std::string Show(const Value& v) {
  switch (v.val_case()) {
    case Value::kStringVal:
      return v.string_val();
    case Value::kInt32Val:
      return absl::StrCat(v.int32_val());
    case Value::kInt64Val:
      return absl::StrCat(v.int64_val());
    case Value::kUnixTimestampVal:
      return absl::FormatTime("%Y-%m-%dT%H:%M:%SZ", absl::FromUnixSeconds(v.unix_timestamp_val()),
                              absl::UTCTimeZone());
    case Value::kDoubleVal:
      return absl::StrCat(v.double_val());
    case Value::kFloatVal:
      return absl::StrCat(v.float_val());
    case Value::kBoolVal:
      return v.bool_val() ? "true" : "false";
    case Value::kNullVal:
    case Value::VAL_NOT_SET:
      return "null";
    default:
      // Bytes and lists: the JSON form says it all.
      return feast_json::ValueJson(v);
  }
}

}  // namespace

absl::StatusOr<serving::v1::GetOnlineFeaturesRequest> BuildOnlineRequest(
    const OnlineQuery& query, const std::map<std::string, ValueType::Enum>& types) {
  serving::v1::GetOnlineFeaturesRequest req;
  req.set_project(query.project);
  req.set_full_feature_names(query.full_feature_names);
  if (query.feature_service.empty() == query.features.empty()) {
    return absl::InvalidArgumentError("give --features or --feature-service (one of them)");
  }
  if (!query.feature_service.empty()) req.set_feature_service(query.feature_service);
  for (const std::string& list : query.features) {
    for (absl::string_view ref : absl::StrSplit(list, ',', absl::SkipWhitespace())) {
      req.mutable_features()->add_val(std::string(absl::StripAsciiWhitespace(ref)));
    }
  }
  if (!query.features.empty() && req.features().val().empty()) {
    return absl::InvalidArgumentError("--features: no feature references");
  }
  for (const std::string& entity : query.entities) {
    RETURN_IF_ERROR(AddColumn("--entity", "join_key", entity, types, req.mutable_entities()));
  }
  for (const std::string& column : query.request) {
    RETURN_IF_ERROR(AddColumn("--request", "column", column, types, req.mutable_request_context()));
  }
  return req;
}

std::vector<std::vector<std::string>> OnlineTable(
    const serving::v1::GetOnlineFeaturesResponse& response, int join_keys) {
  const auto& names = response.metadata().feature_names().val();
  std::vector<std::string> header(names.begin(), names.begin() + join_keys);
  for (const char* column : {"feature", "value", "status", "event_time"}) header.push_back(column);
  std::vector<std::vector<std::string>> rows = {header};
  int entity_rows = response.results_size() > 0 ? response.results(0).values_size() : 0;
  for (int r = 0; r < entity_rows; ++r) {
    for (int c = join_keys; c < response.results_size(); ++c) {
      const auto& column = response.results(c);
      std::vector<std::string> row;
      for (int k = 0; k < join_keys; ++k) row.push_back(Show(response.results(k).values(r)));
      auto status = static_cast<serving::v1::FieldStatus>(column.statuses(r));
      bool found = status == serving::v1::PRESENT || status == serving::v1::NULL_VALUE;
      row.push_back(names[c]);
      row.push_back(found ? Show(column.values(r)) : "-");
      row.push_back(serving::v1::FieldStatus_Name(status));
      const auto& ts = column.event_timestamps(r);
      row.push_back(status == serving::v1::NOT_FOUND
                        ? "-"
                        : absl::FormatTime("%Y-%m-%dT%H:%M:%E*SZ", base::FromProtoTime(ts),
                                           absl::UTCTimeZone()));
      rows.push_back(std::move(row));
    }
  }
  return rows;
}

int GetOnlineFeatures(const Target& serving, const Target& registry, const OnlineQuery& query,
                      CommandIo io) {
  absl::StatusOr<serving::v1::GetOnlineFeaturesRequest> req = BuildOnlineRequest(
      query, EntityTypes(registry, query.project, "get-online-features", io.err));
  if (!req.ok()) {
    io.err << "granary get-online-features: " << req.status().message() << "\n";
    return kExitUsage;
  }
  auto stub = serving::v1::ServingService::NewStub(OpenChannel(serving));
  serving::v1::GetOnlineFeaturesResponse resp;
  grpc::ClientContext ctx;
  ctx.set_deadline(absl::ToChronoTime(absl::Now() + kTimeout));
  grpc::Status s = stub->GetOnlineFeatures(&ctx, *req, &resp);
  if (!s.ok()) {
    absl::Status status = base::FromGrpcStatus(s);
    io.err << "granary get-online-features: " << status.message() << " ("
           << absl::StatusCodeToString(status.code()) << ", serving at " << serving.address << ")"
           << AuthHint(serving, status.code()) << "\n";
    return kExitFailure;
  }
  if (io.json) {
    io.out << feast_json::OnlineResponseToJson(resp).dump(2) << "\n";
    return 0;
  }
  // The join keys come first: as many as the request had entity columns.
  PrintTable(OnlineTable(resp, req->entities_size()), io.out);
  return 0;
}

void AddServingCommands(CLI::App& app, int* exit_code) {
  struct State {
    RepoFlags flags;
    OnlineQuery query;
    std::string serving;
  };
  auto s = std::make_shared<State>();
  CLI::App* cmd = app.add_subcommand("get-online-features",
                                     "The latest feature values of some entities, from serving");
  cmd->add_option("--features,-f", s->query.features,
                  "view:feature references, comma-separated (repeatable)");
  cmd->add_option("--feature-service,-s", s->query.feature_service,
                  "A feature service instead of --features");
  cmd->add_option("--entity,-e", s->query.entities,
                  "join_key=value,value,... (repeatable, one per join key; none for views "
                  "without entities)");
  cmd->add_option("--request", s->query.request,
                  "column=value,value,... for on-demand views' request sources (repeatable, one "
                  "value per entity row)");
  cmd->add_flag("--full-feature-names", s->query.full_feature_names,
                "Name features <view>__<feature>");
  cmd->add_option("--serving", s->serving,
                  "serving, host:port (default: granary.yaml serving_endpoint, else through "
                  "the gateway)");
  AddRepoFlags(cmd, s->flags);
  cmd->callback([cmd, s, exit_code] {
    // Project, registry and serving: flags first, then granary.yaml, then the defaults.
    absl::StatusOr<RepoConfig> defaults = RepoDefaults(s->flags.repo);
    if (!defaults.ok()) {
      return void(*exit_code = Failure("get-online-features", defaults.status().message()));
    }
    absl::StatusOr<Targets> targets = ResolveTargets(
        GlobalFlagsOf(cmd), {.registry = s->flags.registry, .serving = s->serving}, *defaults);
    if (!targets.ok()) {
      return void(*exit_code = Failure("get-online-features", targets.status().message()));
    }
    s->query.project = Either(s->flags.project, defaults->project.name());
    *exit_code = GetOnlineFeatures(targets->serving, targets->registry, s->query,
                                   {std::cout, std::cerr, s->flags.json});
  });
}

}  // namespace granary::cli
