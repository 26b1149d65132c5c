// The gRPC adapter of the serving service, registered twice: as granary.serving.v1.ServingService
// and as feast.serving.ServingService (Feast's own name, for Feast clients), with the same
// handlers. GetOnlineFeatures answers UNIMPLEMENTED until the online read path lands.
#ifndef GRANARY_SERVICES_SERVING_SERVING_GRPC_H_
#define GRANARY_SERVICES_SERVING_SERVING_GRPC_H_

#include "feast/serving/serving_service.grpc.pb.h"
#include "granary/serving/v1/serving.grpc.pb.h"

namespace granary::serving {

class ServingGrpc final : public v1::ServingService::Service {
 public:
  grpc::Status GetFeastServingInfo(grpc::ServerContext* context,
                                   const v1::GetFeastServingInfoRequest* request,
                                   v1::GetFeastServingInfoResponse* response) override;
};

class FeastServingGrpc final : public feast::serving::ServingService::Service {
 public:
  grpc::Status GetFeastServingInfo(grpc::ServerContext* context,
                                   const v1::GetFeastServingInfoRequest* request,
                                   v1::GetFeastServingInfoResponse* response) override;
};

}  // namespace granary::serving

#endif  // GRANARY_SERVICES_SERVING_SERVING_GRPC_H_
