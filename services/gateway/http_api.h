// The gateway's HTTP/JSON door: Feast's feature-server routes with Feast's JSON shapes, a
// read-only REST view of the registry, health, and the OpenAPI document of all of it. Every
// data and registry route authenticates like the gRPC door, transcodes to the same gRPC method
// and goes through the same route table (BackendCall), so one permission table governs both.
//
//   POST /get-online-features        serving GetOnlineFeatures            (Feast)
//   POST /push                       ingestion Push                       (Feast)
//   POST /write-to-online-store      ingestion Push, to the view's push source, online (Feast)
//   POST /materialize                materializer Materialize             (Feast)
//   POST /materialize-incremental    materializer MaterializeIncremental  (Feast)
//   GET  /health                     200 while the gateway runs           (Feast)
//   GET  /api/v1/projects[/{project}[/{kind}[/{name}]]]   registry List/Get, filtered
//   GET  /api/v1/projects/{project}/history   registry ListHistory (DESCRIBE on the project)
//   GET  /api/v1/projects/{project}/jobs      materializer ListJobs
//   GET  /api/v1/projects/{project}/health    per view: newest event online against its TTL,
//                                             push rate, dead letters; and the latest jobs
//   GET  /openapi.json, /docs        the OpenAPI 3 document, and a page of it
//   GET  /ui/...                     the discovery UI's static files (ui_files.h); no data
//
// Errors: {"code": "INVALID_ARGUMENT", "message": "entities.driver_id[1]: ..."} with 400 for
// bad input, 401 without valid credentials, 403 when a permission is missing, 404 for an
// unknown route or object, 405 for a known route with another method, 413 for a body over the
// limit, 429 past a rate limit (with Retry-After), 503 when a backend is down.
#ifndef GRANARY_SERVICES_GATEWAY_HTTP_API_H_
#define GRANARY_SERVICES_GATEWAY_HTTP_API_H_

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "google/protobuf/message.h"
#include "nlohmann/json.hpp"

#include "services/gateway/backend_call.h"
#include "services/gateway/http_server.h"
#include "services/gateway/ui_files.h"
#include "services/gateway/view_health.h"

namespace granary::gateway {

// A route as documented: "POST", "/push".
struct HttpRoute {
  std::string method;
  std::string path;  // OpenAPI template: "/api/v1/projects/{project}/{kind}"
  std::string summary;
};

// /ui and what is under it: the UI's files.
bool IsUiPath(absl::string_view path);
// The template of the route a path falls under ("/api/v1/projects/{project}/{kind}"), or
// "unknown route".
std::string RouteTemplate(absl::string_view path);
// An HTTP request's span name: "GET /api/v1/projects/{project}" ("HTTP ..." for a method no
// route could have), so that names stay few whatever clients send.
std::string HttpSpanName(absl::string_view method, absl::string_view path);

class HttpApi {
 public:
  HttpApi(std::shared_ptr<BackendCall> backend, absl::Duration timeout)
      : backend_(std::move(backend)), timeout_(timeout) {}

  HttpResponse Handle(const HttpRequest& request);

  // Before the server starts: the UI's files, and where the health route reads the
  // materializers' metrics (without, it says so in its `errors`).
  void ServeUi(std::shared_ptr<const UiFiles> ui) { ui_ = std::move(ui); }
  void ReadHealthFrom(std::shared_ptr<ViewHealth> health) { health_ = std::move(health); }

  static const std::vector<HttpRoute>& Routes();
  // The OpenAPI 3 document of Routes().
  static nlohmann::json OpenApi();

 private:
  // One request's state.
  struct Call {
    auth::Identity who;
    AuditEntry entry;
    // The request's span, as the backend call's parent.
    std::string traceparent;
  };

  HttpResponse Dispatch(const HttpRequest& request, Call& call);
  HttpResponse OnlineFeatures(const HttpRequest& request, Call& call);
  HttpResponse Push(const HttpRequest& request, Call& call, bool write_to_online_store);
  HttpResponse Materialize(const HttpRequest& request, Call& call, bool incremental);
  HttpResponse Registry(const HttpRequest& request, Call& call);
  HttpResponse History(const std::string& project, const HttpRequest& request, Call& call);
  HttpResponse Jobs(const std::string& project, const HttpRequest& request, Call& call);
  HttpResponse Health(const std::string& project, const HttpRequest& request, Call& call);
  // A further backend call of one request, audited on a line of its own.
  absl::StatusOr<std::string> ExtraBackend(const std::string& method, const std::string& request,
                                           Call& call);
  absl::StatusOr<std::string> Backend(const std::string& method, const std::string& request,
                                      Call& call);

  std::shared_ptr<BackendCall> backend_;
  const absl::Duration timeout_;
  std::shared_ptr<const UiFiles> ui_;
  std::shared_ptr<ViewHealth> health_;
};

// The HTTP status that means `code` (INVALID_ARGUMENT 400, UNAUTHENTICATED 401, ...).
int HttpStatusOf(absl::StatusCode code);
HttpResponse ErrorResponse(const absl::Status& status);
// `message` as proto JSON (field names as in the .proto); INTERNAL when it does not print.
absl::StatusOr<std::string> PrintProtoJson(const google::protobuf::Message& message);

// A list route's query: page_size (a non-negative integer) and page_token, and the other keys
// the route takes, each read by its function. INVALID_ARGUMENT naming the key otherwise.
using QueryKeyReader = std::function<absl::Status(const std::string& value)>;
absl::Status ReadPageQuery(const HttpRequest& http, int32_t* page_size, std::string* page_token,
                           const std::map<std::string, QueryKeyReader>& others = {});
// `bytes` parsed into `message` and printed as proto JSON (field names as in the .proto): 200,
// or 500 when the backend's answer does not parse.
HttpResponse ProtoJson(const std::string& bytes, google::protobuf::Message* message);

}  // namespace granary::gateway

#endif  // GRANARY_SERVICES_GATEWAY_HTTP_API_H_
