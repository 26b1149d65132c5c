#include "services/registry/registry_grpc.h"

#include "libs/base/grpc_status.h"

namespace granary::registry {
namespace {

using base::Reply;
using base::ToGrpcStatus;

// Every handler checks first that the gateway signed the call (server.gateway_signature).
constexpr const char* kService = v1::RegistryService::service_full_name();

template <typename T>
grpc::Status ReplyObject(absl::StatusOr<std::unique_ptr<google::protobuf::Message>> result,
                         T* response) {
  if (!result.ok()) return ToGrpcStatus(result.status());
  response->CopyFrom(**result);
  return grpc::Status::OK;
}

// Fills a List*Response: its first field is the repeated objects.
template <typename Response>
grpc::Status ReplyList(absl::StatusOr<ObjectPage> page, Response* response) {
  if (!page.ok()) return ToGrpcStatus(page.status());
  const auto* field = Response::descriptor()->field(0);
  for (const auto& object : page->objects) {
    response->GetReflection()->AddMessage(response, field)->CopyFrom(*object);
  }
  response->set_next_page_token(page->next_page_token);
  return grpc::Status::OK;
}

}  // namespace

grpc::Status RegistryGrpc::Plan(grpc::ServerContext* ctx, const v1::PlanRequest* req,
                                v1::PlanResponse* resp) {
  if (grpc::Status refused = callers_.Check(*ctx, kService, "Plan"); !refused.ok()) {
    return refused;
  }
  return Reply(registry_->writer().Plan(*req), resp);
}

grpc::Status RegistryGrpc::Apply(grpc::ServerContext* ctx, const v1::ApplyRequest* req,
                                 v1::ApplyResponse* resp) {
  absl::StatusOr<std::string> caller = callers_.CallerUser(*ctx, kService, "Apply");
  if (!caller.ok()) return ToGrpcStatus(caller.status());
  return Reply(registry_->writer().Apply(*req, *caller), resp);
}

grpc::Status RegistryGrpc::GetProject(grpc::ServerContext* ctx, const v1::GetProjectRequest* req,
                                      v1::Project* resp) {
  if (grpc::Status refused = callers_.Check(*ctx, kService, "GetProject"); !refused.ok()) {
    return refused;
  }
  return Reply(registry_->reader().GetProject(*req), resp);
}

grpc::Status RegistryGrpc::ListProjects(grpc::ServerContext* ctx,
                                        const v1::ListProjectsRequest* req,
                                        v1::ListProjectsResponse* resp) {
  if (grpc::Status refused = callers_.Check(*ctx, kService, "ListProjects"); !refused.ok()) {
    return refused;
  }
  return Reply(registry_->reader().ListProjects(*req), resp);
}

grpc::Status RegistryGrpc::DeleteProject(grpc::ServerContext* ctx,
                                         const v1::DeleteProjectRequest* req,
                                         v1::DeleteProjectResponse* resp) {
  absl::StatusOr<std::string> caller = callers_.CallerUser(*ctx, kService, "DeleteProject");
  if (!caller.ok()) return ToGrpcStatus(caller.status());
  return Reply(registry_->writer().DeleteProject(*req, *caller), resp);
}

grpc::Status RegistryGrpc::GetEntity(grpc::ServerContext* ctx, const v1::GetObjectRequest* req,
                                     v1::Entity* resp) {
  if (grpc::Status refused = callers_.Check(*ctx, kService, "GetEntity"); !refused.ok()) {
    return refused;
  }
  return ReplyObject(registry_->reader().GetObject(v1::ENTITY, *req), resp);
}

grpc::Status RegistryGrpc::ListEntities(grpc::ServerContext* ctx, const v1::ListObjectsRequest* req,
                                        v1::ListEntitiesResponse* resp) {
  if (grpc::Status refused = callers_.Check(*ctx, kService, "ListEntities"); !refused.ok()) {
    return refused;
  }
  return ReplyList(registry_->reader().ListObjects(v1::ENTITY, *req), resp);
}

grpc::Status RegistryGrpc::GetDataSource(grpc::ServerContext* ctx, const v1::GetObjectRequest* req,
                                         v1::DataSource* resp) {
  if (grpc::Status refused = callers_.Check(*ctx, kService, "GetDataSource"); !refused.ok()) {
    return refused;
  }
  return ReplyObject(registry_->reader().GetObject(v1::DATA_SOURCE, *req), resp);
}

grpc::Status RegistryGrpc::ListDataSources(grpc::ServerContext* ctx,
                                           const v1::ListObjectsRequest* req,
                                           v1::ListDataSourcesResponse* resp) {
  if (grpc::Status refused = callers_.Check(*ctx, kService, "ListDataSources"); !refused.ok()) {
    return refused;
  }
  return ReplyList(registry_->reader().ListObjects(v1::DATA_SOURCE, *req), resp);
}

grpc::Status RegistryGrpc::GetFeatureView(grpc::ServerContext* ctx, const v1::GetObjectRequest* req,
                                          v1::FeatureView* resp) {
  if (grpc::Status refused = callers_.Check(*ctx, kService, "GetFeatureView"); !refused.ok()) {
    return refused;
  }
  return ReplyObject(registry_->reader().GetObject(v1::FEATURE_VIEW, *req), resp);
}

grpc::Status RegistryGrpc::ListFeatureViews(grpc::ServerContext* ctx,
                                            const v1::ListObjectsRequest* req,
                                            v1::ListFeatureViewsResponse* resp) {
  if (grpc::Status refused = callers_.Check(*ctx, kService, "ListFeatureViews"); !refused.ok()) {
    return refused;
  }
  return ReplyList(registry_->reader().ListObjects(v1::FEATURE_VIEW, *req), resp);
}

grpc::Status RegistryGrpc::GetOnDemandFeatureView(grpc::ServerContext* ctx,
                                                  const v1::GetObjectRequest* req,
                                                  v1::OnDemandFeatureView* resp) {
  if (grpc::Status refused = callers_.Check(*ctx, kService, "GetOnDemandFeatureView");
      !refused.ok()) {
    return refused;
  }
  return ReplyObject(registry_->reader().GetObject(v1::ON_DEMAND_FEATURE_VIEW, *req), resp);
}

grpc::Status RegistryGrpc::ListOnDemandFeatureViews(grpc::ServerContext* ctx,
                                                    const v1::ListObjectsRequest* req,
                                                    v1::ListOnDemandFeatureViewsResponse* resp) {
  if (grpc::Status refused = callers_.Check(*ctx, kService, "ListOnDemandFeatureViews");
      !refused.ok()) {
    return refused;
  }
  return ReplyList(registry_->reader().ListObjects(v1::ON_DEMAND_FEATURE_VIEW, *req), resp);
}

grpc::Status RegistryGrpc::GetFeatureService(grpc::ServerContext* ctx,
                                             const v1::GetObjectRequest* req,
                                             v1::FeatureService* resp) {
  if (grpc::Status refused = callers_.Check(*ctx, kService, "GetFeatureService"); !refused.ok()) {
    return refused;
  }
  return ReplyObject(registry_->reader().GetObject(v1::FEATURE_SERVICE, *req), resp);
}

grpc::Status RegistryGrpc::ListFeatureServices(grpc::ServerContext* ctx,
                                               const v1::ListObjectsRequest* req,
                                               v1::ListFeatureServicesResponse* resp) {
  if (grpc::Status refused = callers_.Check(*ctx, kService, "ListFeatureServices"); !refused.ok()) {
    return refused;
  }
  return ReplyList(registry_->reader().ListObjects(v1::FEATURE_SERVICE, *req), resp);
}

grpc::Status RegistryGrpc::GetPermission(grpc::ServerContext* ctx, const v1::GetObjectRequest* req,
                                         v1::Permission* resp) {
  if (grpc::Status refused = callers_.Check(*ctx, kService, "GetPermission"); !refused.ok()) {
    return refused;
  }
  return ReplyObject(registry_->reader().GetObject(v1::PERMISSION, *req), resp);
}

grpc::Status RegistryGrpc::ListPermissions(grpc::ServerContext* ctx,
                                           const v1::ListObjectsRequest* req,
                                           v1::ListPermissionsResponse* resp) {
  if (grpc::Status refused = callers_.Check(*ctx, kService, "ListPermissions"); !refused.ok()) {
    return refused;
  }
  return ReplyList(registry_->reader().ListObjects(v1::PERMISSION, *req), resp);
}

grpc::Status RegistryGrpc::DeleteObject(grpc::ServerContext* ctx,
                                        const v1::DeleteObjectRequest* req,
                                        v1::DeleteObjectResponse* resp) {
  absl::StatusOr<std::string> caller = callers_.CallerUser(*ctx, kService, "DeleteObject");
  if (!caller.ok()) return ToGrpcStatus(caller.status());
  return Reply(registry_->writer().DeleteObject(*req, *caller), resp);
}

grpc::Status RegistryGrpc::GetSnapshot(grpc::ServerContext* ctx, const v1::GetSnapshotRequest* req,
                                       v1::GetSnapshotResponse* resp) {
  if (grpc::Status refused = callers_.Check(*ctx, kService, "GetSnapshot"); !refused.ok()) {
    return refused;
  }
  return Reply(registry_->snapshots().Get(*req), resp);
}

grpc::Status RegistryGrpc::ListHistory(grpc::ServerContext* ctx, const v1::ListHistoryRequest* req,
                                       v1::ListHistoryResponse* resp) {
  if (grpc::Status refused = callers_.Check(*ctx, kService, "ListHistory"); !refused.ok()) {
    return refused;
  }
  return Reply(registry_->reader().ListHistory(*req), resp);
}

grpc::Status RegistryGrpc::RecordMaterialization(grpc::ServerContext* ctx,
                                                 const v1::RecordMaterializationRequest* req,
                                                 v1::RecordMaterializationResponse*) {
  if (grpc::Status refused = callers_.Check(*ctx, kService, "RecordMaterialization");
      !refused.ok()) {
    return refused;
  }
  return ToGrpcStatus(registry_->materializations().Record(*req));
}

grpc::Status RegistryGrpc::GetMaterializationState(grpc::ServerContext* ctx,
                                                   const v1::GetMaterializationStateRequest* req,
                                                   v1::MaterializationState* resp) {
  if (grpc::Status refused = callers_.Check(*ctx, kService, "GetMaterializationState");
      !refused.ok()) {
    return refused;
  }
  return Reply(registry_->materializations().State(*req), resp);
}

}  // namespace granary::registry
