#include "services/registry/registry_grpc.h"

#include "libs/base/grpc_status.h"

namespace granary::registry {
namespace {

using base::Reply;
using base::ToGrpcStatus;

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

grpc::Status RegistryGrpc::Plan(grpc::ServerContext*, const v1::PlanRequest* req,
                                v1::PlanResponse* resp) {
  return Reply(registry_->writer().Plan(*req), resp);
}

grpc::Status RegistryGrpc::Apply(grpc::ServerContext* ctx, const v1::ApplyRequest* req,
                                 v1::ApplyResponse* resp) {
  return Reply(registry_->writer().Apply(*req, base::CallerName(*ctx)), resp);
}

grpc::Status RegistryGrpc::GetProject(grpc::ServerContext*, const v1::GetProjectRequest* req,
                                      v1::Project* resp) {
  return Reply(registry_->reader().GetProject(*req), resp);
}

grpc::Status RegistryGrpc::ListProjects(grpc::ServerContext*, const v1::ListProjectsRequest* req,
                                        v1::ListProjectsResponse* resp) {
  return Reply(registry_->reader().ListProjects(*req), resp);
}

grpc::Status RegistryGrpc::DeleteProject(grpc::ServerContext* ctx,
                                         const v1::DeleteProjectRequest* req,
                                         v1::DeleteProjectResponse* resp) {
  return Reply(registry_->writer().DeleteProject(*req, base::CallerName(*ctx)), resp);
}

grpc::Status RegistryGrpc::GetEntity(grpc::ServerContext*, const v1::GetObjectRequest* req,
                                     v1::Entity* resp) {
  return ReplyObject(registry_->reader().GetObject(v1::ENTITY, *req), resp);
}

grpc::Status RegistryGrpc::ListEntities(grpc::ServerContext*, const v1::ListObjectsRequest* req,
                                        v1::ListEntitiesResponse* resp) {
  return ReplyList(registry_->reader().ListObjects(v1::ENTITY, *req), resp);
}

grpc::Status RegistryGrpc::GetDataSource(grpc::ServerContext*, const v1::GetObjectRequest* req,
                                         v1::DataSource* resp) {
  return ReplyObject(registry_->reader().GetObject(v1::DATA_SOURCE, *req), resp);
}

grpc::Status RegistryGrpc::ListDataSources(grpc::ServerContext*, const v1::ListObjectsRequest* req,
                                           v1::ListDataSourcesResponse* resp) {
  return ReplyList(registry_->reader().ListObjects(v1::DATA_SOURCE, *req), resp);
}

grpc::Status RegistryGrpc::GetFeatureView(grpc::ServerContext*, const v1::GetObjectRequest* req,
                                          v1::FeatureView* resp) {
  return ReplyObject(registry_->reader().GetObject(v1::FEATURE_VIEW, *req), resp);
}

grpc::Status RegistryGrpc::ListFeatureViews(grpc::ServerContext*, const v1::ListObjectsRequest* req,
                                            v1::ListFeatureViewsResponse* resp) {
  return ReplyList(registry_->reader().ListObjects(v1::FEATURE_VIEW, *req), resp);
}

grpc::Status RegistryGrpc::GetOnDemandFeatureView(grpc::ServerContext*,
                                                  const v1::GetObjectRequest* req,
                                                  v1::OnDemandFeatureView* resp) {
  return ReplyObject(registry_->reader().GetObject(v1::ON_DEMAND_FEATURE_VIEW, *req), resp);
}

grpc::Status RegistryGrpc::ListOnDemandFeatureViews(grpc::ServerContext*,
                                                    const v1::ListObjectsRequest* req,
                                                    v1::ListOnDemandFeatureViewsResponse* resp) {
  return ReplyList(registry_->reader().ListObjects(v1::ON_DEMAND_FEATURE_VIEW, *req), resp);
}

grpc::Status RegistryGrpc::GetFeatureService(grpc::ServerContext*, const v1::GetObjectRequest* req,
                                             v1::FeatureService* resp) {
  return ReplyObject(registry_->reader().GetObject(v1::FEATURE_SERVICE, *req), resp);
}

grpc::Status RegistryGrpc::ListFeatureServices(grpc::ServerContext*,
                                               const v1::ListObjectsRequest* req,
                                               v1::ListFeatureServicesResponse* resp) {
  return ReplyList(registry_->reader().ListObjects(v1::FEATURE_SERVICE, *req), resp);
}

grpc::Status RegistryGrpc::GetPermission(grpc::ServerContext*, const v1::GetObjectRequest* req,
                                         v1::Permission* resp) {
  return ReplyObject(registry_->reader().GetObject(v1::PERMISSION, *req), resp);
}

grpc::Status RegistryGrpc::ListPermissions(grpc::ServerContext*, const v1::ListObjectsRequest* req,
                                           v1::ListPermissionsResponse* resp) {
  return ReplyList(registry_->reader().ListObjects(v1::PERMISSION, *req), resp);
}

grpc::Status RegistryGrpc::DeleteObject(grpc::ServerContext* ctx,
                                        const v1::DeleteObjectRequest* req,
                                        v1::DeleteObjectResponse* resp) {
  return Reply(registry_->writer().DeleteObject(*req, base::CallerName(*ctx)), resp);
}

grpc::Status RegistryGrpc::GetSnapshot(grpc::ServerContext*, const v1::GetSnapshotRequest* req,
                                       v1::GetSnapshotResponse* resp) {
  return Reply(registry_->snapshots().Get(*req), resp);
}

grpc::Status RegistryGrpc::ListHistory(grpc::ServerContext*, const v1::ListHistoryRequest* req,
                                       v1::ListHistoryResponse* resp) {
  return Reply(registry_->reader().ListHistory(*req), resp);
}

grpc::Status RegistryGrpc::RecordMaterialization(grpc::ServerContext*,
                                                 const v1::RecordMaterializationRequest* req,
                                                 v1::RecordMaterializationResponse*) {
  return ToGrpcStatus(registry_->materializations().Record(*req));
}

grpc::Status RegistryGrpc::GetMaterializationState(grpc::ServerContext*,
                                                   const v1::GetMaterializationStateRequest* req,
                                                   v1::MaterializationState* resp) {
  return Reply(registry_->materializations().State(*req), resp);
}

}  // namespace granary::registry
