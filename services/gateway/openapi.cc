// The HTTP routes as served, and their OpenAPI 3 document (GET /openapi.json). A test checks
// that every documented route is served and every served one documented.
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"

#include "services/gateway/http_api.h"

namespace granary::gateway {
namespace {

using json = nlohmann::json;

json Ref(const std::string& name) {
  return {{"$ref", absl::StrCat("#/components/schemas/", name)}};
}

json JsonBody(const json& schema) {
  return {{"required", true}, {"content", {{"application/json", {{"schema", schema}}}}}};
}

json Responses(const json& ok_schema) {
  json responses = {
      {"200",
       {{"description", "OK"}, {"content", {{"application/json", {{"schema", ok_schema}}}}}}}};
  for (const auto& [code, what] : std::vector<std::pair<std::string, std::string>>{
           {"400", "bad input; the message names the field"},
           {"401", "no or bad credentials"},
           {"403", "a permission is missing; the message names the action and the object"},
           {"404", "no such route or object"},
           {"413", "body over the limit"},
           {"429", "rate limit reached (Retry-After says when to retry)"},
           {"503", "a backend is down"}}) {
    responses[code] = {{"description", what},
                       {"content", {{"application/json", {{"schema", Ref("Error")}}}}}};
  }
  return responses;
}

json Type(const char* type) { return {{"type", type}}; }

json ArrayOf(const json& items) { return {{"type", "array"}, {"items", items}}; }

json Object(const json& properties, const std::vector<std::string>& required = {}) {
  json schema = {{"type", "object"}, {"properties", properties}};
  if (!required.empty()) schema["required"] = required;
  return schema;
}

json Schemas() {
  json columns = {{"type", "object"}, {"additionalProperties", ArrayOf(json::object())}};
  json time = {{"type", "string"}, {"format", "date-time"}};
  json statuses = Type("string");
  statuses["enum"] = {"INVALID", "PRESENT", "NULL_VALUE", "NOT_FOUND", "OUTSIDE_MAX_AGE"};
  json result = Object({{"values", ArrayOf(json::object())},
                        {"statuses", ArrayOf(statuses)},
                        {"event_timestamps", ArrayOf(time)}});
  json to = Type("string");
  to["enum"] = {"online", "offline", "online_and_offline"};
  json schemas;
  schemas["Error"] = Object({{"code", Type("string")}, {"message", Type("string")}});
  schemas["OnlineFeaturesRequest"] = Object({{"entities", columns},
                                             {"features", ArrayOf(Type("string"))},
                                             {"feature_service", Type("string")},
                                             {"full_feature_names", Type("boolean")},
                                             {"request_context", columns},
                                             {"project", Type("string")}},
                                            {"entities"});
  schemas["OnlineFeaturesResponse"] =
      Object({{"metadata", Object({{"feature_names", ArrayOf(Type("string"))}})},
              {"results", ArrayOf(result)}});
  schemas["PushRequest"] = Object({{"push_source_name", Type("string")},
                                   {"df", columns},
                                   {"to", to},
                                   {"project", Type("string")}},
                                  {"push_source_name", "df"});
  schemas["WriteToOnlineStoreRequest"] =
      Object({{"feature_view_name", Type("string")}, {"df", columns}, {"project", Type("string")}},
             {"feature_view_name", "df"});
  schemas["MaterializeRequest"] = Object({{"start_ts", time},
                                          {"end_ts", time},
                                          {"feature_views", ArrayOf(Type("string"))},
                                          {"project", Type("string")}},
                                         {"start_ts", "end_ts"});
  schemas["MaterializeIncrementalRequest"] = Object(
      {{"end_ts", time}, {"feature_views", ArrayOf(Type("string"))}, {"project", Type("string")}},
      {"end_ts"});
  schemas["Object"] = {{"type", "object"}, {"description", "a Granary message as proto JSON"}};
  return schemas;
}

json PathParam(const std::string& name, const std::string& what) {
  return {{"name", name},
          {"in", "path"},
          {"required", true},
          {"schema", {{"type", "string"}}},
          {"description", what}};
}

}  // namespace

const std::vector<HttpRoute>& HttpApi::Routes() {
  static const auto* routes = new std::vector<HttpRoute>{
      {"POST", "/get-online-features", "Latest feature values for entity rows (Feast's shape)"},
      {"POST", "/push", "Push rows to a push source, online and/or offline (Feast's shape)"},
      {"POST", "/write-to-online-store", "Write a view's rows online (Feast's shape)"},
      {"POST", "/materialize", "Start a materialization job over [start_ts, end_ts)"},
      {"POST", "/materialize-incremental", "Start a job from each view's last end to end_ts"},
      {"GET", "/health", "200 while the gateway runs"},
      {"GET", "/api/v1/projects", "Projects the caller may describe"},
      {"GET", "/api/v1/projects/{project}", "One project"},
      // Before the {kind} template they would otherwise fall under.
      {"GET", "/api/v1/projects/{project}/history",
       "Committed changes, newest first, with their diffs (page_size, page_token)"},
      {"GET", "/api/v1/projects/{project}/jobs",
       "Materialization jobs, newest first (state, page_size, page_token)"},
      {"GET", "/api/v1/projects/{project}/health",
       "Per feature view: the newest event online against its TTL, pushed rows per second, "
       "dead letters; and the latest jobs"},
      {"GET", "/api/v1/projects/{project}/{kind}",
       "Objects of a kind the caller may describe (tag=key:value, page_size, page_token)"},
      {"GET", "/api/v1/projects/{project}/{kind}/{name}", "One object"},
      {"GET", "/openapi.json", "This document"},
      {"GET", "/docs", "This document as a page"},
      {"GET", "/ui/", "The discovery UI: catalog, search, lineage, health, try-it"},
      {"GET", "/ui/config.json", "How the UI signs in (no secrets)"},
  };
  return *routes;
}

json HttpApi::OpenApi() {
  json paths = json::object();
  const std::map<std::string, std::pair<std::string, std::string>> bodies = {
      {"/get-online-features", {"OnlineFeaturesRequest", "OnlineFeaturesResponse"}},
      {"/push", {"PushRequest", "Object"}},
      {"/write-to-online-store", {"WriteToOnlineStoreRequest", "Object"}},
      {"/materialize", {"MaterializeRequest", "Object"}},
      {"/materialize-incremental", {"MaterializeIncrementalRequest", "Object"}},
  };
  for (const HttpRoute& route : Routes()) {
    json op = {{"summary", route.summary}};
    auto body = bodies.find(route.path);
    if (body != bodies.end()) {
      op["requestBody"] = JsonBody(Ref(body->second.first));
      op["responses"] = Responses(Ref(body->second.second));
    } else {
      op["responses"] = Responses(Ref("Object"));
    }
    json params = json::array();
    if (route.path.find("{project}") != std::string::npos) {
      params.push_back(PathParam("project", "project name"));
    }
    if (route.path.find("{kind}") != std::string::npos) {
      json kind = PathParam("kind", "kind of object");
      kind["schema"]["enum"] = {"entities",         "data-sources",
                                "feature-views",    "on-demand-feature-views",
                                "feature-services", "permissions"};
      params.push_back(kind);
    }
    if (route.path.find("{name}") != std::string::npos) {
      params.push_back(PathParam("name", "object name"));
    }
    const bool tagged =
        route.path == "/api/v1/projects/{project}/{kind}" || route.path == "/api/v1/projects";
    const bool paged =
        tagged || absl::EndsWith(route.path, "/history") || absl::EndsWith(route.path, "/jobs");
    if (tagged) {
      params.push_back({{"name", "tag"},
                        {"in", "query"},
                        {"schema", {{"type", "string"}}},
                        {"description", "key:value; repeat to require several"}});
    }
    if (absl::EndsWith(route.path, "/jobs")) {
      params.push_back({{"name", "state"},
                        {"in", "query"},
                        {"schema", {{"type", "string"}}},
                        {"description", "only jobs in this state (PENDING, RUNNING, ...)"}});
    }
    if (paged) {
      params.push_back({{"name", "page_size"}, {"in", "query"}, {"schema", {{"type", "integer"}}}});
      params.push_back({{"name", "page_token"}, {"in", "query"}, {"schema", {{"type", "string"}}}});
    }
    if (!params.empty()) op["parameters"] = params;
    if (route.path == "/ui/") {
      json page = {{"description", "the page"},
                   {"content", {{"text/html", {{"schema", Type("string")}}}}}};
      op["responses"] = {{"200", page}};
    }
    if (route.path != "/health" && route.path != "/openapi.json" && route.path != "/docs" &&
        !IsUiPath(route.path)) {
      op["security"] = {{{"bearer", json::array()}}};
    }
    std::string method = route.method == "GET" ? "get" : "post";
    paths[route.path][method] = op;
  }
  return {{"openapi", "3.0.3"},
          {"info",
           {{"title", "Granary HTTP API"},
            {"version", "1"},
            {"description",
             "Feast's feature-server routes and a read-only registry view, behind the gateway's "
             "authentication and permissions."}}},
          {"paths", paths},
          {"components",
           {{"schemas", Schemas()},
            {"securitySchemes",
             {{"bearer", {{"type", "http"}, {"scheme", "bearer"}, {"bearerFormat", "JWT"}}}}}}}};
}

}  // namespace granary::gateway
