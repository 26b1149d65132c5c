#include "services/registry/catalog_reader.h"

#include <map>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

#include "libs/base/proto_time.h"
#include "libs/base/status_macros.h"
#include "libs/catalog/object_kinds.h"
#include "services/registry/read_requests.h"

namespace granary::registry {

using google::protobuf::Message;

absl::StatusOr<v1::Project> CatalogReader::GetProject(const v1::GetProjectRequest& request) {
  RETURN_IF_ERROR(Required(request.project(), "project"));
  ASSIGN_OR_RETURN(ProjectState state, store_->Load(request.project()));
  if (!state.exists) {
    return absl::NotFoundError(absl::StrCat("project ", request.project(), " not found"));
  }
  v1::Project project = state.repo.project();
  project.set_version(state.version);
  *project.mutable_meta()->mutable_created_time() = base::ToProtoTime(state.created_time);
  *project.mutable_meta()->mutable_updated_time() = base::ToProtoTime(state.committed_time);
  project.mutable_meta()->set_updated_version(state.version);
  return project;
}

absl::StatusOr<v1::ListProjectsResponse> CatalogReader::ListProjects(
    const v1::ListProjectsRequest& request) {
  ASSIGN_OR_RETURN(int size, PageSize(request.page_size()));
  ASSIGN_OR_RETURN(std::string after, DecodeToken(request.page_token()));
  std::map<std::string, std::string> tags(request.tags().begin(), request.tags().end());
  // One more than asked tells whether there is a next page.
  ASSIGN_OR_RETURN(std::vector<v1::Project> projects,
                   store_->ListProjects(tags, Page{size + 1, after}));
  v1::ListProjectsResponse response;
  for (int i = 0; i < static_cast<int>(projects.size()) && i < size; ++i) {
    *response.add_projects() = std::move(projects[i]);
  }
  if (static_cast<int>(projects.size()) > size) {
    response.set_next_page_token(EncodeToken(response.projects(size - 1).name()));
  }
  return response;
}

absl::StatusOr<std::unique_ptr<Message>> CatalogReader::GetObject(
    v1::ObjectKind kind, const v1::GetObjectRequest& request) {
  RETURN_IF_ERROR(Required(request.project(), "project"));
  RETURN_IF_ERROR(Required(request.name(), "name"));
  ASSIGN_OR_RETURN(std::unique_ptr<Message> object,
                   store_->GetObject(request.project(), kind, request.name()));
  if (kind == v1::FEATURE_VIEW) {
    ASSIGN_OR_RETURN(std::vector<v1::MaterializationInterval> intervals,
                     store_->MaterializationIntervals(request.project(), request.name()));
    auto* view = static_cast<v1::FeatureView*>(object.get());
    for (auto& i : intervals) *view->add_materialization_intervals() = std::move(i);
  }
  return object;
}

absl::StatusOr<ObjectPage> CatalogReader::ListObjects(v1::ObjectKind kind,
                                                      const v1::ListObjectsRequest& request) {
  RETURN_IF_ERROR(Required(request.project(), "project"));
  ASSIGN_OR_RETURN(int size, PageSize(request.page_size()));
  ASSIGN_OR_RETURN(std::string after, DecodeToken(request.page_token()));
  std::map<std::string, std::string> tags(request.tags().begin(), request.tags().end());
  ObjectPage page;
  ASSIGN_OR_RETURN(page.objects,
                   store_->ListObjects(request.project(), kind, tags, Page{size + 1, after}));
  if (static_cast<int>(page.objects.size()) > size) {
    page.objects.resize(size);
    page.next_page_token = EncodeToken(catalog::ObjectName(*page.objects.back()));
  }
  return page;
}

absl::StatusOr<v1::ListHistoryResponse> CatalogReader::ListHistory(
    const v1::ListHistoryRequest& request) {
  RETURN_IF_ERROR(Required(request.project(), "project"));
  ASSIGN_OR_RETURN(int size, PageSize(request.page_size()));
  ASSIGN_OR_RETURN(std::string position, DecodeToken(request.page_token()));
  int64_t before = 0;
  if (!position.empty() && !absl::SimpleAtoi(position, &before)) {
    return absl::InvalidArgumentError("page_token: not a token from this server");
  }
  ASSIGN_OR_RETURN(std::vector<v1::HistoryEntry> entries,
                   store_->ListHistory(request.project(), before, size + 1));
  v1::ListHistoryResponse response;
  for (int i = 0; i < static_cast<int>(entries.size()) && i < size; ++i) {
    *response.add_entries() = std::move(entries[i]);
  }
  if (static_cast<int>(entries.size()) > size) {
    response.set_next_page_token(EncodeToken(absl::StrCat(response.entries(size - 1).version())));
  }
  return response;
}

}  // namespace granary::registry
