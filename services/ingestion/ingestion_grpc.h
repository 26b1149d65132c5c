// The gRPC adapter of the ingestion service, on the callback API: a push waits for JetStream
// without holding a thread, and a PushStream keeps up to `max_in_flight` batches in flight,
// answering each as soon as it is stored (not necessarily in order).
#ifndef GRANARY_SERVICES_INGESTION_INGESTION_GRPC_H_
#define GRANARY_SERVICES_INGESTION_INGESTION_GRPC_H_

#include <memory>

#include "granary/ingestion/v1/ingestion.grpc.pb.h"

#include "services/ingestion/pusher.h"

namespace granary::ingestion {

class IngestionGrpc final : public v1::IngestionService::CallbackService {
 public:
  IngestionGrpc(std::shared_ptr<Pusher> pusher, size_t max_in_flight)
      : pusher_(std::move(pusher)), max_in_flight_(max_in_flight) {}

  grpc::ServerUnaryReactor* Push(grpc::CallbackServerContext* context,
                                 const v1::PushRequest* request,
                                 v1::PushResponse* response) override;
  grpc::ServerBidiReactor<v1::PushStreamRequest, v1::PushStreamResponse>* PushStream(
      grpc::CallbackServerContext* context) override;

 private:
  const std::shared_ptr<Pusher> pusher_;
  const size_t max_in_flight_;
};

}  // namespace granary::ingestion

#endif  // GRANARY_SERVICES_INGESTION_INGESTION_GRPC_H_
