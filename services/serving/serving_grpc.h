// The gRPC adapter of the serving service, registered twice: as granary.serving.v1.ServingService
// and as feast.serving.ServingService (Feast's own name, for Feast clients), with the same
// handlers. It is built on gRPC's callback API: a GetOnlineFeatures handler starts the read and
// returns; the online store's I/O thread finishes the call when Redis answers, so no thread
// waits on Redis (tools/bench grpc_api measured the choice). Requests and responses live in a
// per-call arena.
#ifndef GRANARY_SERVICES_SERVING_SERVING_GRPC_H_
#define GRANARY_SERVICES_SERVING_SERVING_GRPC_H_

#include <memory>

#include "feast/serving/serving_service.grpc.pb.h"
#include "granary/serving/v1/serving.grpc.pb.h"
#include "grpcpp/support/message_allocator.h"

#include "services/serving/online_reader.h"

namespace granary::serving {

// Allocates each call's request and response on an arena freed with the call.
class ArenaMessageAllocator
    : public grpc::MessageAllocator<v1::GetOnlineFeaturesRequest, v1::GetOnlineFeaturesResponse> {
 public:
  grpc::MessageHolder<v1::GetOnlineFeaturesRequest, v1::GetOnlineFeaturesResponse>*
  AllocateMessages() override;
};

class ServingGrpc final : public v1::ServingService::CallbackService {
 public:
  explicit ServingGrpc(std::shared_ptr<OnlineReader> reader);
  grpc::ServerUnaryReactor* GetFeastServingInfo(grpc::CallbackServerContext* context,
                                                const v1::GetFeastServingInfoRequest* request,
                                                v1::GetFeastServingInfoResponse* response) override;
  grpc::ServerUnaryReactor* GetOnlineFeatures(grpc::CallbackServerContext* context,
                                              const v1::GetOnlineFeaturesRequest* request,
                                              v1::GetOnlineFeaturesResponse* response) override;

 private:
  std::shared_ptr<OnlineReader> reader_;
  ArenaMessageAllocator allocator_;
};

class FeastServingGrpc final : public feast::serving::ServingService::CallbackService {
 public:
  explicit FeastServingGrpc(std::shared_ptr<OnlineReader> reader);
  grpc::ServerUnaryReactor* GetFeastServingInfo(grpc::CallbackServerContext* context,
                                                const v1::GetFeastServingInfoRequest* request,
                                                v1::GetFeastServingInfoResponse* response) override;
  grpc::ServerUnaryReactor* GetOnlineFeatures(grpc::CallbackServerContext* context,
                                              const v1::GetOnlineFeaturesRequest* request,
                                              v1::GetOnlineFeaturesResponse* response) override;

 private:
  std::shared_ptr<OnlineReader> reader_;
  ArenaMessageAllocator allocator_;
};

}  // namespace granary::serving

#endif  // GRANARY_SERVICES_SERVING_SERVING_GRPC_H_
