// Reads of the catalog, paginated and filtered by tags: projects, objects of any kind (a feature
// view with its materialization intervals), and the history of committed changes.
//
//   CatalogReader reader(store);
//   ASSIGN_OR_RETURN(ObjectPage page, reader.ListObjects(v1::FEATURE_VIEW, request));
#ifndef GRANARY_SERVICES_REGISTRY_CATALOG_READER_H_
#define GRANARY_SERVICES_REGISTRY_CATALOG_READER_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "google/protobuf/message.h"
#include "granary/registry/v1/registry_service.pb.h"

#include "services/registry/store.h"

namespace granary::registry {

struct ObjectPage {
  std::vector<std::unique_ptr<google::protobuf::Message>> objects;
  std::string next_page_token;
};

class CatalogReader {
 public:
  explicit CatalogReader(std::shared_ptr<Store> store) : store_(std::move(store)) {}

  absl::StatusOr<v1::Project> GetProject(const v1::GetProjectRequest& request);
  absl::StatusOr<v1::ListProjectsResponse> ListProjects(const v1::ListProjectsRequest& request);
  absl::StatusOr<std::unique_ptr<google::protobuf::Message>> GetObject(
      v1::ObjectKind kind, const v1::GetObjectRequest& request);
  absl::StatusOr<ObjectPage> ListObjects(v1::ObjectKind kind,
                                         const v1::ListObjectsRequest& request);
  // Newest first.
  absl::StatusOr<v1::ListHistoryResponse> ListHistory(const v1::ListHistoryRequest& request);

 private:
  std::shared_ptr<Store> store_;
};

}  // namespace granary::registry

#endif  // GRANARY_SERVICES_REGISTRY_CATALOG_READER_H_
