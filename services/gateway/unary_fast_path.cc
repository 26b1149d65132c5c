#include "services/gateway/unary_fast_path.h"

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <optional>
#include <utility>

#include "absl/synchronization/mutex.h"
#include "grpcpp/alarm.h"
#include "grpcpp/generic/generic_stub.h"
#include "grpcpp/grpcpp.h"

#include "libs/base/grpc_status.h"
#include "libs/server/queue_event.h"
#include "libs/server/raw_async_service.h"
#include "services/gateway/byte_buffers.h"
#include "services/gateway/call_gate.h"
#include "services/gateway/routes.h"

namespace granary::gateway {
class UnaryFastPath::Impl {
 public:
  explicit Impl(std::shared_ptr<QueueCalls> calls)
      : calls_(std::move(calls)),
        owned_service_(std::make_unique<server::RawAsyncService>(Methods())) {
    service_ = owned_service_.get();
    for (const std::string& method : Methods()) {
      const Route* route = FindRoute(method);
      // Unary, to serving or ingestion, nothing to filter in the answer: no step here needs a
      // project's catalog after the plan, or a job lookup.
      if (route == nullptr || route->client_streaming || route->server_streaming || route->filter ||
          (route->upstream != Upstream::kServing && route->upstream != Upstream::kIngestion)) {
        std::abort();
      }
      routes_.push_back(route);
    }
  }
  void Spawn(grpc::ServerCompletionQueue* queue, int method);

  std::shared_ptr<QueueCalls> calls_;
  std::unique_ptr<server::RawAsyncService> owned_service_;
  server::RawAsyncService* service_;
  std::vector<const Route*> routes_;
};

namespace {

// One call, from the request it waits for to its answer. Every step runs on its queue's
// thread (the network check's result comes back through an alarm on that queue), so the call
// needs no lock; it deletes itself when the last of its outstanding tags came back.
class FastCall {
 public:
  enum Event { kRequested, kDone, kChecked, kPlanned, kUpstream, kFinished, kEvents };
  struct Tag final : server::QueueEvent {
    FastCall* call = nullptr;
    Event event = kRequested;
    void Run(bool ok) override { call->On(event, ok); }
  };

  FastCall(UnaryFastPath::Impl& path, grpc::ServerCompletionQueue* queue, int method)
      : path_(path), deps_(path.calls_->deps()), queue_(queue), method_(method) {
    for (int e = 0; e < kEvents; ++e) {
      tags_[e].call = this;
      tags_[e].event = static_cast<Event>(e);
    }
    // Before the request: the done tag comes back only for a call that started.
    ctx_.AsyncNotifyWhenDone(&tags_[kDone]);
    outstanding_ = 1;
    path_.service_->Request(method, &ctx_, &request_, &responder_, queue, &tags_[kRequested]);
  }

 private:
  void On(Event event, bool ok) {
    --outstanding_;
    switch (event) {
      case kRequested:
        if (ok) {
          ++outstanding_;  // the done tag
          path_.Spawn(queue_, method_);
          Begin();
        }
        break;
      case kDone:
        done_ = true;
        if (ctx_.IsCancelled()) abandoned_.store(true);  // waiting work is skipped
        if (ctx_.IsCancelled() && upstream_ != nullptr && !upstream_ended_) {
          upstream_ctx_.TryCancel();
        }
        break;
      case kChecked:
        if (done_ && ctx_.IsCancelled()) {
          FinishCall(grpc::Status(grpc::StatusCode::CANCELLED, "cancelled by the caller"));
        } else {
          Continue();
        }
        break;
      case kPlanned:
        Planned();
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
      path_.calls_->Leave();
      delete this;
    }
  }

  void Begin() {
    const std::string& method = UnaryFastPath::Methods()[method_];
    route_ = path_.routes_[method_];
    started_ = deps_.clock->Now();
    entry_.time = started_;
    entry_.method = method;
    SetTraceIds(ctx_.client_metadata(), &entry_);
    address_ = AddressOf(ctx_.peer());
    if (std::optional<Refusal> refusal = CheckAddress(deps_, address_)) return Refuse(*refusal);
    std::string token = TokenOf(ctx_.client_metadata());
    if (auto checked = deps_.authenticator->AuthenticateUnlessWaiting(token)) {
      authenticated_ = *std::move(checked);
      return Continue();
    }
    ++outstanding_;
    bool queued = path_.calls_->RunWaiting(
        [this, token = std::move(token)] {
          authenticated_ = deps_.authenticator->Authenticate(token);
        },
        &abandoned_, &alarm_, queue_, &tags_[kChecked]);
    if (!queued) {
      --outstanding_;  // On() itself still holds the call
      Refuse({grpc::Status(grpc::StatusCode::UNAVAILABLE,
                           "the gateway is checking too many new tokens; retry")});
    }
  }

  void Continue() {
    if (std::optional<Refusal> refusal = Admit(deps_, address_, authenticated_, &entry_.who)) {
      return Refuse(*refusal);
    }
    std::string bytes = Flatten(request_);
    {
      // Nothing here may wait: a project whose catalog is not loaded yet (its first load
      // waits for the registry) is planned and decided again off this thread.
      NoWaitScope scope;
      Judge(bytes);
      if (!scope.missed()) return Planned();
    }
    ++outstanding_;
    bool queued = path_.calls_->RunWaiting([this, bytes = std::move(bytes)] { Judge(bytes); },
                                           &abandoned_, &alarm_, queue_, &tags_[kPlanned]);
    if (!queued) {
      --outstanding_;  // On() itself still holds the call
      return Refuse({grpc::Status(grpc::StatusCode::UNAVAILABLE,
                                  "the gateway is loading catalogs for too many calls; retry")});
    }
  }

  // The plan and the verdict on it; only recomputes its results from the request.
  void Judge(const std::string& bytes) {
    planned_ = route_->plan(bytes, deps_.authorizer->catalogs());
    verdict_.reset();
    if (planned_.ok()) verdict_ = Decide(deps_, entry_.who, *planned_);
  }

  void Planned() {
    if (done_ && ctx_.IsCancelled()) {
      return FinishCall(grpc::Status(grpc::StatusCode::CANCELLED, "cancelled by the caller"));
    }
    if (!planned_.ok()) return Refuse(PlanRefusal(planned_.status()));
    plan_ = *std::move(planned_);
    AddAuditResources(plan_, &entry_.resources);
    if (verdict_.has_value()) return Refuse(*verdict_);
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
    // Its methods have no response filter (UnaryFastPath::Methods).
    FinishCall(upstream_status_, upstream_status_.ok() ? &response_ : nullptr);
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
  // Until the check ran (work skipped for a cancelled call leaves it so): never UNKNOWN.
  absl::StatusOr<auth::Identity> authenticated_ = absl::CancelledError("not checked");
  grpc::Alarm alarm_;
  AuditEntry entry_;
  AccessPlan plan_;
  absl::StatusOr<AccessPlan> planned_ = absl::CancelledError("not planned");
  std::optional<Refusal> verdict_;
  std::atomic<bool> abandoned_{false};

  grpc::ClientContext upstream_ctx_;
  std::unique_ptr<grpc::GenericClientAsyncResponseReader> upstream_;
  grpc::ByteBuffer response_;
  grpc::Status upstream_status_;
};

}  // namespace

void UnaryFastPath::Impl::Spawn(grpc::ServerCompletionQueue* queue, int method) {
  if (calls_->Enter()) new FastCall(*this, queue, method);
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

UnaryFastPath::UnaryFastPath(std::shared_ptr<QueueCalls> calls)
    : impl_(std::make_unique<Impl>(std::move(calls))) {}

UnaryFastPath::~UnaryFastPath() = default;

std::unique_ptr<grpc::Service> UnaryFastPath::TakeService() {
  return std::move(impl_->owned_service_);
}

void UnaryFastPath::Start(const std::vector<grpc::ServerCompletionQueue*>& queues) {
  for (grpc::ServerCompletionQueue* queue : queues) {
    for (size_t method = 0; method < Methods().size(); ++method) {
      impl_->Spawn(queue, static_cast<int>(method));
    }
  }
}

}  // namespace granary::gateway
