#include "services/gateway/http_api.h"

#include <algorithm>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "google/protobuf/arena.h"
#include "google/protobuf/util/json_util.h"
#include "granary/ingestion/v1/ingestion.pb.h"
#include "granary/materialization/v1/materialization.pb.h"
#include "granary/serving/v1/serving.pb.h"

#include "libs/feast_json/online_features_json.h"
#include "libs/feast_json/push_json.h"
#include "libs/trace/span.h"
#include "libs/trace/trace_context.h"
#include "services/gateway/catalog_objects.h"
#include "services/gateway/proxy.h"

namespace granary::gateway {
namespace {

using json = nlohmann::json;
namespace mat = materialization::v1;

HttpResponse Json(int status, const json& body) {
  return {
      status, "application/json", body.dump(-1, ' ', false, json::error_handler_t::replace), {}};
}

absl::StatusOr<google::protobuf::Timestamp> TimeField(const json& body, const char* field) {
  auto it = body.find(field);
  if (it == body.end() || it->is_null()) {
    return absl::InvalidArgumentError(absl::StrCat(field, ": required"));
  }
  std::optional<absl::Time> parsed =
      it->is_string() ? feast_json::ParseFeastTime(it->get_ref<const std::string&>())
                      : std::nullopt;
  if (!parsed.has_value()) {
    return absl::InvalidArgumentError(absl::StrCat(field, ": expected an RFC 3339 time"));
  }
  absl::Time t = *parsed;
  google::protobuf::Timestamp ts;
  ts.set_seconds(absl::ToUnixSeconds(t));
  ts.set_nanos(
      static_cast<int32_t>((t - absl::FromUnixSeconds(ts.seconds())) / absl::Nanoseconds(1)));
  return ts;
}

}  // namespace

int HttpStatusOf(absl::StatusCode code) {
  switch (code) {
    case absl::StatusCode::kOk:
      return 200;
    case absl::StatusCode::kInvalidArgument:
    case absl::StatusCode::kOutOfRange:
      return 400;
    case absl::StatusCode::kUnauthenticated:
      return 401;
    case absl::StatusCode::kPermissionDenied:
      return 403;
    case absl::StatusCode::kNotFound:
      return 404;
    case absl::StatusCode::kAlreadyExists:
    case absl::StatusCode::kAborted:
    case absl::StatusCode::kFailedPrecondition:
      return 409;
    case absl::StatusCode::kResourceExhausted:
      return 429;
    case absl::StatusCode::kUnimplemented:
      return 501;
    case absl::StatusCode::kUnavailable:
      return 503;
    case absl::StatusCode::kDeadlineExceeded:
      return 504;
    default:
      return 500;
  }
}

absl::StatusOr<std::string> PrintProtoJson(const google::protobuf::Message& message) {
  google::protobuf::util::JsonPrintOptions options;
  options.preserve_proto_field_names = true;
  std::string text;
  if (!google::protobuf::util::MessageToJsonString(message, &text, options).ok()) {
    return absl::InternalError("response does not print as JSON");
  }
  return text;
}

HttpResponse ProtoJson(const std::string& bytes, google::protobuf::Message* message) {
  if (!message->ParseFromString(bytes)) {
    return ErrorResponse(absl::InternalError("bad response from the backend"));
  }
  absl::StatusOr<std::string> text = PrintProtoJson(*message);
  if (!text.ok()) return ErrorResponse(text.status());
  return {200, "application/json", *std::move(text), {}};
}

absl::Status ReadPageQuery(const HttpRequest& http, int32_t* page_size, std::string* page_token,
                           const std::map<std::string, QueryKeyReader>& others) {
  for (const auto& [key, value] : http.query) {
    if (key == "page_size") {
      if (!absl::SimpleAtoi(value, page_size) || *page_size < 0) {
        return absl::InvalidArgumentError("page_size: expected a non-negative integer");
      }
    } else if (key == "page_token") {
      *page_token = value;
    } else if (auto reader = others.find(key); reader != others.end()) {
      absl::Status read = reader->second(value);
      if (!read.ok()) return read;
    } else {
      return absl::InvalidArgumentError(absl::StrCat("query: unknown parameter \"", key, "\""));
    }
  }
  return absl::OkStatus();
}

HttpResponse ErrorResponse(const absl::Status& status) {
  HttpResponse response =
      Json(HttpStatusOf(status.code()), {{"code", absl::StatusCodeToString(status.code())},
                                         {"message", std::string(status.message())}});
  if (status.code() == absl::StatusCode::kUnauthenticated) {
    response.headers.emplace_back("WWW-Authenticate", "Bearer");
  }
  return response;
}

bool IsUiPath(absl::string_view path) { return path == "/ui" || absl::StartsWith(path, "/ui/"); }

std::string RouteTemplate(absl::string_view path) {
  std::vector<absl::string_view> parts = absl::StrSplit(path, '/');
  for (const HttpRoute& route : HttpApi::Routes()) {
    std::vector<absl::string_view> pattern = absl::StrSplit(route.path, '/');
    if (pattern.size() != parts.size()) continue;
    bool match = true;
    for (size_t i = 0; i < parts.size() && match; ++i) {
      // "{name}" is one segment, whatever it holds but nothing.
      match = absl::StartsWith(pattern[i], "{") ? !parts[i].empty() : pattern[i] == parts[i];
    }
    if (match) return route.path;
  }
  return "unknown route";
}

std::string HttpSpanName(absl::string_view method, absl::string_view path) {
  static constexpr absl::string_view kMethods[] = {"GET",   "POST", "PUT",    "DELETE",
                                                   "PATCH", "HEAD", "OPTIONS"};
  bool known = std::find(std::begin(kMethods), std::end(kMethods), method) != std::end(kMethods);
  return absl::StrCat(known ? method : "HTTP", " ", RouteTemplate(path));
}

HttpResponse HttpApi::Handle(const HttpRequest& request) {
  ProxyDeps& deps = backend_->deps();
  Call call;
  call.entry.time = deps.clock->Now();
  call.entry.method = absl::StrCat(request.method, " ", request.path);
  // Probes and documentation act for nobody: no span (as gRPC health checks get none).
  const bool acts = request.path != "/health" && request.path != "/docs" &&
                    request.path != "/openapi.json" && !IsUiPath(request.path);
  trace::Span span(acts ? deps.tracer : nullptr, "", trace::SpanKind::kServer,
                   trace::ParseTraceparent(request.Header("traceparent")));
  if (span.recording()) {
    // Named by the route's template, not the path: names must not grow with the objects.
    span.SetName(HttpSpanName(request.method, request.path));
    span.SetAttribute("http.request.method", request.method.substr(0, 16));
    span.SetAttribute("url.path", request.path.substr(0, 256));
  }
  call.traceparent = span.context().Traceparent();
  call.entry.trace_id = span.context().TraceIdHex();
  call.entry.request_id = RequestIdOf(request.Header("x-request-id"));
  HttpResponse response = Dispatch(request, call);
  span.SetAttribute("http.response.status_code", int64_t{response.status});
  if (response.status >= 500) span.SetError(absl::StrCat("HTTP ", response.status));
  call.entry.status = std::to_string(response.status);
  call.entry.latency = deps.clock->Now() - call.entry.time;
  // Health checks and documentation decide nothing: no audit line for them.
  if (!call.entry.decision.empty() && deps.audit != nullptr) deps.audit->Write(call.entry);
  return response;
}

HttpResponse HttpApi::Dispatch(const HttpRequest& request, Call& call) {
  const std::string& path = request.path;
  // The UI's files hold no data (the page fetches it with the caller's token): no
  // authentication, no audit line.
  if (IsUiPath(path)) {
    if (request.method != "GET" && request.method != "HEAD") {
      HttpResponse response =
          Json(405, {{"code", "INVALID_ARGUMENT"}, {"message", absl::StrCat(path, " takes GET")}});
      response.headers.emplace_back("Allow", "GET");
      return response;
    }
    if (ui_ == nullptr) {
      return ErrorResponse(absl::NotFoundError("the UI is off here (gateway.ui.enabled)"));
    }
    return *ui_->Serve(path);
  }
  bool known = false;
  for (const HttpRoute& route : Routes()) {
    std::string prefix = route.path.substr(0, route.path.find('{'));
    if (path == route.path ||
        (route.path.find('{') != std::string::npos && absl::StartsWith(path, prefix))) {
      known = true;
    }
  }
  if (!known) return ErrorResponse(absl::NotFoundError(absl::StrCat("no route ", path)));
  const bool post = request.method == "POST";
  const bool get = request.method == "GET";
  // A known route asked with another method: 405, saying which one it takes.
  for (const HttpRoute& route : Routes()) {
    if (route.path == path && route.method != request.method) {
      HttpResponse response = Json(405, {{"code", "INVALID_ARGUMENT"},
                                         {"message", absl::StrCat(path, " takes ", route.method)}});
      response.headers.emplace_back("Allow", route.method);
      return response;
    }
  }
  if (path == "/health") return Json(200, {{"status", "SERVING"}});
  if (path == "/openapi.json") return Json(200, OpenApi());
  if (path == "/docs") {
    std::string html =
        "<!doctype html><html><head><meta charset=\"utf-8\"><title>Granary HTTP API</title>"
        "</head><body><h1>Granary HTTP API</h1><p>OpenAPI 3 document: <a href=\"/openapi.json\">"
        "/openapi.json</a></p><table><tr><th>method</th><th>path</th><th>what</th></tr>";
    for (const HttpRoute& route : Routes()) {
      absl::StrAppend(&html, "<tr><td>", route.method, "</td><td><code>", route.path,
                      "</code></td><td>", route.summary, "</td></tr>");
    }
    absl::StrAppend(&html, "</table></body></html>");
    return {200, "text/html; charset=utf-8", html, {}};
  }

  // Everything else acts on the caller's behalf: who is it, and may it call now?
  ProxyDeps& deps = backend_->deps();
  const std::string address = "http:" + request.remote_addr;
  absl::Duration blocked = deps.limiter->FailuresBlock(address);
  if (blocked > absl::ZeroDuration()) {
    call.entry.decision = "rate_limited";
    int64_t seconds = RetryAfterSeconds(blocked);
    HttpResponse response = ErrorResponse(absl::ResourceExhaustedError(
        absl::StrCat("too many failed authentications from ", request.remote_addr, "; retry in ",
                     seconds, "s")));
    response.headers.emplace_back("Retry-After", std::to_string(seconds));
    return response;
  }
  auto who = deps.authenticator->Authenticate(BearerToken(request.Header("authorization")));
  if (!who.ok()) {
    if (absl::IsUnauthenticated(who.status())) deps.limiter->ChargeFailure(address);
    call.entry.decision = absl::IsUnavailable(who.status()) ? "unavailable" : "unauthenticated";
    return ErrorResponse(who.status());
  }
  call.who = *who;
  call.entry.who = *who;
  absl::Duration wait = deps.limiter->Admit(call.who);
  if (wait > absl::ZeroDuration()) {
    call.entry.decision = "rate_limited";
    int64_t seconds = RetryAfterSeconds(wait);
    HttpResponse response = ErrorResponse(absl::ResourceExhaustedError(
        absl::StrCat("rate limit of '", call.who.user, "' reached; retry in ", seconds, "s")));
    response.headers.emplace_back("Retry-After", std::to_string(seconds));
    return response;
  }

  if (path == "/get-online-features" && post) return OnlineFeatures(request, call);
  if (path == "/push" && post) return Push(request, call, false);
  if (path == "/write-to-online-store" && post) return Push(request, call, true);
  if (path == "/materialize" && post) return Materialize(request, call, false);
  if (path == "/materialize-incremental" && post) return Materialize(request, call, true);
  if (absl::StartsWith(path, "/api/v1/projects") && get) return Registry(request, call);
  call.entry.decision = "invalid";
  HttpResponse response =
      Json(405, {{"code", "INVALID_ARGUMENT"},
                 {"message", absl::StrCat(request.method, " is not allowed on ", path)}});
  return response;
}

absl::StatusOr<std::string> HttpApi::Backend(const std::string& method, const std::string& request,
                                             Call& call) {
  return backend_->Unary(method, request, call.who, timeout_, call.traceparent, &call.entry);
}

HttpResponse HttpApi::OnlineFeatures(const HttpRequest& request, Call& call) {
  auto proto = feast_json::OnlineRequestFromJson(request.body);
  if (!proto.ok()) {
    call.entry.decision = "invalid";
    return ErrorResponse(proto.status());
  }
  auto answer = Backend("/granary.serving.v1.ServingService/GetOnlineFeatures",
                        proto->SerializeAsString(), call);
  if (!answer.ok()) return ErrorResponse(answer.status());
  // The answer's ~200 messages on one arena of one 16 KiB block for a 1 x 50 answer: parsing
  // and freeing them one by one was ~9% of the route's CPU. (Not on the stack: civetweb's
  // threads have 100 KiB of it.)
  google::protobuf::ArenaOptions options;
  options.start_block_size = 16 * 1024;
  google::protobuf::Arena arena(options);
  auto* response =
      google::protobuf::Arena::CreateMessage<serving::v1::GetOnlineFeaturesResponse>(&arena);
  if (!response->ParseFromString(*answer)) {
    return ErrorResponse(absl::InternalError("bad response from serving"));
  }
  return {200, "application/json", feast_json::OnlineResponseJson(*response), {}};
}

HttpResponse HttpApi::Push(const HttpRequest& request, Call& call, bool write_to_online_store) {
  auto body = feast_json::ParsePushBody(request.body,
                                        write_to_online_store ? "write-to-online-store" : "push");
  if (!body.ok()) {
    call.entry.decision = "invalid";
    return ErrorResponse(body.status());
  }
  Catalogs& catalogs = backend_->deps().authorizer->catalogs();
  std::string project = body->project.empty() ? catalogs.default_project() : body->project;
  auto catalog = catalogs.Find(project);
  if (!catalog.ok()) {
    call.entry.decision = "invalid";
    return ErrorResponse(catalog.status());
  }
  ingestion::v1::PushRequest push;
  push.set_project(project);
  push.set_to(body->to);
  if (write_to_online_store) {
    // Whether the view exists is told only to a caller who may write it.
    AccessPlan named;
    AddCheck(named, catalogs, project, Permission::WRITE_ONLINE, registry::v1::FEATURE_VIEW,
             body->feature_view_name);
    absl::Status allowed = backend_->deps().authorizer->Decide(call.who, named.checks);
    if (!allowed.ok()) {
      call.entry.decision = "deny";
      return ErrorResponse(allowed);
    }
    // Feast writes a view's rows straight to the online store; here they take the view's push
    // source, online only, like every other write (one write path, validated once).
    const auto* view = (*catalog)->FindFeatureView(body->feature_view_name);
    if (view == nullptr) {
      call.entry.decision = "invalid";
      return ErrorResponse(absl::NotFoundError(absl::StrCat("feature_view_name: no feature view '",
                                                            body->feature_view_name,
                                                            "' in project '", project, "'")));
    }
    if (view->stream_source().empty()) {
      call.entry.decision = "invalid";
      return ErrorResponse(absl::FailedPreconditionError(
          absl::StrCat("feature_view_name: feature view '", view->name(),
                       "' has no push source to write through")));
    }
    push.set_push_source_name(view->stream_source());
    push.set_to(ingestion::v1::ONLINE);
  } else {
    push.set_push_source_name(body->push_source_name);
  }
  // Column types: features of the views the source feeds, and their entities' join keys.
  std::map<std::string, types::v1::ValueType::Enum> types;
  for (const auto& view : (*catalog)->repo().feature_views()) {
    if (view.stream_source() != push.push_source_name()) continue;
    for (const auto& field : view.schema()) types.emplace(field.name(), field.dtype());
    for (const std::string& name : view.entities()) {
      if (const auto* entity = (*catalog)->FindEntity(name)) {
        types.emplace(entity->join_key().empty() ? entity->name() : entity->join_key(),
                      entity->value_type());
      }
    }
  }
  absl::Status filled = feast_json::FillPushColumns(
      body->df,
      [&types](const std::string& column) -> std::optional<types::v1::ValueType::Enum> {
        auto it = types.find(column);
        if (it == types.end()) return std::nullopt;
        return it->second;
      },
      &push);
  if (!filled.ok()) {
    call.entry.decision = "invalid";
    return ErrorResponse(filled);
  }
  auto answer =
      Backend("/granary.ingestion.v1.IngestionService/Push", push.SerializeAsString(), call);
  if (!answer.ok()) return ErrorResponse(answer.status());
  ingestion::v1::PushResponse response;
  return ProtoJson(*answer, &response);
}

HttpResponse HttpApi::Materialize(const HttpRequest& request, Call& call, bool incremental) {
  json body = json::parse(request.body, nullptr, /*allow_exceptions=*/false);
  auto invalid = [&call](absl::Status status) {
    call.entry.decision = "invalid";
    return ErrorResponse(status);
  };
  if (body.is_discarded() || !body.is_object()) {
    return invalid(absl::InvalidArgumentError("body: expected a JSON object"));
  }
  std::vector<std::string> views;
  std::string project;
  for (const auto& [key, value] : body.items()) {
    if (key == "feature_views") {
      if (value.is_null()) continue;
      if (!value.is_array())
        return invalid(absl::InvalidArgumentError("feature_views: expected a list"));
      for (size_t i = 0; i < value.size(); ++i) {
        if (!value[i].is_string()) {
          return invalid(absl::InvalidArgumentError(
              absl::StrCat("feature_views[", i, "]: expected a string")));
        }
        views.push_back(value[i].get<std::string>());
      }
    } else if (key == "project") {
      if (!value.is_string())
        return invalid(absl::InvalidArgumentError("project: expected a string"));
      project = value.get<std::string>();
    } else if (key != "end_ts" && !(key == "start_ts" && !incremental)) {
      return invalid(absl::InvalidArgumentError(absl::StrCat("body: unknown field \"", key, "\"")));
    }
  }
  auto end = TimeField(body, "end_ts");
  if (!end.ok()) return invalid(end.status());
  std::string bytes;
  std::string method = "/granary.materialization.v1.MaterializationService/";
  if (incremental) {
    mat::MaterializeIncrementalRequest r;
    r.set_project(project);
    for (const std::string& v : views) r.add_feature_views(v);
    *r.mutable_end_time() = *end;
    bytes = r.SerializeAsString();
    method += "MaterializeIncremental";
  } else {
    auto start = TimeField(body, "start_ts");
    if (!start.ok()) return invalid(start.status());
    mat::MaterializeRequest r;
    r.set_project(project);
    for (const std::string& v : views) r.add_feature_views(v);
    *r.mutable_start_time() = *start;
    *r.mutable_end_time() = *end;
    bytes = r.SerializeAsString();
    method += "Materialize";
  }
  auto answer = Backend(method, bytes, call);
  if (!answer.ok()) return ErrorResponse(answer.status());
  mat::Job job;
  return ProtoJson(*answer, &job);
}

}  // namespace granary::gateway
