#include "services/serving/serving_grpc.h"

#include <atomic>
#include <chrono>
#include <optional>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "feast/serving/serving_service.grpc.pb.h"
#include "google/protobuf/arena.h"
#include "granary/serving/v1/serving.grpc.pb.h"
#include "grpcpp/server_context.h"
#include "grpcpp/support/async_unary_call.h"
#include "grpcpp/support/proto_buffer_reader.h"

#include "libs/base/grpc_status.h"
#include "libs/base/version.h"
#include "libs/server/queue_event.h"
#include "libs/server/raw_async_service.h"

namespace granary::serving {
namespace {

using Request = v1::GetOnlineFeaturesRequest;

// The methods of each service, by index.
enum Method { kGetOnlineFeatures, kGetFeastServingInfo, kMethods };
constexpr const char* kMethodNames[kMethods] = {"GetOnlineFeatures", "GetFeastServingInfo"};

// Most requests fit in the first block (50 feature references and a few entity rows).
constexpr size_t kFirstArenaBlock = 8 << 10;

google::protobuf::ArenaOptions ArenaOptions() {
  google::protobuf::ArenaOptions options;
  options.start_block_size = kFirstArenaBlock;
  return options;
}

// Hands `bytes` to gRPC without copying; gRPC frees them when sent.
grpc::ByteBuffer ToByteBuffer(std::string bytes) {
  auto* owned = new std::string(std::move(bytes));
  grpc::Slice slice(
      owned->empty() ? nullptr : &(*owned)[0], owned->size(),
      [](void* s) { delete static_cast<std::string*>(s); }, owned);
  return grpc::ByteBuffer(&slice, 1);
}

}  // namespace

class ServingGrpc::Shared {
 public:
  Shared(std::shared_ptr<OnlineReader> reader, server::CallerCheck callers)
      : reader(std::move(reader)), callers(std::move(callers)) {
    for (const std::string& name :
         {std::string(v1::ServingService::service_full_name()),
          std::string(feast::serving::ServingService::service_full_name())}) {
      std::vector<std::string> paths;
      for (const char* method : kMethodNames) paths.push_back(absl::StrCat("/", name, "/", method));
      owned_services.push_back(std::make_unique<server::RawAsyncService>(std::move(paths)));
      services.push_back(owned_services.back().get());
      names.push_back(name);
    }
  }

  // A call object exists (waiting for a request, or answering one). No lock on the request
  // path: the mutex is taken only when the count reaches zero, to wake Drain.
  void Enter() { live.fetch_add(1); }
  void Leave() {
    if (live.fetch_sub(1) == 1) {
      absl::MutexLock wake(&mu);  // Drain's Await looks again when the mutex is released
    }
  }
  void Drain() {
    absl::MutexLock lock(&mu);
    mu.Await(absl::Condition(
        +[](std::atomic<int>* n) { return n->load() == 0; }, &live));
  }

  const std::shared_ptr<OnlineReader> reader;
  const server::CallerCheck callers;
  std::vector<std::unique_ptr<server::RawAsyncService>> owned_services;  // until taken
  std::vector<server::RawAsyncService*> services;
  std::vector<std::string> names;

 private:
  absl::Mutex mu;
  std::atomic<int> live{0};
};

namespace {

// One call of one method of one service on one queue: waits for its request, then answers it.
// It comes back from the queue twice (request, then finish), and nothing else touches it in
// between but the thread that completes its read, so it needs no lock.
class Call final : public server::QueueEvent {
 public:
  Call(ServingGrpc::Shared* shared, int service, Method method, grpc::ServerCompletionQueue* queue)
      : shared_(shared), service_(service), method_(method), queue_(queue), responder_(&ctx_) {
    shared_->Enter();
    shared_->services[service_]->Request(method_, &ctx_, &request_bytes_, &responder_, queue_,
                                         this);
  }
  ~Call() { shared_->Leave(); }

  void Run(bool ok) override {
    if (finishing_ || !ok) {  // answered, or the server shut down before a request came
      delete this;
      return;
    }
    // The next call of this method on this queue waits while this one is answered.
    new Call(shared_, service_, method_, queue_);
    grpc::Status refused =
        shared_->callers.Check(ctx_, shared_->names[service_], kMethodNames[method_]);
    if (!refused.ok()) return Fail(std::move(refused));
    if (method_ == kGetFeastServingInfo) return ServeInfo();
    ServeOnlineFeatures();
  }

 private:
  void ServeInfo() {
    v1::GetFeastServingInfoRequest request;
    grpc::ProtoBufferReader input(&request_bytes_);
    if (!request.ParseFromZeroCopyStream(&input)) {
      return Fail(grpc::Status(grpc::StatusCode::INVALID_ARGUMENT,
                               "request: not a GetFeastServingInfoRequest"));
    }
    v1::GetFeastServingInfoResponse response;
    response.set_version(absl::StrCat("granary ", base::kVersion));
    Answer(response.SerializeAsString());
  }

  void ServeOnlineFeatures() {
    arena_.emplace(ArenaOptions());
    Request* request = google::protobuf::Arena::CreateMessage<Request>(&*arena_);
    grpc::ProtoBufferReader input(&request_bytes_);
    if (!request->ParseFromZeroCopyStream(&input)) {
      return Fail(grpc::Status(grpc::StatusCode::INVALID_ARGUMENT,
                               "request: not a GetOnlineFeaturesRequest"));
    }
    // No client deadline reads as the far future; the reader caps it.
    absl::Time deadline = ctx_.deadline() == std::chrono::system_clock::time_point::max()
                              ? absl::InfiniteFuture()
                              : absl::FromChrono(ctx_.deadline());
    // From here the call may finish on another thread at any moment: nothing after Read. The
    // read may wait for Redis on this thread only when nothing else was ready on its queue;
    // otherwise it goes to the online store's I/O thread, where concurrent reads share a
    // round trip, and this thread moves on to the next call.
    shared_->reader->Read(
        *request, deadline,
        [this](absl::StatusOr<std::string> answer) {
          if (!answer.ok()) return Fail(base::ToGrpcStatus(answer.status()));
          Answer(*std::move(answer));
        },
        /*caller_may_wait=*/server::QueueWasIdle());
  }

  void Answer(std::string bytes) {
    finishing_ = true;
    responder_.Finish(ToByteBuffer(std::move(bytes)), grpc::Status::OK, this);
  }
  void Fail(grpc::Status status) {
    finishing_ = true;
    responder_.FinishWithError(status, this);
  }

  ServingGrpc::Shared* const shared_;
  const int service_;
  const Method method_;
  grpc::ServerCompletionQueue* const queue_;
  grpc::ServerContext ctx_;
  grpc::ByteBuffer request_bytes_;
  grpc::ServerAsyncResponseWriter<grpc::ByteBuffer> responder_;
  // The parsed request; it must outlive the read (OnlineReader::Read).
  std::optional<google::protobuf::Arena> arena_;
  bool finishing_ = false;
};

}  // namespace

ServingGrpc::ServingGrpc(std::shared_ptr<OnlineReader> reader, server::CallerCheck callers)
    : shared_(std::make_shared<Shared>(std::move(reader), std::move(callers))) {}

ServingGrpc::~ServingGrpc() = default;

std::vector<std::pair<std::unique_ptr<grpc::Service>, std::string>> ServingGrpc::TakeServices() {
  std::vector<std::pair<std::unique_ptr<grpc::Service>, std::string>> out;
  for (size_t i = 0; i < shared_->owned_services.size(); ++i) {
    out.emplace_back(std::move(shared_->owned_services[i]), shared_->names[i]);
  }
  shared_->owned_services.clear();
  return out;
}

void ServingGrpc::Start(const std::vector<grpc::ServerCompletionQueue*>& queues) {
  for (grpc::ServerCompletionQueue* queue : queues) {
    for (int service = 0; service < static_cast<int>(shared_->services.size()); ++service) {
      // One call per method waits, re-posted as each arrives: 16 waiting calls were measured
      // no better in CPU, closed loop or server p99 (tools/bench/README.md, "Serving").
      for (int method = 0; method < kMethods; ++method) {
        new Call(shared_.get(), service, static_cast<Method>(method), queue);
      }
    }
  }
}

void ServingGrpc::Drain() { shared_->Drain(); }

}  // namespace granary::serving
