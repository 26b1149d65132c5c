// A service of raw (bytes in, bytes out) async unary methods under the gRPC paths given
// ("/pkg.Service/Method"), for servers on completion queues (ServiceHost::UseQueues) that
// parse requests themselves (onto an arena) and answer with bytes already serialized. gRPC's
// reflection names such a service after its last method's path, so give each service name a
// service of its own.
//
//   RawAsyncService service({"/granary.serving.v1.ServingService/GetOnlineFeatures"});
//   service.Request(0, &ctx, &request, &responder, queue, tag);  // tag comes back on `queue`
#ifndef GRANARY_LIBS_SERVER_RAW_ASYNC_SERVICE_H_
#define GRANARY_LIBS_SERVER_RAW_ASYNC_SERVICE_H_

#include <string>
#include <utility>
#include <vector>

#include "grpcpp/completion_queue.h"
#include "grpcpp/impl/rpc_service_method.h"
#include "grpcpp/impl/service_type.h"
#include "grpcpp/server_context.h"
#include "grpcpp/support/async_unary_call.h"
#include "grpcpp/support/byte_buffer.h"

namespace granary::server {

class RawAsyncService final : public grpc::Service {
 public:
  explicit RawAsyncService(std::vector<std::string> paths) : paths_(std::move(paths)) {
    // gRPC keeps the names' pointers: paths_ is never resized after this.
    for (size_t i = 0; i < paths_.size(); ++i) {
      AddMethod(new grpc::internal::RpcServiceMethod(
          paths_[i].c_str(), grpc::internal::RpcMethod::NORMAL_RPC, nullptr));
      MarkMethodRaw(static_cast<int>(i));
    }
  }

  // Waits for a call of method `method` (an index into the paths); `tag` comes back on `queue`
  // when one arrived (ok) or the server shut down (not ok).
  void Request(int method, grpc::ServerContext* context, grpc::ByteBuffer* request,
               grpc::ServerAsyncResponseWriter<grpc::ByteBuffer>* responder,
               grpc::ServerCompletionQueue* queue, void* tag) {
    RequestAsyncUnary(method, context, request, responder, queue, queue, tag);
  }

  const std::vector<std::string>& paths() const { return paths_; }

 private:
  const std::vector<std::string> paths_;
};

}  // namespace granary::server

#endif  // GRANARY_LIBS_SERVER_RAW_ASYNC_SERVICE_H_
