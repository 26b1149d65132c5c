// The gRPC adapter of the ingestion service, on the callback API: a push waits for JetStream
// without holding a thread, and a PushStream keeps up to `max_in_flight` batches in flight,
// answering each as soon as it is stored (not necessarily in order). Requests are parsed on an
// arena and dropped as soon as Push has turned them into messages: what waits for JetStream is
// the messages, which the in-flight budget counts.
#ifndef GRANARY_SERVICES_INGESTION_INGESTION_GRPC_H_
#define GRANARY_SERVICES_INGESTION_INGESTION_GRPC_H_

#include <memory>

#include "granary/ingestion/v1/ingestion.grpc.pb.h"
#include "grpcpp/support/message_allocator.h"

#include "services/ingestion/pusher.h"

namespace granary::ingestion {

class IngestionGrpc final
    : public v1::IngestionService::WithCallbackMethod_Push<
          v1::IngestionService::WithRawCallbackMethod_PushStream<v1::IngestionService::Service>> {
 public:
  IngestionGrpc(std::shared_ptr<Pusher> pusher, size_t max_in_flight);
  ~IngestionGrpc() override;

  grpc::ServerUnaryReactor* Push(grpc::CallbackServerContext* context,
                                 const v1::PushRequest* request,
                                 v1::PushResponse* response) override;
  // Raw bytes, parsed by the reactor (see ingestion_grpc.cc).
  grpc::ServerBidiReactor<grpc::ByteBuffer, grpc::ByteBuffer>* PushStream(
      grpc::CallbackServerContext* context) override;

 private:
  const std::shared_ptr<Pusher> pusher_;
  const size_t max_in_flight_;
  // Unary requests on the heap, freed as soon as Push has used them (not when answered).
  const std::unique_ptr<grpc::MessageAllocator<v1::PushRequest, v1::PushResponse>> allocator_;
};

}  // namespace granary::ingestion

#endif  // GRANARY_SERVICES_INGESTION_INGESTION_GRPC_H_
