// The gRPC adapter of the registry: proto in, Registry call, proto out, and the one status
// conversion. Every handler first checks the gateway's signature on the call (refused when
// server.gateway_signature requires one and it is missing or invalid); who applied or deleted
// is the user the gateway signed for, else the unsigned x-granary-caller metadata when no
// signature is required, else "anonymous".
#ifndef GRANARY_SERVICES_REGISTRY_REGISTRY_GRPC_H_
#define GRANARY_SERVICES_REGISTRY_REGISTRY_GRPC_H_

#include "granary/registry/v1/registry_service.grpc.pb.h"

#include "libs/server/caller_check.h"
#include "services/registry/registry.h"

namespace granary::registry {

class RegistryGrpc final : public v1::RegistryService::Service {
 public:
  RegistryGrpc(std::shared_ptr<Registry> registry, server::CallerCheck callers)
      : registry_(std::move(registry)), callers_(std::move(callers)) {}

  grpc::Status Plan(grpc::ServerContext*, const v1::PlanRequest*, v1::PlanResponse*) override;
  grpc::Status Apply(grpc::ServerContext*, const v1::ApplyRequest*, v1::ApplyResponse*) override;
  grpc::Status GetProject(grpc::ServerContext*, const v1::GetProjectRequest*,
                          v1::Project*) override;
  grpc::Status ListProjects(grpc::ServerContext*, const v1::ListProjectsRequest*,
                            v1::ListProjectsResponse*) override;
  grpc::Status DeleteProject(grpc::ServerContext*, const v1::DeleteProjectRequest*,
                             v1::DeleteProjectResponse*) override;
  grpc::Status GetEntity(grpc::ServerContext*, const v1::GetObjectRequest*, v1::Entity*) override;
  grpc::Status ListEntities(grpc::ServerContext*, const v1::ListObjectsRequest*,
                            v1::ListEntitiesResponse*) override;
  grpc::Status GetDataSource(grpc::ServerContext*, const v1::GetObjectRequest*,
                             v1::DataSource*) override;
  grpc::Status ListDataSources(grpc::ServerContext*, const v1::ListObjectsRequest*,
                               v1::ListDataSourcesResponse*) override;
  grpc::Status GetFeatureView(grpc::ServerContext*, const v1::GetObjectRequest*,
                              v1::FeatureView*) override;
  grpc::Status ListFeatureViews(grpc::ServerContext*, const v1::ListObjectsRequest*,
                                v1::ListFeatureViewsResponse*) override;
  grpc::Status GetOnDemandFeatureView(grpc::ServerContext*, const v1::GetObjectRequest*,
                                      v1::OnDemandFeatureView*) override;
  grpc::Status ListOnDemandFeatureViews(grpc::ServerContext*, const v1::ListObjectsRequest*,
                                        v1::ListOnDemandFeatureViewsResponse*) override;
  grpc::Status GetFeatureService(grpc::ServerContext*, const v1::GetObjectRequest*,
                                 v1::FeatureService*) override;
  grpc::Status ListFeatureServices(grpc::ServerContext*, const v1::ListObjectsRequest*,
                                   v1::ListFeatureServicesResponse*) override;
  grpc::Status GetPermission(grpc::ServerContext*, const v1::GetObjectRequest*,
                             v1::Permission*) override;
  grpc::Status ListPermissions(grpc::ServerContext*, const v1::ListObjectsRequest*,
                               v1::ListPermissionsResponse*) override;
  grpc::Status DeleteObject(grpc::ServerContext*, const v1::DeleteObjectRequest*,
                            v1::DeleteObjectResponse*) override;
  grpc::Status GetSnapshot(grpc::ServerContext*, const v1::GetSnapshotRequest*,
                           v1::GetSnapshotResponse*) override;
  grpc::Status ListHistory(grpc::ServerContext*, const v1::ListHistoryRequest*,
                           v1::ListHistoryResponse*) override;
  grpc::Status RecordMaterialization(grpc::ServerContext*, const v1::RecordMaterializationRequest*,
                                     v1::RecordMaterializationResponse*) override;
  grpc::Status GetMaterializationState(grpc::ServerContext*,
                                       const v1::GetMaterializationStateRequest*,
                                       v1::MaterializationState*) override;

 private:
  std::shared_ptr<Registry> registry_;
  const server::CallerCheck callers_;
};

}  // namespace granary::registry

#endif  // GRANARY_SERVICES_REGISTRY_REGISTRY_GRPC_H_
