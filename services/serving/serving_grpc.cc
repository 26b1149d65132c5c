#include "services/serving/serving_grpc.h"

#include <chrono>
#include <string>

#include "absl/strings/str_cat.h"
#include "google/protobuf/arena.h"
#include "grpcpp/support/proto_buffer_reader.h"

#include "libs/base/grpc_status.h"
#include "libs/base/version.h"

namespace granary::serving {
namespace {

using Request = v1::GetOnlineFeaturesRequest;

// Most requests fit in the first block (50 feature references and a few entity rows).
constexpr size_t kFirstArenaBlock = 8 << 10;

// One call's request, on an arena freed when the call is answered.
struct CallState {
  CallState()
      : arena(Options()), request(google::protobuf::Arena::CreateMessage<Request>(&arena)) {}
  static google::protobuf::ArenaOptions Options() {
    google::protobuf::ArenaOptions options;
    options.start_block_size = kFirstArenaBlock;
    return options;
  }
  google::protobuf::Arena arena;
  Request* request;
};

// Hands `bytes` to gRPC without copying; gRPC frees them when sent.
grpc::ByteBuffer ToByteBuffer(std::string bytes) {
  auto* owned = new std::string(std::move(bytes));
  grpc::Slice slice(
      owned->empty() ? nullptr : &(*owned)[0], owned->size(),
      [](void* s) { delete static_cast<std::string*>(s); }, owned);
  return grpc::ByteBuffer(&slice, 1);
}

// The reactor of a call refused by `refusal` (not OK); null when it may go on.
grpc::ServerUnaryReactor* Refused(grpc::CallbackServerContext* context, grpc::Status refusal) {
  if (refusal.ok()) return nullptr;
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  reactor->Finish(std::move(refusal));
  return reactor;
}

grpc::ServerUnaryReactor* ServeInfo(const server::CallerCheck& callers, const char* service,
                                    grpc::CallbackServerContext* context,
                                    v1::GetFeastServingInfoResponse* response) {
  if (auto* refused = Refused(context, callers.Check(*context, service, "GetFeastServingInfo"))) {
    return refused;
  }
  response->set_version(absl::StrCat("granary ", base::kVersion));
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  reactor->Finish(grpc::Status::OK);
  return reactor;
}

grpc::ServerUnaryReactor* ServeOnlineFeatures(const server::CallerCheck& callers,
                                              const char* service, OnlineReader& reader,
                                              grpc::CallbackServerContext* context,
                                              const grpc::ByteBuffer* request,
                                              grpc::ByteBuffer* response) {
  if (auto* refused = Refused(context, callers.Check(*context, service, "GetOnlineFeatures"))) {
    return refused;
  }
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  auto* call = new CallState();
  grpc::ProtoBufferReader input(const_cast<grpc::ByteBuffer*>(request));
  if (!call->request->ParseFromZeroCopyStream(&input)) {
    delete call;
    reactor->Finish(grpc::Status(grpc::StatusCode::INVALID_ARGUMENT,
                                 "request: not a GetOnlineFeaturesRequest"));
    return reactor;
  }
  // No client deadline reads as the far future; the reader caps it.
  absl::Time deadline = context->deadline() == std::chrono::system_clock::time_point::max()
                            ? absl::InfiniteFuture()
                            : absl::FromChrono(context->deadline());
  reader.Read(*call->request, deadline,
              [reactor, response, call](absl::StatusOr<std::string> answer) {
                delete call;
                if (!answer.ok()) {
                  reactor->Finish(base::ToGrpcStatus(answer.status()));
                  return;
                }
                *response = ToByteBuffer(*std::move(answer));
                reactor->Finish(grpc::Status::OK);
              });
  return reactor;
}

}  // namespace

grpc::ServerUnaryReactor* ServingGrpc::GetFeastServingInfo(grpc::CallbackServerContext* context,
                                                           const v1::GetFeastServingInfoRequest*,
                                                           v1::GetFeastServingInfoResponse* resp) {
  return ServeInfo(callers_, v1::ServingService::service_full_name(), context, resp);
}

grpc::ServerUnaryReactor* ServingGrpc::GetOnlineFeatures(grpc::CallbackServerContext* context,
                                                         const grpc::ByteBuffer* request,
                                                         grpc::ByteBuffer* response) {
  return ServeOnlineFeatures(callers_, v1::ServingService::service_full_name(), *reader_, context,
                             request, response);
}

grpc::ServerUnaryReactor* FeastServingGrpc::GetFeastServingInfo(
    grpc::CallbackServerContext* context, const v1::GetFeastServingInfoRequest*,
    v1::GetFeastServingInfoResponse* resp) {
  return ServeInfo(callers_, feast::serving::ServingService::service_full_name(), context, resp);
}

grpc::ServerUnaryReactor* FeastServingGrpc::GetOnlineFeatures(grpc::CallbackServerContext* context,
                                                              const grpc::ByteBuffer* request,
                                                              grpc::ByteBuffer* response) {
  return ServeOnlineFeatures(callers_, feast::serving::ServingService::service_full_name(),
                             *reader_, context, request, response);
}

}  // namespace granary::serving
