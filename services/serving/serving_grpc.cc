#include "services/serving/serving_grpc.h"

#include <chrono>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "google/protobuf/arena.h"

#include "libs/base/grpc_status.h"
#include "libs/base/version.h"

namespace granary::serving {
namespace {

using Request = v1::GetOnlineFeaturesRequest;
using Response = v1::GetOnlineFeaturesResponse;

// A response for 100 rows x 50 features is a few hundred kilobytes; most are far smaller.
constexpr size_t kFirstArenaBlock = 16 << 10;

class ArenaMessages : public grpc::MessageHolder<Request, Response> {
 public:
  ArenaMessages() : arena_(Options()) {
    set_request(google::protobuf::Arena::CreateMessage<Request>(&arena_));
    set_response(google::protobuf::Arena::CreateMessage<Response>(&arena_));
  }
  void Release() override { delete this; }

 private:
  static google::protobuf::ArenaOptions Options() {
    google::protobuf::ArenaOptions options;
    options.start_block_size = kFirstArenaBlock;
    return options;
  }
  google::protobuf::Arena arena_;
};

grpc::ServerUnaryReactor* ServeInfo(grpc::CallbackServerContext* context,
                                    v1::GetFeastServingInfoResponse* response) {
  response->set_version(absl::StrCat("granary ", base::kVersion));
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  reactor->Finish(grpc::Status::OK);
  return reactor;
}

grpc::ServerUnaryReactor* ServeOnlineFeatures(OnlineReader& reader,
                                              grpc::CallbackServerContext* context,
                                              const Request* request, Response* response) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  // No client deadline reads as the far future; the reader caps it.
  absl::Time deadline = context->deadline() == std::chrono::system_clock::time_point::max()
                            ? absl::InfiniteFuture()
                            : absl::FromChrono(context->deadline());
  reader.Read(*request, deadline, response,
              [reactor](absl::Status status) { reactor->Finish(base::ToGrpcStatus(status)); });
  return reactor;
}

}  // namespace

grpc::MessageHolder<Request, Response>* ArenaMessageAllocator::AllocateMessages() {
  return new ArenaMessages();
}

ServingGrpc::ServingGrpc(std::shared_ptr<OnlineReader> reader) : reader_(std::move(reader)) {
  SetMessageAllocatorFor_GetOnlineFeatures(&allocator_);
}

grpc::ServerUnaryReactor* ServingGrpc::GetFeastServingInfo(grpc::CallbackServerContext* context,
                                                           const v1::GetFeastServingInfoRequest*,
                                                           v1::GetFeastServingInfoResponse* resp) {
  return ServeInfo(context, resp);
}

grpc::ServerUnaryReactor* ServingGrpc::GetOnlineFeatures(grpc::CallbackServerContext* context,
                                                         const Request* request,
                                                         Response* response) {
  return ServeOnlineFeatures(*reader_, context, request, response);
}

FeastServingGrpc::FeastServingGrpc(std::shared_ptr<OnlineReader> reader)
    : reader_(std::move(reader)) {
  SetMessageAllocatorFor_GetOnlineFeatures(&allocator_);
}

grpc::ServerUnaryReactor* FeastServingGrpc::GetFeastServingInfo(
    grpc::CallbackServerContext* context, const v1::GetFeastServingInfoRequest*,
    v1::GetFeastServingInfoResponse* resp) {
  return ServeInfo(context, resp);
}

grpc::ServerUnaryReactor* FeastServingGrpc::GetOnlineFeatures(grpc::CallbackServerContext* context,
                                                              const Request* request,
                                                              Response* response) {
  return ServeOnlineFeatures(*reader_, context, request, response);
}

}  // namespace granary::serving
