// The gRPC adapter of the serving service, registered twice: as granary.serving.v1.ServingService
// and as feast.serving.ServingService (Feast's own name, for Feast clients), with the same
// handlers. It is built on gRPC's callback API: a GetOnlineFeatures handler starts the read and
// returns; the online store's I/O thread finishes the call when Redis answers, so no thread
// waits on Redis (tools/bench grpc_api measured the choice). GetOnlineFeatures is a raw method:
// the request is parsed here onto a per-call arena, and the response goes out as the bytes
// OnlineReader wrote, without a message in between. Every handler first checks the gateway's
// signature on the call for the name it was called under (server.gateway_signature).
#ifndef GRANARY_SERVICES_SERVING_SERVING_GRPC_H_
#define GRANARY_SERVICES_SERVING_SERVING_GRPC_H_

#include <memory>

#include "feast/serving/serving_service.grpc.pb.h"
#include "granary/serving/v1/serving.grpc.pb.h"

#include "libs/server/caller_check.h"
#include "services/serving/online_reader.h"

namespace granary::serving {

class ServingGrpc final : public v1::ServingService::WithCallbackMethod_GetFeastServingInfo<
                              v1::ServingService::WithRawCallbackMethod_GetOnlineFeatures<
                                  v1::ServingService::Service>> {
 public:
  ServingGrpc(std::shared_ptr<OnlineReader> reader, server::CallerCheck callers)
      : reader_(std::move(reader)), callers_(std::move(callers)) {}
  grpc::ServerUnaryReactor* GetFeastServingInfo(grpc::CallbackServerContext* context,
                                                const v1::GetFeastServingInfoRequest* request,
                                                v1::GetFeastServingInfoResponse* response) override;
  grpc::ServerUnaryReactor* GetOnlineFeatures(grpc::CallbackServerContext* context,
                                              const grpc::ByteBuffer* request,
                                              grpc::ByteBuffer* response) override;

 private:
  std::shared_ptr<OnlineReader> reader_;
  const server::CallerCheck callers_;
};

class FeastServingGrpc final
    : public feast::serving::ServingService::WithCallbackMethod_GetFeastServingInfo<
          feast::serving::ServingService::WithRawCallbackMethod_GetOnlineFeatures<
              feast::serving::ServingService::Service>> {
 public:
  FeastServingGrpc(std::shared_ptr<OnlineReader> reader, server::CallerCheck callers)
      : reader_(std::move(reader)), callers_(std::move(callers)) {}
  grpc::ServerUnaryReactor* GetFeastServingInfo(grpc::CallbackServerContext* context,
                                                const v1::GetFeastServingInfoRequest* request,
                                                v1::GetFeastServingInfoResponse* response) override;
  grpc::ServerUnaryReactor* GetOnlineFeatures(grpc::CallbackServerContext* context,
                                              const grpc::ByteBuffer* request,
                                              grpc::ByteBuffer* response) override;

 private:
  std::shared_ptr<OnlineReader> reader_;
  const server::CallerCheck callers_;
};

}  // namespace granary::serving

#endif  // GRANARY_SERVICES_SERVING_SERVING_GRPC_H_
