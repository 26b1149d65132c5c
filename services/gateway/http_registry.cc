// GET /api/v1/projects[/{project}[/{kind}[/{name}]]]: the registry's List and Get methods as
// JSON (proto field names), filtered to what the caller may DESCRIBE like the gRPC lists.
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "granary/registry/v1/registry_service.pb.h"

#include "services/gateway/http_api.h"

namespace granary::gateway {
namespace {

namespace v1 = registry::v1;

constexpr char kRegistry[] = "/granary.registry.v1.RegistryService/";

struct Kind {
  const char* path;    // "feature-views"
  const char* noun;    // "FeatureView", for Get<noun>
  const char* plural;  // "FeatureViews", for List<plural>
  std::function<std::unique_ptr<google::protobuf::Message>()> one;
  std::function<std::unique_ptr<google::protobuf::Message>()> list;
};

template <typename T>
std::function<std::unique_ptr<google::protobuf::Message>()> Make() {
  return [] { return std::make_unique<T>(); };
}

const std::vector<Kind>& Kinds() {
  static const auto* kinds = new std::vector<Kind>{
      {"entities", "Entity", "Entities", Make<v1::Entity>(), Make<v1::ListEntitiesResponse>()},
      {"data-sources", "DataSource", "DataSources", Make<v1::DataSource>(),
       Make<v1::ListDataSourcesResponse>()},
      {"feature-views", "FeatureView", "FeatureViews", Make<v1::FeatureView>(),
       Make<v1::ListFeatureViewsResponse>()},
      {"on-demand-feature-views", "OnDemandFeatureView", "OnDemandFeatureViews",
       Make<v1::OnDemandFeatureView>(), Make<v1::ListOnDemandFeatureViewsResponse>()},
      {"feature-services", "FeatureService", "FeatureServices", Make<v1::FeatureService>(),
       Make<v1::ListFeatureServicesResponse>()},
      {"permissions", "Permission", "Permissions", Make<v1::Permission>(),
       Make<v1::ListPermissionsResponse>()},
  };
  return *kinds;
}

// page_size, page_token and tag=key:value (repeatable) into a list request.
template <typename Request>
absl::Status ReadListQuery(const HttpRequest& http, Request* request) {
  int32_t page_size = request->page_size();
  absl::Status read = ReadPageQuery(
      http, &page_size, request->mutable_page_token(),
      {{"tag", [request](const std::string& value) {
          std::vector<std::string> kv = absl::StrSplit(value, absl::MaxSplits(':', 1));
          if (kv.size() != 2 || kv[0].empty()) {
            return absl::InvalidArgumentError("tag: expected key:value");
          }
          (*request->mutable_tags())[kv[0]] = kv[1];
          return absl::OkStatus();
        }}});
  request->set_page_size(page_size);
  return read;
}

}  // namespace

HttpResponse HttpApi::Registry(const HttpRequest& request, Call& call) {
  std::vector<std::string> parts = absl::StrSplit(
      request.path.substr(std::string("/api/v1/projects").size()), '/', absl::SkipEmpty());
  auto invalid = [&call](absl::Status status) {
    call.entry.decision = "invalid";
    return ErrorResponse(status);
  };
  if (parts.size() > 3)
    return invalid(absl::NotFoundError(absl::StrCat("no route ", request.path)));
  if (parts.empty()) {
    v1::ListProjectsRequest list;
    absl::Status query = ReadListQuery(request, &list);
    if (!query.ok()) return invalid(query);
    auto answer = Backend(absl::StrCat(kRegistry, "ListProjects"), list.SerializeAsString(), call);
    if (!answer.ok()) return ErrorResponse(answer.status());
    v1::ListProjectsResponse response;
    return ProtoJson(*answer, &response);
  }
  if (parts.size() == 1) {
    if (!request.query.empty()) return invalid(absl::InvalidArgumentError("query: none expected"));
    v1::GetProjectRequest get;
    get.set_project(parts[0]);
    auto answer = Backend(absl::StrCat(kRegistry, "GetProject"), get.SerializeAsString(), call);
    if (!answer.ok()) return ErrorResponse(answer.status());
    v1::Project project;
    return ProtoJson(*answer, &project);
  }
  if (parts.size() == 2 && parts[1] == "history") return History(parts[0], request, call);
  if (parts.size() == 2 && parts[1] == "jobs") return Jobs(parts[0], request, call);
  if (parts.size() == 2 && parts[1] == "health") return Health(parts[0], request, call);
  const Kind* kind = nullptr;
  for (const Kind& k : Kinds()) {
    if (parts[1] == k.path) kind = &k;
  }
  if (kind == nullptr) {
    return invalid(absl::NotFoundError(absl::StrCat(
        "no kind '", parts[1],
        "' (entities, data-sources, feature-views, on-demand-feature-views, feature-services, "
        "permissions)")));
  }
  if (parts.size() == 2) {
    v1::ListObjectsRequest list;
    list.set_project(parts[0]);
    absl::Status query = ReadListQuery(request, &list);
    if (!query.ok()) return invalid(query);
    auto answer =
        Backend(absl::StrCat(kRegistry, "List", kind->plural), list.SerializeAsString(), call);
    if (!answer.ok()) return ErrorResponse(answer.status());
    return ProtoJson(*answer, kind->list().get());
  }
  if (!request.query.empty()) return invalid(absl::InvalidArgumentError("query: none expected"));
  v1::GetObjectRequest get;
  get.set_project(parts[0]);
  get.set_name(parts[2]);
  auto answer = Backend(absl::StrCat(kRegistry, "Get", kind->noun), get.SerializeAsString(), call);
  if (!answer.ok()) return ErrorResponse(answer.status());
  return ProtoJson(*answer, kind->one().get());
}

}  // namespace granary::gateway
