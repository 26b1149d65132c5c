#include "services/gateway/unary_fast_path.h"

#include <algorithm>
#include <atomic>
#include <deque>
#include <functional>
#include <optional>
#include <thread>
#include <utility>

#include "absl/synchronization/mutex.h"
#include "grpcpp/alarm.h"
#include "grpcpp/generic/generic_stub.h"
#include "grpcpp/grpcpp.h"
#include "grpcpp/impl/rpc_service_method.h"

#include "libs/base/cpus.h"
#include "libs/base/grpc_status.h"
#include "services/gateway/byte_buffers.h"
#include "services/gateway/call_gate.h"
#include "services/gateway/routes.h"

namespace granary::gateway {
namespace {

// Raw (bytes in, bytes out) async methods under the paths they are called by.
class RawService final : public grpc::Service {
 public:
  explicit RawService(const std::vector<std::string>& methods) {
    for (size_t i = 0; i < methods.size(); ++i) {
      AddMethod(new grpc::internal::RpcServiceMethod(
          methods[i].c_str(), grpc::internal::RpcMethod::NORMAL_RPC, nullptr));
      MarkMethodRaw(static_cast<int>(i));
    }
  }
  void Request(int method, grpc::ServerContext* context, grpc::ByteBuffer* request,
               grpc::ServerAsyncResponseWriter<grpc::ByteBuffer>* responder,
               grpc::ServerCompletionQueue* queue, void* tag) {
    RequestAsyncUnary(method, context, request, responder, queue, queue, tag);
  }
};

// Runs checks that may wait on the network, off the queue threads.
class WaitingLane {
 public:
  explicit WaitingLane(int threads) {
    for (int i = 0; i < threads; ++i) threads_.emplace_back([this] { Loop(); });
  }
  ~WaitingLane() {
    {
      absl::MutexLock lock(&mu_);
      stopping_ = true;
    }
    for (std::thread& t : threads_) t.join();
  }
  void Run(std::function<void()> work) {
    absl::MutexLock lock(&mu_);
    queue_.push_back(std::move(work));
  }

 private:
  void Loop() {
    for (;;) {
      std::function<void()> work;
      {
        absl::MutexLock lock(&mu_);
        mu_.Await(absl::Condition(
            +[](WaitingLane* self) { return self->stopping_ || !self->queue_.empty(); }, this));
        if (queue_.empty()) return;
        work = std::move(queue_.front());
        queue_.pop_front();
      }
      work();
    }
  }

  absl::Mutex mu_;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  std::deque<std::function<void()>> queue_ ABSL_GUARDED_BY(mu_);
  std::vector<std::thread> threads_;
};

}  // namespace

class UnaryFastPath::Impl {
 public:
  explicit Impl(std::shared_ptr<ProxyDeps> deps)
      : deps_(std::move(deps)), owned_service_(std::make_unique<RawService>(Methods())) {
    service_ = owned_service_.get();
    for (const std::string& method : Methods()) routes_.push_back(FindRoute(method));
  }

  void Start(std::vector<grpc::ServerCompletionQueue*> queues);
  void Stop();
  void Spawn(grpc::ServerCompletionQueue* queue, int method);
  void Ended() {
    absl::MutexLock lock(&mu_);
    --live_;
  }
  bool stopping() const { return stopping_.load(std::memory_order_relaxed); }

  std::shared_ptr<ProxyDeps> deps_;
  std::unique_ptr<RawService> owned_service_;
  RawService* service_;
  std::vector<const Route*> routes_;
  std::unique_ptr<WaitingLane> waiting_ = std::make_unique<WaitingLane>(2);
  std::vector<grpc::ServerCompletionQueue*> queues_;
  std::vector<std::thread> threads_;
  absl::Mutex mu_;
  int live_ ABSL_GUARDED_BY(mu_) = 0;
  std::atomic<bool> stopping_{false};
  bool stopped_ ABSL_GUARDED_BY(mu_) = false;
};

namespace {

// One call, from the request it waits for to its answer. Every step runs on its queue's
// thread (the network check's result comes back through an alarm on that queue), so the call
// needs no lock; it deletes itself when the last of its outstanding tags came back.
class FastCall {
 public:
  enum Event { kRequested, kDone, kChecked, kUpstream, kFinished, kEvents };
  struct Tag {
    FastCall* call;
    Event event;
  };

  FastCall(UnaryFastPath::Impl& path, grpc::ServerCompletionQueue* queue, int method)
      : path_(path), deps_(*path.deps_), queue_(queue), method_(method) {
    for (int e = 0; e < kEvents; ++e) tags_[e] = {this, static_cast<Event>(e)};
    // Before the request: the done tag comes back only for a call that started.
    ctx_.AsyncNotifyWhenDone(&tags_[kDone]);
    outstanding_ = 1;
    path_.service_->Request(method, &ctx_, &request_, &responder_, queue, &tags_[kRequested]);
  }

  static void Dispatch(void* tag, bool ok) {
    auto* t = static_cast<Tag*>(tag);
    t->call->On(t->event, ok);
  }

 private:
  void On(Event event, bool ok) {
    --outstanding_;
    switch (event) {
      case kRequested:
        if (ok) {
          ++outstanding_;  // the done tag
          if (!path_.stopping()) path_.Spawn(queue_, method_);
          Begin();
        }
        break;
      case kDone:
        done_ = true;
        if (ctx_.IsCancelled() && upstream_ != nullptr && !upstream_ended_) {
          upstream_ctx_.TryCancel();
        }
        break;
      case kChecked:
        Continue();
        break;
      case kUpstream:
        upstream_ended_ = true;
        OnUpstream();
        break;
      case kFinished:
      case kEvents:
        break;
    }
    if (outstanding_ == 0) {
      path_.Ended();
      delete this;
    }
  }

  void Begin() {
    const std::string& method = UnaryFastPath::Methods()[method_];
    route_ = path_.routes_[method_];
    started_ = deps_.clock->Now();
    entry_.time = started_;
    entry_.method = method;
    entry_.trace_id = TraceId(ctx_.client_metadata());
    address_ = AddressOf(ctx_.peer());
    if (std::optional<Refusal> refusal = CheckAddress(deps_, address_)) return Refuse(*refusal);
    std::string token = TokenOf(ctx_.client_metadata());
    if (!deps_.authenticator->MayWait(token)) {
      authenticated_ = deps_.authenticator->Authenticate(token);
      return Continue();
    }
    ++outstanding_;
    path_.waiting_->Run([this, token = std::move(token)] {
      authenticated_ = deps_.authenticator->Authenticate(token);
      alarm_.Set(queue_, gpr_now(GPR_CLOCK_MONOTONIC), &tags_[kChecked]);
    });
  }

  void Continue() {
    if (std::optional<Refusal> refusal = Admit(deps_, address_, authenticated_, &entry_.who)) {
      return Refuse(*refusal);
    }
    auto plan = route_->plan(Flatten(request_), deps_.authorizer->catalogs());
    if (!plan.ok()) return Refuse(PlanRefusal(plan.status()));
    plan_ = *std::move(plan);
    entry_.resources = AuditResources(plan_);
    if (std::optional<Refusal> refusal = Decide(deps_, entry_.who, plan_)) {
      return Refuse(*refusal);
    }
    entry_.decision = "allow";
    if (done_ && ctx_.IsCancelled()) {
      return FinishCall(grpc::Status(grpc::StatusCode::CANCELLED, "cancelled by the caller"));
    }
    const std::string& method = UnaryFastPath::Methods()[method_];
    upstream_ctx_.set_deadline(ctx_.deadline());
    ForwardMetadata(deps_, ctx_.client_metadata(), entry_.who, method, &upstream_ctx_);
    grpc::ByteBuffer to_upstream =
        plan_.rewritten.has_value() ? FromString(*plan_.rewritten) : request_;
    upstream_ = deps_.stubs[static_cast<int>(route_->upstream)]->PrepareUnaryCall(
        &upstream_ctx_, method, to_upstream, queue_);
    upstream_->StartCall();
    ++outstanding_;
    upstream_->Finish(&response_, &upstream_status_, &tags_[kUpstream]);
  }

  void OnUpstream() {
    for (const auto& [key, value] : upstream_ctx_.GetServerInitialMetadata()) {
      if (!HopByHop(View(key))) {
        ctx_.AddInitialMetadata(std::string(View(key)), std::string(View(value)));
      }
    }
    for (const auto& [key, value] : upstream_ctx_.GetServerTrailingMetadata()) {
      if (!HopByHop(View(key))) {
        ctx_.AddTrailingMetadata(std::string(View(key)), std::string(View(value)));
      }
    }
    if (!upstream_status_.ok() || !route_->filter) {
      return FinishCall(upstream_status_, upstream_status_.ok() ? &response_ : nullptr);
    }
    std::string bytes = Flatten(response_);
    absl::Status allowed = route_->filter(&bytes, plan_, entry_.who, *deps_.authorizer);
    if (!allowed.ok()) {
      entry_.decision = "deny";
      return FinishCall(base::ToGrpcStatus(allowed));
    }
    response_ = FromString(bytes);
    FinishCall(grpc::Status::OK, &response_);
  }

  void Refuse(const Refusal& refusal) {
    entry_.decision = refusal.decision;
    if (refusal.retry_after_seconds > 0) {
      ctx_.AddTrailingMetadata("retry-after", std::to_string(refusal.retry_after_seconds));
    }
    FinishCall(refusal.status);
  }

  void FinishCall(const grpc::Status& status, const grpc::ByteBuffer* message = nullptr) {
    // The audit line is written before the caller can see the outcome.
    entry_.status = absl::StatusCodeToString(static_cast<absl::StatusCode>(status.error_code()));
    entry_.latency = deps_.clock->Now() - started_;
    if (deps_.audit != nullptr) deps_.audit->Write(entry_);
    ++outstanding_;
    if (message != nullptr) {
      responder_.Finish(*message, status, &tags_[kFinished]);
    } else {
      responder_.FinishWithError(status, &tags_[kFinished]);
    }
  }

  UnaryFastPath::Impl& path_;
  ProxyDeps& deps_;
  grpc::ServerCompletionQueue* const queue_;
  const int method_;
  Tag tags_[kEvents];
  int outstanding_ = 0;
  bool done_ = false;
  bool upstream_ended_ = false;

  grpc::ServerContext ctx_;
  grpc::ByteBuffer request_;
  grpc::ServerAsyncResponseWriter<grpc::ByteBuffer> responder_{&ctx_};
  const Route* route_ = nullptr;
  absl::Time started_;
  std::string address_;
  absl::StatusOr<auth::Identity> authenticated_;
  grpc::Alarm alarm_;
  AuditEntry entry_;
  AccessPlan plan_;

  grpc::ClientContext upstream_ctx_;
  std::unique_ptr<grpc::GenericClientAsyncResponseReader> upstream_;
  grpc::ByteBuffer response_;
  grpc::Status upstream_status_;
};

}  // namespace

void UnaryFastPath::Impl::Spawn(grpc::ServerCompletionQueue* queue, int method) {
  {
    absl::MutexLock lock(&mu_);
    ++live_;
  }
  new FastCall(*this, queue, method);
}

void UnaryFastPath::Impl::Start(std::vector<grpc::ServerCompletionQueue*> queues) {
  queues_ = std::move(queues);
  for (grpc::ServerCompletionQueue* queue : queues_) {
    for (size_t method = 0; method < Methods().size(); ++method) {
      Spawn(queue, static_cast<int>(method));
    }
    threads_.emplace_back([queue] {
      void* tag;
      bool ok;
      while (queue->Next(&tag, &ok)) FastCall::Dispatch(tag, ok);
    });
  }
}

void UnaryFastPath::Impl::Stop() {
  {
    absl::MutexLock lock(&mu_);
    if (stopped_) return;
    stopped_ = true;
    stopping_.store(true);
    // The server stopped: waiting requests come back refused, calls in flight end (the
    // server cancelled what outlived its drain, and with it their upstream calls).
    mu_.Await(absl::Condition(
        +[](int* live) { return *live == 0; }, &live_));
  }
  for (grpc::ServerCompletionQueue* queue : queues_) queue->Shutdown();
  for (std::thread& thread : threads_) thread.join();
  waiting_.reset();
}

const std::vector<std::string>& UnaryFastPath::Methods() {
  static const auto* methods = new std::vector<std::string>{
      "/granary.serving.v1.ServingService/GetOnlineFeatures",
      "/feast.serving.ServingService/GetOnlineFeatures",
      "/granary.serving.v1.ServingService/GetFeastServingInfo",
      "/feast.serving.ServingService/GetFeastServingInfo",
      "/granary.ingestion.v1.IngestionService/Push",
  };
  return *methods;
}

int UnaryFastPath::DefaultThreads() { return std::max(1, base::UsableCpus() / 2); }

UnaryFastPath::UnaryFastPath(std::shared_ptr<ProxyDeps> deps)
    : impl_(std::make_unique<Impl>(std::move(deps))) {}

UnaryFastPath::~UnaryFastPath() { Stop(); }

std::unique_ptr<grpc::Service> UnaryFastPath::TakeService() {
  return std::move(impl_->owned_service_);
}

void UnaryFastPath::Start(std::vector<grpc::ServerCompletionQueue*> queues) {
  impl_->Start(std::move(queues));
}

void UnaryFastPath::Stop() { impl_->Stop(); }

}  // namespace granary::gateway
