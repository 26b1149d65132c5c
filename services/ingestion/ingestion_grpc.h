// The gRPC adapter of the ingestion service, on the callback API: a push waits for JetStream
// without holding a thread, and a PushStream keeps up to `max_in_flight` batches in flight,
// answering each as soon as it is stored (not necessarily in order). Requests are parsed on an
// arena and dropped as soon as Push has turned them into messages: what waits for JetStream is
// the messages, which the in-flight budget counts. The number of open PushStreams is bounded
// too (StreamLimits::max_streams): what gRPC holds per stream is outside the budget. Both
// methods first check the gateway's signature on the call (server.gateway_signature); a
// stream is checked before anything of it is read.
#ifndef GRANARY_SERVICES_INGESTION_INGESTION_GRPC_H_
#define GRANARY_SERVICES_INGESTION_INGESTION_GRPC_H_

#include <atomic>
#include <memory>

#include "absl/time/time.h"
#include "granary/ingestion/v1/ingestion.grpc.pb.h"
#include "grpcpp/support/message_allocator.h"

#include "libs/server/caller_check.h"
#include "libs/trace/tracer.h"
#include "services/ingestion/ingestion_metrics.h"
#include "services/ingestion/pusher.h"

namespace granary::ingestion {

struct StreamLimits {
  // Batches of one PushStream awaiting JetStream at once.
  size_t max_in_flight = 256;
  // PushStreams open at once in this process: each holds what gRPC buffers for it (a flow
  // control window and the batch being received, a few hundred KB), which the in-flight budget
  // does not see; past it a new stream is refused at once with RESOURCE_EXHAUSTED and a hint
  // of when to try again, so memory stays bounded whatever the number of producers.
  int max_streams = 256;
  absl::Duration stream_retry_after = absl::Seconds(1);
};

class IngestionGrpc final
    : public v1::IngestionService::WithCallbackMethod_Push<
          v1::IngestionService::WithRawCallbackMethod_PushStream<v1::IngestionService::Service>> {
 public:
  // `metrics` and `tracer` (the spans of each PushStream's batches) may be null (tests).
  IngestionGrpc(std::shared_ptr<Pusher> pusher, StreamLimits limits, server::CallerCheck callers,
                std::shared_ptr<IngestionMetrics> metrics = nullptr,
                trace::Tracer* tracer = nullptr);
  // PushStreams open now; shared, so that it can be read after this is gone.
  std::shared_ptr<const std::atomic<int>> open_streams() const { return open_streams_; }
  ~IngestionGrpc() override;

  grpc::ServerUnaryReactor* Push(grpc::CallbackServerContext* context,
                                 const v1::PushRequest* request,
                                 v1::PushResponse* response) override;
  // Raw bytes, parsed by the reactor (see ingestion_grpc.cc).
  grpc::ServerBidiReactor<grpc::ByteBuffer, grpc::ByteBuffer>* PushStream(
      grpc::CallbackServerContext* context) override;

 private:
  const std::shared_ptr<Pusher> pusher_;
  const StreamLimits limits_;
  const server::CallerCheck callers_;
  const std::shared_ptr<IngestionMetrics> metrics_;
  trace::Tracer* const tracer_;
  // Shared with the streams, which leave when done (maybe after this is destroyed).
  const std::shared_ptr<std::atomic<int>> open_streams_ = std::make_shared<std::atomic<int>>(0);
  // Unary requests on the heap, freed as soon as Push has used them (not when answered).
  const std::unique_ptr<grpc::MessageAllocator<v1::PushRequest, v1::PushResponse>> allocator_;
};

}  // namespace granary::ingestion

#endif  // GRANARY_SERVICES_INGESTION_INGESTION_GRPC_H_
