#include "services/gateway/generic_proxy.h"

#include <algorithm>
#include <atomic>
#include <functional>
#include <optional>
#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "granary/materialization/v1/materialization.pb.h"
#include "grpcpp/alarm.h"
#include "grpcpp/generic/generic_stub.h"
#include "grpcpp/grpcpp.h"

#include "libs/auth/caller_signature.h"
#include "libs/base/grpc_status.h"
#include "libs/server/queue_event.h"
#include "services/gateway/byte_buffers.h"
#include "services/gateway/call_gate.h"
#include "services/gateway/catalog_objects.h"
#include "services/gateway/routes.h"

namespace granary::gateway {

class GenericProxy::Impl {
 public:
  explicit Impl(std::shared_ptr<QueueCalls> calls)
      : calls_(std::move(calls)), owned_service_(std::make_unique<grpc::AsyncGenericService>()) {
    service_ = owned_service_.get();
  }
  void Spawn(grpc::ServerCompletionQueue* queue);

  std::shared_ptr<QueueCalls> calls_;
  std::unique_ptr<grpc::AsyncGenericService> owned_service_;
  grpc::AsyncGenericService* service_;
};

namespace {

constexpr char kGetJob[] = "/granary.materialization.v1.MaterializationService/GetJob";
constexpr absl::Duration kJobLookupTimeout = absl::Seconds(10);

// One call, from the request it waits for to its end. Every step runs on its queue's thread
// (a check that may wait comes back through an alarm on that queue), so the call needs no
// lock. At most one operation of each kind is in flight on either side: the caller's next
// message is read once the previous one is on its way upstream, and the backend's next one
// once the previous one reached the caller. The call deletes itself when the last of its
// outstanding tags came back.
class ProxyCall {
 public:
  ProxyCall(GenericProxy::Impl& proxy, grpc::ServerCompletionQueue* queue)
      : proxy_(proxy), deps_(proxy.calls_->deps()), queue_(queue) {
    // Before the request: the done tag comes back only for a call that started.
    ctx_.AsyncNotifyWhenDone(&done_);
    ++outstanding_;
    proxy_.service_->RequestCall(&ctx_, &stream_, queue, queue, &requested_);
  }

 private:
  // A tag: runs its step, then lets the call go if nothing else is outstanding.
  class Step final : public server::QueueEvent {
   public:
    Step(ProxyCall* call, void (ProxyCall::*step)(bool)) : call_(call), step_(step) {}
    void Run(bool ok) override {
      (call_->*step_)(ok);
      if (--call_->outstanding_ == 0) {
        call_->proxy_.calls_->Leave();
        delete call_;
      }
    }

   private:
    ProxyCall* call_;
    void (ProxyCall::*step_)(bool);
  };

  bool Cancelled() { return done_seen_ && ctx_.IsCancelled(); }

  void OnRequested(bool ok) {
    if (!ok) return;  // the server is shutting down
    ++outstanding_;   // the done tag
    proxy_.Spawn(queue_);
    started_ = deps_.clock->Now();
    entry_.time = started_;
    entry_.method = ctx_.method();
    SetTraceIds(ctx_.client_metadata(), &entry_);
    route_ = FindRoute(ctx_.method());
    if (route_ == nullptr) {
      return Refuse({grpc::Status(grpc::StatusCode::UNIMPLEMENTED,
                                  absl::StrCat("the gateway does not forward ", ctx_.method()))});
    }
    address_ = AddressOf(ctx_.peer());
    if (std::optional<Refusal> refusal = CheckAddress(deps_, address_)) return Refuse(*refusal);
    std::string token = TokenOf(ctx_.client_metadata());
    if (auto checked = deps_.authenticator->AuthenticateUnlessWaiting(token)) {
      authenticated_ = *std::move(checked);
      return Admitted();
    }
    ++outstanding_;
    bool queued = proxy_.calls_->RunWaiting(
        [this, token = std::move(token)] {
          authenticated_ = deps_.authenticator->Authenticate(token);
        },
        &abandoned_, &alarm_, queue_, &checked_);
    if (!queued) {
      --outstanding_;  // this handler's own Step still holds the call
      Refuse({grpc::Status(grpc::StatusCode::UNAVAILABLE,
                           "the gateway is checking too many new tokens; retry")});
    }
  }

  void OnChecked(bool) {
    if (Cancelled()) return FinishOnce(grpc::Status(grpc::StatusCode::CANCELLED, "cancelled"));
    Admitted();
  }

  void Admitted() {
    if (std::optional<Refusal> refusal = Admit(deps_, address_, authenticated_, &entry_.who)) {
      return Refuse(*refusal);
    }
    ReadCaller();
  }

  void ReadCaller() {
    ++outstanding_;
    stream_.Read(&request_, &caller_read_);
  }

  void OnCallerRead(bool ok) {
    if (finished_) return;
    if (!ok) {  // the caller half-closed (or went away)
      if (upstream_ != nullptr) {
        if (!writes_done_) {
          writes_done_ = true;
          ++outstanding_;
          upstream_->WritesDone(&upstream_writes_done_);
        }
        return;
      }
      if (Cancelled()) return FinishOnce(grpc::Status(grpc::StatusCode::CANCELLED, "cancelled"));
      return FinishOnce(route_->client_streaming ? grpc::Status::OK
                                                 : grpc::Status(grpc::StatusCode::INVALID_ARGUMENT,
                                                                "no request message"));
    }
    Judge(
        [this, bytes = Flatten(request_)] {
          planned_ = route_->plan(bytes, deps_.authorizer->catalogs());
          verdict_.reset();
          if (planned_.ok() && planned_->job_id.empty()) {
            verdict_ = Decide(deps_, entry_.who, *planned_);
          }
        },
        &ProxyCall::Planned);
  }

  // Runs `work` here, inside a NoWaitScope; when it needed a catalog not loaded yet (a
  // project no request named before), runs it again on a thread that may wait and goes on
  // from the alarm. Then `next`. The work only recomputes its results from its inputs.
  void Judge(std::function<void()> work, void (ProxyCall::*next)()) {
    {
      NoWaitScope scope;
      work();
      if (!scope.missed()) return (this->*next)();
    }
    next_ = next;
    ++outstanding_;
    bool queued =
        proxy_.calls_->RunWaiting(std::move(work), &abandoned_, &alarm_, queue_, &judged_);
    if (!queued) {
      --outstanding_;  // this handler's own Step still holds the call
      Refuse({grpc::Status(grpc::StatusCode::UNAVAILABLE,
                           "the gateway is loading catalogs for too many calls; retry")});
    }
  }

  void OnJudged(bool) {
    if (finished_) return;
    if (Cancelled()) return FinishOnce(grpc::Status(grpc::StatusCode::CANCELLED, "cancelled"));
    (this->*next_)();
  }

  void Planned() {
    if (!planned_.ok()) return Refuse(PlanRefusal(planned_.status()));
    plan_ = *std::move(planned_);
    if (!plan_.job_id.empty()) return LookUpJob();
    Decided();
  }

  void Decided() {
    AddAuditResources(plan_, &entry_.resources);
    if (verdict_.has_value()) return Refuse(*verdict_);
    entry_.decision = "allow";
    Forward();
  }

  // Job calls: ask the materializer which project the job is in, then decide on that.
  void LookUpJob() {
    if (Cancelled()) return FinishOnce(grpc::Status(grpc::StatusCode::CANCELLED, "cancelled"));
    materialization::v1::GetJobRequest request;
    request.set_job_id(plan_.job_id);
    // Never longer than a lookup needs, whatever the caller's deadline (or none).
    job_ctx_.set_deadline(
        std::min(ctx_.deadline(), absl::ToChronoTime(absl::Now() + kJobLookupTimeout)));
    job_ctx_.AddMetadata(auth::kCallerSignatureHeader,
                         deps_.signer->Sign(entry_.who, kGetJob, deps_.clock->Now()));
    // The lookup is part of the caller's call: the same trace (this call's span as parent).
    if (auto it = ctx_.client_metadata().find("traceparent"); it != ctx_.client_metadata().end()) {
      job_ctx_.AddMetadata("traceparent", std::string(View(it->second)));
    }
    job_ = deps_.stubs[static_cast<int>(Upstream::kMaterializer)]->PrepareUnaryCall(
        &job_ctx_, kGetJob, FromString(request.SerializeAsString()), queue_);
    job_->StartCall();
    ++outstanding_;
    job_->Finish(&job_response_, &job_status_, &job_done_);
  }

  void OnJobDone(bool) {
    if (finished_) return;
    if (!job_status_.ok()) {
      // NOT_FOUND for an unknown job: nothing about other projects is revealed.
      entry_.decision = "invalid";
      return FinishOnce(job_status_);
    }
    materialization::v1::Job job;
    if (!job.ParseFromString(Flatten(job_response_))) {
      return Refuse({grpc::Status(grpc::StatusCode::INTERNAL, "bad job from the materializer")});
    }
    Judge(
        [this, project = job.project()] {
          job_plan_ = plan_;
          AddCheck(job_plan_, deps_.authorizer->catalogs(), project, job_plan_.job_action,
                   registry::v1::PROJECT, project);
          job_plan_.project = project;
          verdict_ = Decide(deps_, entry_.who, job_plan_);
        },
        &ProxyCall::JobDecided);
  }

  void JobDecided() {
    plan_ = std::move(job_plan_);
    Decided();
  }

  void Forward() {
    grpc::ByteBuffer message =
        plan_.rewritten.has_value() ? FromString(*plan_.rewritten) : request_;
    if (upstream_ != nullptr) {  // the next message of a client stream
      ++outstanding_;
      upstream_->Write(message, &upstream_written_);
      return;
    }
    if (Cancelled()) return FinishOnce(grpc::Status(grpc::StatusCode::CANCELLED, "cancelled"));
    upstream_ctx_.set_deadline(ctx_.deadline());
    ForwardMetadata(deps_, ctx_.client_metadata(), entry_.who, ctx_.method(), &upstream_ctx_);
    // Corked: the metadata goes out with the first message, in one operation. (Uncorked,
    // StartCall would hold the write slot until its own tag came back.) No tag comes back
    // for a corked start.
    upstream_ctx_.set_initial_metadata_corked(true);
    upstream_ = deps_.stubs[static_cast<int>(route_->upstream)]->PrepareCall(&upstream_ctx_,
                                                                             ctx_.method(), queue_);
    upstream_->StartCall(nullptr);
    ReadUpstream();
    ++outstanding_;
    if (route_->client_streaming) {
      upstream_->Write(message, &upstream_written_);
    } else {
      writes_done_ = true;
      upstream_->WriteLast(message, grpc::WriteOptions(), &upstream_written_);
    }
  }

  void OnUpstreamWritten(bool ok) {
    // One message at a time: the caller's next is read once this one is on its way.
    if (ok && route_->client_streaming && !finished_) ReadCaller();
  }

  void OnUpstreamWritesDone(bool) {}

  void ReadUpstream() {
    upstream_reading_ = true;
    ++outstanding_;
    upstream_->Read(&response_, &upstream_read_);
  }

  void OnUpstreamRead(bool ok) {
    upstream_reading_ = false;
    if (!ok || finished_) return FinishUpstream();  // the status follows
    CopyInitialMetadata();
    if (!route_->filter) return Pass(response_);
    Judge(
        [this, bytes = Flatten(response_)] {
          filtered_ = bytes;
          filter_status_ = route_->filter(&filtered_, plan_, entry_.who, *deps_.authorizer);
        },
        &ProxyCall::Filtered);
  }

  void Filtered() {
    if (!filter_status_.ok()) {
      entry_.decision = "deny";
      upstream_ctx_.TryCancel();
      FinishUpstream();
      return FinishOnce(base::ToGrpcStatus(filter_status_));
    }
    Pass(FromString(filtered_));
  }

  // A message from the backend, as the caller may see it, on its way.
  void Pass(grpc::ByteBuffer message) {
    if (!route_->server_streaming) {
      // The one answer: sent with the status once the backend gives it.
      held_ = std::move(message);
      return FinishUpstream();
    }
    caller_writing_ = true;
    ++outstanding_;
    stream_.Write(message, &caller_written_);
  }

  void OnCallerWritten(bool ok) {
    caller_writing_ = false;
    if (pending_finish_.has_value()) {
      grpc::Status status = *std::move(pending_finish_);
      pending_finish_.reset();
      ++outstanding_;
      stream_.Finish(status, &caller_finished_);
    }
    if (!ok || finished_) {
      upstream_ctx_.TryCancel();  // the caller is gone
      return FinishUpstream();
    }
    ReadUpstream();
  }

  // Asks for the backend's status, once, when no read of it is in flight.
  void FinishUpstream() {
    if (upstream_ == nullptr || upstream_finishing_ || upstream_reading_) return;
    upstream_finishing_ = true;
    ++outstanding_;
    upstream_->Finish(&upstream_status_, &upstream_finished_);
  }

  void OnUpstreamFinished(bool) {
    CopyInitialMetadata();
    if (!finished_) {
      for (const auto& [key, value] : upstream_ctx_.GetServerTrailingMetadata()) {
        if (!HopByHop(View(key))) {
          ctx_.AddTrailingMetadata(std::string(View(key)), std::string(View(value)));
        }
      }
    }
    if (upstream_status_.ok() && held_.has_value()) {
      return FinishOnce(upstream_status_, &*held_);
    }
    FinishOnce(upstream_status_);
  }

  void CopyInitialMetadata() {
    if (initial_copied_ || finished_) return;
    initial_copied_ = true;
    for (const auto& [key, value] : upstream_ctx_.GetServerInitialMetadata()) {
      if (!HopByHop(View(key))) {
        ctx_.AddInitialMetadata(std::string(View(key)), std::string(View(value)));
      }
    }
  }

  void OnDone(bool) {
    done_seen_ = true;
    if (!ctx_.IsCancelled()) return;
    abandoned_.store(true);  // work waiting off this thread is skipped
    if (upstream_ != nullptr) upstream_ctx_.TryCancel();
    if (job_ != nullptr) job_ctx_.TryCancel();
  }

  // Ends the call with a refusal; a stream already open upstream is cancelled with it (a
  // later PushStream batch refused must not leave the backend's stream waiting).
  void Refuse(const Refusal& refusal) {
    entry_.decision = refusal.decision;
    if (refusal.retry_after_seconds > 0 && !finished_) {
      ctx_.AddTrailingMetadata("retry-after", std::to_string(refusal.retry_after_seconds));
    }
    FinishOnce(refusal.status);
    if (upstream_ != nullptr) {
      upstream_ctx_.TryCancel();
      FinishUpstream();
    }
  }

  // Ends the call once, with `message` as its last (for a unary answer, only) message.
  void FinishOnce(const grpc::Status& status, const grpc::ByteBuffer* message = nullptr) {
    if (finished_) return;
    finished_ = true;
    // The audit line is written before the caller can see the outcome: whoever reads the log
    // after a call returned finds its line.
    entry_.status = absl::StatusCodeToString(static_cast<absl::StatusCode>(status.error_code()));
    entry_.latency = deps_.clock->Now() - started_;
    if (deps_.audit != nullptr) deps_.audit->Write(entry_);
    if (caller_writing_) {
      pending_finish_ = status;  // sent when the write in flight completes
      return;
    }
    ++outstanding_;
    if (message != nullptr) {
      stream_.WriteAndFinish(*message, grpc::WriteOptions(), status, &caller_finished_);
    } else {
      stream_.Finish(status, &caller_finished_);
    }
  }

  void OnCallerFinished(bool) {}

  GenericProxy::Impl& proxy_;
  ProxyDeps& deps_;
  grpc::ServerCompletionQueue* const queue_;
  int outstanding_ = 0;

  grpc::GenericServerContext ctx_;
  grpc::GenericServerAsyncReaderWriter stream_{&ctx_};
  bool done_seen_ = false;
  bool finished_ = false;
  bool caller_writing_ = false;
  std::optional<grpc::Status> pending_finish_;
  bool initial_copied_ = false;

  const Route* route_ = nullptr;
  absl::Time started_;
  std::string address_;
  // Until the check ran (work skipped for a cancelled call leaves it so): never UNKNOWN.
  absl::StatusOr<auth::Identity> authenticated_ = absl::CancelledError("not checked");
  grpc::Alarm alarm_;
  AuditEntry entry_;
  AccessPlan plan_;
  grpc::ByteBuffer request_;
  // What Judge's work leaves for the step after it.
  void (ProxyCall::*next_)() = nullptr;
  std::atomic<bool> abandoned_{false};
  absl::StatusOr<AccessPlan> planned_ = absl::CancelledError("not planned");
  std::optional<Refusal> verdict_;
  AccessPlan job_plan_;
  std::string filtered_;
  absl::Status filter_status_;

  grpc::ClientContext upstream_ctx_;
  std::unique_ptr<grpc::GenericClientAsyncReaderWriter> upstream_;
  grpc::ByteBuffer response_;
  std::optional<grpc::ByteBuffer> held_;
  grpc::Status upstream_status_;
  bool writes_done_ = false;
  bool upstream_reading_ = false;
  bool upstream_finishing_ = false;

  grpc::ClientContext job_ctx_;
  std::unique_ptr<grpc::GenericClientAsyncResponseReader> job_;
  grpc::ByteBuffer job_response_;
  grpc::Status job_status_;

  Step requested_{this, &ProxyCall::OnRequested};
  Step done_{this, &ProxyCall::OnDone};
  Step checked_{this, &ProxyCall::OnChecked};
  Step judged_{this, &ProxyCall::OnJudged};
  Step caller_read_{this, &ProxyCall::OnCallerRead};
  Step caller_written_{this, &ProxyCall::OnCallerWritten};
  Step caller_finished_{this, &ProxyCall::OnCallerFinished};
  Step upstream_read_{this, &ProxyCall::OnUpstreamRead};
  Step upstream_written_{this, &ProxyCall::OnUpstreamWritten};
  Step upstream_writes_done_{this, &ProxyCall::OnUpstreamWritesDone};
  Step upstream_finished_{this, &ProxyCall::OnUpstreamFinished};
  Step job_done_{this, &ProxyCall::OnJobDone};
};

}  // namespace

void GenericProxy::Impl::Spawn(grpc::ServerCompletionQueue* queue) {
  if (calls_->Enter()) new ProxyCall(*this, queue);
}

GenericProxy::GenericProxy(std::shared_ptr<QueueCalls> calls)
    : impl_(std::make_unique<Impl>(std::move(calls))) {}

GenericProxy::~GenericProxy() = default;

std::unique_ptr<grpc::AsyncGenericService> GenericProxy::TakeService() {
  return std::move(impl_->owned_service_);
}

void GenericProxy::Start(const std::vector<grpc::ServerCompletionQueue*>& queues) {
  for (grpc::ServerCompletionQueue* queue : queues) impl_->Spawn(queue);
}

}  // namespace granary::gateway
