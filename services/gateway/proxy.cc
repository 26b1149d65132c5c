#include "services/gateway/proxy.h"

#include <optional>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/synchronization/mutex.h"
#include "granary/materialization/v1/materialization.pb.h"
#include "grpcpp/grpcpp.h"

#include "libs/base/grpc_status.h"
#include "services/gateway/byte_buffers.h"
#include "services/gateway/call_gate.h"
#include "services/gateway/catalog_objects.h"

namespace granary::gateway {
namespace {

constexpr char kGetJob[] = "/granary.materialization.v1.MaterializationService/GetJob";

class ProxyCall final : public grpc::ServerGenericBidiReactor {
 public:
  ProxyCall(std::shared_ptr<ProxyDeps> deps, grpc::GenericCallbackServerContext* ctx)
      : deps_(std::move(deps)), ctx_(ctx), started_(deps_->clock->Now()) {
    entry_.time = started_;
    entry_.method = ctx->method();
    entry_.trace_id = TraceId(ctx->client_metadata());
  }

  void Begin() {
    route_ = FindRoute(ctx_->method());
    if (route_ == nullptr) {
      Refuse({grpc::Status(grpc::StatusCode::UNIMPLEMENTED,
                           absl::StrCat("the gateway does not forward ", ctx_->method()))});
      return;
    }
    const std::string address = AddressOf(ctx_->peer());
    std::optional<Refusal> refusal = CheckAddress(*deps_, address);
    if (!refusal.has_value()) {
      refusal =
          Admit(*deps_, address,
                deps_->authenticator->Authenticate(TokenOf(ctx_->client_metadata())), &entry_.who);
    }
    if (refusal.has_value()) {
      Refuse(*refusal);
      return;
    }
    StartRead(&request_);
  }

  void OnReadDone(bool ok) override {
    if (!ok) {
      // The caller half-closed (or went away).
      bool close_upstream = false;
      bool nothing_sent = false;
      {
        absl::MutexLock lock(&mu_);
        if (finished_) return;
        close_upstream = upstream_started_;
        nothing_sent = !upstream_started_ && !preflight_pending_;
      }
      if (close_upstream) {
        upstream_.StartWritesDone();
      } else if (nothing_sent) {
        FinishOnce(route_->client_streaming
                       ? grpc::Status::OK
                       : grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, "no request message"));
      }
      return;
    }
    std::string bytes = Flatten(request_);
    auto plan = route_->plan(bytes, deps_->authorizer->catalogs());
    if (!plan.ok()) {
      Refuse(PlanRefusal(plan.status()));
      return;
    }
    plan_ = *std::move(plan);
    if (!plan_.job_id.empty()) {
      LookUpJob();
      return;
    }
    DecideAndForward();
  }

  void OnWriteDone(bool ok) override {
    std::optional<grpc::Status> finish;
    {
      absl::MutexLock lock(&mu_);
      write_pending_ = false;
      if (pending_finish_.has_value()) {
        finish = std::move(pending_finish_);
        pending_finish_.reset();
        finished_ = true;
      }
    }
    if (finish.has_value()) {
      Finish(*finish);
    } else if (!ok) {
      upstream_context_.TryCancel();
    } else {
      upstream_.StartRead(&response_);
    }
  }

  void OnCancel() override {
    bool started;
    bool looking_up;
    {
      absl::MutexLock lock(&mu_);
      started = upstream_started_;
      looking_up = preflight_pending_;
    }
    if (looking_up) job_context_.TryCancel();
    if (started) {
      upstream_context_.TryCancel();
    } else {
      FinishOnce(grpc::Status(grpc::StatusCode::CANCELLED, "cancelled by the caller"));
    }
  }

  void OnDone() override { Settle(&ProxyCall::server_done_, true); }

 private:
  class UpstreamReactor final : public grpc::ClientBidiReactor<grpc::ByteBuffer, grpc::ByteBuffer> {
   public:
    explicit UpstreamReactor(ProxyCall* call) : call_(call) {}
    void OnReadInitialMetadataDone(bool ok) override {
      if (ok) call_->CopyInitialMetadata();
    }
    void OnReadDone(bool ok) override { call_->OnUpstreamRead(ok); }
    void OnWriteDone(bool ok) override { call_->OnUpstreamWrite(ok); }
    void OnDone(const grpc::Status& status) override { call_->OnUpstreamDone(status); }

   private:
    ProxyCall* call_;
  };

  // Unary methods (most of them) take gRPC's unary path upstream: one batch of operations
  // instead of a stream's several.
  class UnaryUpstream final : public grpc::ClientUnaryReactor {
   public:
    explicit UnaryUpstream(ProxyCall* call) : call_(call) {}
    void OnReadInitialMetadataDone(bool ok) override {
      if (ok) call_->CopyInitialMetadata();
    }
    void OnDone(const grpc::Status& status) override { call_->OnUnaryDone(status); }

   private:
    ProxyCall* call_;
  };

  // entry_ is read by FinishOnce, which may run on the upstream's thread while a stream's
  // next message is decided here: every write to it holds mu_.
  void SetDecision(const char* decision) {
    absl::MutexLock lock(&mu_);
    entry_.decision = decision;
  }

  void DecideAndForward() {
    {
      absl::MutexLock lock(&mu_);
      entry_.resources = AuditResources(plan_);
    }
    std::optional<Refusal> refusal = Decide(*deps_, entry_.who, plan_);
    if (refusal.has_value()) {
      Refuse(*refusal);
      return;
    }
    SetDecision("allow");
    Forward();
  }

  // Job calls: ask the materializer which project the job is in, then decide on that.
  void LookUpJob() {
    {
      absl::MutexLock lock(&mu_);
      preflight_pending_ = true;
    }
    materialization::v1::GetJobRequest request;
    request.set_job_id(plan_.job_id);
    job_request_ = FromString(request.SerializeAsString());
    job_context_.set_deadline(ctx_->deadline());
    job_context_.AddMetadata(auth::kCallerSignatureHeader,
                             deps_->signer->Sign(entry_.who, kGetJob, deps_->clock->Now()));
    deps_->stubs[static_cast<int>(Upstream::kMaterializer)]->UnaryCall(
        &job_context_, kGetJob, grpc::StubOptions(), &job_request_, &job_response_,
        [this](grpc::Status status) { OnJobLookedUp(std::move(status)); });
  }

  void OnJobLookedUp(grpc::Status status) {
    if (!status.ok()) {
      // NOT_FOUND for an unknown job: nothing about other projects is revealed.
      SetDecision("invalid");
      FinishOnce(status);
    } else {
      materialization::v1::Job job;
      if (!job.ParseFromString(Flatten(job_response_))) {
        Refuse({grpc::Status(grpc::StatusCode::INTERNAL, "bad job from the materializer")});
      } else {
        AddCheck(plan_, deps_->authorizer->catalogs(), job.project(), plan_.job_action,
                 registry::v1::PROJECT, job.project());
        plan_.project = job.project();
        DecideAndForward();
      }
    }
    // Only now may the call be deleted (OnDone may already have run).
    Settle(&ProxyCall::preflight_pending_, false);
  }

  void Forward() {
    bool first;
    {
      absl::MutexLock lock(&mu_);
      if (finished_) return;
      first = !upstream_started_;
      upstream_started_ = true;
    }
    to_upstream_ = plan_.rewritten.has_value() ? FromString(*plan_.rewritten) : request_;
    if (!first) {
      upstream_.StartWrite(&to_upstream_);
      return;
    }
    upstream_context_.set_deadline(ctx_->deadline());
    ForwardMetadata(*deps_, ctx_->client_metadata(), entry_.who, ctx_->method(),
                    &upstream_context_);
    if (!route_->client_streaming && !route_->server_streaming) {
      deps_->stubs[static_cast<int>(route_->upstream)]->PrepareUnaryCall(
          &upstream_context_, ctx_->method(), grpc::StubOptions(), &to_upstream_, &response_,
          &unary_upstream_);
      unary_upstream_.StartCall();
      return;
    }
    deps_->stubs[static_cast<int>(route_->upstream)]->PrepareBidiStreamingCall(
        &upstream_context_, ctx_->method(), grpc::StubOptions(), &upstream_);
    upstream_.StartRead(&response_);
    if (route_->client_streaming) {
      upstream_.StartWrite(&to_upstream_);
    } else {
      upstream_.StartWriteLast(&to_upstream_, grpc::WriteOptions());
    }
    upstream_.StartCall();
  }

  void OnUpstreamWrite(bool ok) {
    // One message at a time: the next is read from the caller once this one is on its way.
    if (ok && route_->client_streaming) StartRead(&request_);
  }

  void CopyInitialMetadata() {
    absl::MutexLock lock(&mu_);
    if (initial_copied_ || finished_) return;
    initial_copied_ = true;
    for (const auto& [key, value] : upstream_context_.GetServerInitialMetadata()) {
      if (!HopByHop(View(key))) {
        ctx_->AddInitialMetadata(std::string(View(key)), std::string(View(value)));
      }
    }
  }

  void OnUpstreamRead(bool ok) {
    if (!ok) return;  // the status follows in OnUpstreamDone
    CopyInitialMetadata();
    if (route_->filter) {
      std::string bytes = Flatten(response_);
      absl::Status allowed = route_->filter(&bytes, plan_, entry_.who, *deps_->authorizer);
      if (!allowed.ok()) {
        SetDecision("deny");
        upstream_context_.TryCancel();
        FinishOnce(base::ToGrpcStatus(allowed));
        return;
      }
      to_client_ = FromString(bytes);
    } else {
      to_client_ = response_;
    }
    {
      absl::MutexLock lock(&mu_);
      if (finished_) return;
      write_pending_ = true;
    }
    StartWrite(&to_client_);
  }

  void OnUpstreamDone(const grpc::Status& status) {
    CopyTrailingMetadata();
    FinishOnce(status);
    Settle(&ProxyCall::upstream_done_, true);
  }

  void OnUnaryDone(const grpc::Status& status) {
    CopyTrailingMetadata();
    if (!status.ok()) {
      FinishOnce(status);
    } else if (route_->filter) {
      std::string bytes = Flatten(response_);
      absl::Status allowed = route_->filter(&bytes, plan_, entry_.who, *deps_->authorizer);
      if (!allowed.ok()) {
        SetDecision("deny");
        FinishOnce(base::ToGrpcStatus(allowed));
      } else {
        to_client_ = FromString(bytes);
        FinishOnce(status, &to_client_);
      }
    } else {
      to_client_ = response_;
      FinishOnce(status, &to_client_);
    }
    Settle(&ProxyCall::upstream_done_, true);
  }

  void CopyTrailingMetadata() {
    // Not once the call ended (refused, or cancelled): its trailers may be on their way.
    absl::MutexLock lock(&mu_);
    if (finished_ || pending_finish_.has_value()) return;
    for (const auto& [key, value] : upstream_context_.GetServerTrailingMetadata()) {
      if (!HopByHop(View(key))) {
        ctx_->AddTrailingMetadata(std::string(View(key)), std::string(View(value)));
      }
    }
  }

  // Ends the call with a refusal; a stream already open upstream is cancelled with it (a
  // later PushStream batch refused must not leave the backend's stream waiting).
  void Refuse(const Refusal& refusal) {
    bool started;
    {
      absl::MutexLock lock(&mu_);
      entry_.decision = refusal.decision;
      started = upstream_started_;
      if (refusal.retry_after_seconds > 0 && !finished_) {
        ctx_->AddTrailingMetadata("retry-after", std::to_string(refusal.retry_after_seconds));
      }
    }
    FinishOnce(refusal.status);
    if (started) upstream_context_.TryCancel();
  }

  // Ends the call once, with `message` as its last (for a unary method, only) message when
  // given.
  void FinishOnce(const grpc::Status& status, const grpc::ByteBuffer* message = nullptr) {
    {
      absl::MutexLock lock(&mu_);
      if (finished_ || pending_finish_.has_value()) return;
      // The audit line is written before the caller can see the outcome: whoever reads the
      // log after a call returned finds its line.
      entry_.status = absl::StatusCodeToString(static_cast<absl::StatusCode>(status.error_code()));
      entry_.latency = deps_->clock->Now() - started_;
      if (deps_->audit != nullptr) deps_->audit->Write(entry_);
      if (write_pending_) {
        pending_finish_ = status;  // sent when the write in flight completes
        return;
      }
      finished_ = true;
    }
    if (message != nullptr) {
      StartWriteAndFinish(message, grpc::WriteOptions(), status);
    } else {
      Finish(status);
    }
  }

  // Sets one of the flags the call's end waits for, and deletes the call when that made it
  // end. Setting and checking in one critical section means exactly one callback, the last,
  // sees the end: none touches the call after another deleted it.
  void Settle(bool ProxyCall::*flag, bool value) {
    bool done;
    {
      absl::MutexLock lock(&mu_);
      this->*flag = value;
      done = server_done_ && !preflight_pending_ && (!upstream_started_ || upstream_done_);
    }
    if (done) delete this;
  }

  std::shared_ptr<ProxyDeps> deps_;
  grpc::GenericCallbackServerContext* ctx_;
  const absl::Time started_;
  const Route* route_ = nullptr;
  AuditEntry entry_;
  AccessPlan plan_;

  grpc::ByteBuffer request_;
  grpc::ByteBuffer to_upstream_;
  grpc::ByteBuffer response_;
  grpc::ByteBuffer to_client_;
  grpc::ClientContext upstream_context_;
  UpstreamReactor upstream_{this};
  UnaryUpstream unary_upstream_{this};

  grpc::ClientContext job_context_;
  grpc::ByteBuffer job_request_;
  grpc::ByteBuffer job_response_;

  absl::Mutex mu_;
  bool upstream_started_ ABSL_GUARDED_BY(mu_) = false;
  bool upstream_done_ ABSL_GUARDED_BY(mu_) = false;
  bool preflight_pending_ ABSL_GUARDED_BY(mu_) = false;
  bool server_done_ ABSL_GUARDED_BY(mu_) = false;
  bool finished_ ABSL_GUARDED_BY(mu_) = false;
  bool write_pending_ ABSL_GUARDED_BY(mu_) = false;
  bool initial_copied_ ABSL_GUARDED_BY(mu_) = false;
  std::optional<grpc::Status> pending_finish_ ABSL_GUARDED_BY(mu_);
};

}  // namespace

std::string AddressOf(absl::string_view peer) {
  size_t colon = peer.rfind(':');
  return std::string(colon == absl::string_view::npos ? peer : peer.substr(0, colon));
}

int64_t RetryAfterSeconds(absl::Duration wait) {
  return std::max<int64_t>(1, absl::ToInt64Seconds(absl::Ceil(wait, absl::Seconds(1))));
}

std::string TraceIdOf(absl::string_view traceparent, absl::string_view request_id) {
  std::vector<absl::string_view> parts = absl::StrSplit(traceparent, '-');
  if (parts.size() == 4 && parts[1].size() == 32) return std::string(parts[1]);
  return std::string(request_id.substr(0, 128));
}

std::string BearerToken(absl::string_view authorization) {
  absl::string_view value = absl::StripAsciiWhitespace(authorization);
  if (value.size() < 7 || !absl::EqualsIgnoreCase(value.substr(0, 7), "bearer ")) return "";
  return std::string(absl::StripAsciiWhitespace(value.substr(7)));
}

grpc::ServerGenericBidiReactor* ProxyService::CreateReactor(
    grpc::GenericCallbackServerContext* ctx) {
  auto* call = new ProxyCall(deps_, ctx);
  call->Begin();
  return call;
}

}  // namespace granary::gateway
