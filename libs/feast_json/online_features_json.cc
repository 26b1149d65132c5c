#include "libs/feast_json/online_features_json.h"

#include <algorithm>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/time.h"

#include "libs/base/proto_time.h"
#include "libs/base/status_macros.h"
#include "libs/feast_json/json_kind.h"
#include "libs/feast_json/json_writer.h"
#include "libs/feast_json/value_json.h"

namespace granary::feast_json {
namespace {

using nlohmann::json;
using serving::v1::GetOnlineFeaturesRequest;
using serving::v1::GetOnlineFeaturesResponse;
using ColumnMap = google::protobuf::Map<std::string, types::v1::RepeatedValue>;

constexpr char kEntities[] = "entities";
constexpr char kFeatures[] = "features";
constexpr char kFeatureService[] = "feature_service";
constexpr char kFullFeatureNames[] = "full_feature_names";
constexpr char kRequestContext[] = "request_context";
constexpr char kProject[] = "project";
constexpr const char* kKnownFields[] = {kEntities,         kFeatures,       kFeatureService,
                                        kFullFeatureNames, kRequestContext, kProject};

absl::Status Invalid(absl::string_view field, absl::string_view problem) {
  return absl::InvalidArgumentError(absl::StrCat(field, ": ", problem));
}

absl::Status Prefixed(absl::string_view field, const absl::Status& status) {
  return absl::Status(status.code(), absl::StrCat(field, ": ", status.message()));
}

std::string Quoted(const std::string& key) {
  return json(key).dump(-1, ' ', false, json::error_handler_t::replace);
}

void AppendStatus(int status, std::string* out) {
  if (serving::v1::FieldStatus_IsValid(status)) {
    AppendJsonString(serving::v1::FieldStatus_Name(static_cast<serving::v1::FieldStatus>(status)),
                     out);
  } else {
    AppendJsonInt(status, out);  // A newer server's status: its number, not a made-up name.
  }
}

absl::StatusOr<json> ParseBody(absl::string_view body) {
  try {
    return json::parse(body.begin(), body.end());
  } catch (const json::exception& e) {
    // what() starts with "[json.exception.parse_error.101] ", which says nothing to a user.
    absl::string_view message = e.what();
    const size_t bracket = message.find("] ");
    if (!message.empty() && message[0] == '[' && bracket != absl::string_view::npos) {
      message.remove_prefix(bracket + 2);
    }
    return Invalid("body", absl::StrCat("not JSON: ", message));
  }
}

absl::Status RejectUnknownFields(const json& root) {
  std::vector<std::string> unknown;
  for (const auto& item : root.items()) {
    bool known = false;
    for (const char* field : kKnownFields) known = known || item.key() == field;
    if (!known) unknown.push_back(Quoted(item.key()));
  }
  if (unknown.empty()) return absl::OkStatus();
  return Invalid("body", absl::StrCat(unknown.size() == 1 ? "unknown field " : "unknown fields ",
                                      absl::StrJoin(unknown, ", "), " (expected ",
                                      absl::StrJoin(kKnownFields, ", "), ")"));
}

// The member, or nullptr when it is absent or null.
const json* Member(const json& root, const char* field) {
  const auto it = root.find(field);
  if (it == root.end() || it->is_null()) return nullptr;
  return &*it;
}

// A column-wise table, {"name": [value, ...], ...}, as entities and request_context are.
absl::Status ParseColumns(const char* field, const json& table, ColumnMap* out) {
  if (!table.is_object()) {
    return Invalid(field,
                   absl::StrCat("expected an object of column name -> list of values, found ",
                                Describe(table)));
  }
  for (const auto& [name, column] : table.items()) {
    const std::string path = absl::StrCat(field, ".", name);
    if (name.empty()) return Invalid(field, "a column name is empty");
    if (!column.is_array()) {
      return Invalid(path, absl::StrCat("expected a list of values, one per entity row, found ",
                                        Describe(column)));
    }
    types::v1::RepeatedValue& values = (*out)[name];
    values.mutable_val()->Reserve(static_cast<int>(column.size()));
    for (size_t row = 0; row < column.size(); ++row) {
      absl::StatusOr<types::v1::Value> value = ValueFromJson(column[row]);
      if (!value.ok()) return Prefixed(absl::StrCat(path, "[", row, "]"), value.status());
      *values.add_val() = *std::move(value);
    }
  }
  return absl::OkStatus();
}

// Every column has one value per entity row; the first column met sets the row count.
absl::Status CheckRowCounts(const GetOnlineFeaturesRequest& request) {
  std::string first;
  int rows = -1;
  const auto check = [&](const char* field, const ColumnMap& table) {
    // Map order is unspecified; sorted names give the same message every time.
    std::vector<std::string> names;
    for (const auto& entry : table) names.push_back(entry.first);
    std::sort(names.begin(), names.end());
    for (const std::string& name : names) {
      const int size = table.at(name).val_size();
      const std::string path = absl::StrCat(field, ".", name);
      if (rows < 0) {
        first = path;
        rows = size;
      } else if (size != rows) {
        return Invalid(path, absl::StrCat("has ", size, " values but ", first, " has ", rows,
                                          "; every column needs one value per entity row"));
      }
    }
    return absl::OkStatus();
  };
  RETURN_IF_ERROR(check(kEntities, request.entities()));
  return check(kRequestContext, request.request_context());
}

absl::Status ParseFeatures(const json& features, GetOnlineFeaturesRequest* request) {
  if (!features.is_array()) {
    return Invalid(kFeatures, absl::StrCat("expected a list of strings (\"view:feature\"), found ",
                                           Describe(features)));
  }
  if (features.empty()) {
    return Invalid(kFeatures, "expected a list of strings (\"view:feature\"), found an empty list");
  }
  auto* list = request->mutable_features()->mutable_val();
  list->Reserve(static_cast<int>(features.size()));
  for (size_t i = 0; i < features.size(); ++i) {
    if (!features[i].is_string()) {
      return Invalid(
          absl::StrCat(kFeatures, "[", i, "]"),
          absl::StrCat("expected a string (\"view:feature\"), found ", Describe(features[i])));
    }
    list->Add(features[i].get<std::string>());
  }
  return absl::OkStatus();
}

}  // namespace

std::string OnlineResponseJson(const GetOnlineFeaturesResponse& response) {
  std::string out;
  // ~40 bytes a cell (value, status, time) and a name per column: one allocation, mostly.
  int cells = 0;
  for (const auto& vector : response.results()) cells += vector.values_size();
  out.reserve(64 + 48 * response.results_size() + 56 * static_cast<size_t>(cells));
  out += R"({"metadata":{"feature_names":)";
  AppendJsonArray(response.metadata().feature_names().val(), AppendJsonString, &out);
  out += R"(},"results":[)";
  for (int c = 0; c < response.results_size(); ++c) {
    const GetOnlineFeaturesResponse::FeatureVector& vector = response.results(c);
    out += c > 0 ? R"(,{"values":)" : R"({"values":)";
    AppendJsonArray(vector.values(), AppendValueJson, &out);
    out += R"(,"statuses":)";
    AppendJsonArray(vector.statuses(), AppendStatus, &out);
    out += R"(,"event_timestamps":)";
    AppendJsonArray(
        vector.event_timestamps(),
        [](const google::protobuf::Timestamp& ts, std::string* o) {
          AppendJsonTime(base::FromProtoTime(ts), o);
        },
        &out);
    out += '}';
  }
  out += "]}";
  return out;
}

json OnlineResponseToJson(const GetOnlineFeaturesResponse& response) {
  return json::parse(OnlineResponseJson(response));
}

absl::StatusOr<GetOnlineFeaturesRequest> OnlineRequestFromJson(absl::string_view body) {
  ASSIGN_OR_RETURN(const json root, ParseBody(body));
  if (!root.is_object()) {
    return Invalid("body", absl::StrCat("expected a JSON object, found ", Describe(root)));
  }
  RETURN_IF_ERROR(RejectUnknownFields(root));

  GetOnlineFeaturesRequest request;
  const json* entities = Member(root, kEntities);
  if (entities == nullptr) {
    return Invalid(kEntities, "required: an object of join key -> list of values, one per row");
  }
  RETURN_IF_ERROR(ParseColumns(kEntities, *entities, request.mutable_entities()));
  if (const json* context = Member(root, kRequestContext)) {
    RETURN_IF_ERROR(ParseColumns(kRequestContext, *context, request.mutable_request_context()));
  }
  RETURN_IF_ERROR(CheckRowCounts(request));

  const json* features = Member(root, kFeatures);
  const json* service = Member(root, kFeatureService);
  if ((features == nullptr) == (service == nullptr)) {
    return Invalid("body", absl::StrCat(R"(give exactly one of "features" and "feature_service", )",
                                        "found ", features == nullptr ? "neither" : "both"));
  }
  if (features != nullptr) {
    RETURN_IF_ERROR(ParseFeatures(*features, &request));
  } else {
    if (!service->is_string() || service->get_ref<const std::string&>().empty()) {
      return Invalid(kFeatureService,
                     absl::StrCat("expected a feature service name, found ", Describe(*service)));
    }
    request.set_feature_service(service->get<std::string>());
  }

  if (const json* full_names = Member(root, kFullFeatureNames)) {
    if (!full_names->is_boolean()) {
      return Invalid(kFullFeatureNames,
                     absl::StrCat("expected a bool, found ", Describe(*full_names)));
    }
    request.set_full_feature_names(full_names->get<bool>());
  }
  if (const json* project = Member(root, kProject)) {
    if (!project->is_string()) {
      return Invalid(kProject, absl::StrCat("expected a string, found ", Describe(*project)));
    }
    request.set_project(project->get<std::string>());
  }
  return request;
}

}  // namespace granary::feast_json
