#include "libs/server/queue_health.h"

#include "grpcpp/alarm.h"
#include "grpcpp/grpcpp.h"

#include "libs/server/queue_event.h"

namespace granary::server {

using grpc::health::v1::HealthCheckRequest;
using grpc::health::v1::HealthCheckResponse;

// One Check, from the request it waits for to its answer.
class QueueHealth::Checker {
 public:
  Checker(QueueHealth& health, grpc::ServerCompletionQueue* queue)
      : health_(health), queue_(queue) {
    health_.async_.RequestCheck(&ctx_, &request_, &responder_, queue, queue, &requested_);
  }

 private:
  void OnRequested(bool ok) {
    if (!ok) return End();
    health_.Spawn(queue_, /*watch=*/false);
    absl::MutexLock lock(&health_.mu_);
    Status status = health_.StatusOf(request_.service());
    if (status == HealthCheckResponse::SERVICE_UNKNOWN) {
      responder_.FinishWithError(
          grpc::Status(grpc::StatusCode::NOT_FOUND, "unknown service " + request_.service()),
          &finished_);
      return;
    }
    HealthCheckResponse response;
    response.set_status(status);
    responder_.Finish(response, grpc::Status::OK, &finished_);
  }
  void OnFinished(bool) { End(); }
  void End() {
    health_.Ended();
    delete this;
  }

  QueueHealth& health_;
  grpc::ServerCompletionQueue* const queue_;
  grpc::ServerContext ctx_;
  HealthCheckRequest request_;
  grpc::ServerAsyncResponseWriter<HealthCheckResponse> responder_{&ctx_};
  MemberEvent<Checker> requested_{this, &Checker::OnRequested};
  MemberEvent<Checker> finished_{this, &Checker::OnFinished};
};

// One Watch stream. Status changes come from any thread (Set): they wake the stream through
// an alarm on its queue. Its state is guarded by the health's mutex.
class QueueHealth::Watcher {
 public:
  Watcher(QueueHealth& health, grpc::ServerCompletionQueue* queue)
      : health_(health), queue_(queue) {
    ctx_.AsyncNotifyWhenDone(&done_);
    outstanding_ = 1;
    health_.async_.RequestWatch(&ctx_, &request_, &writer_, queue, queue, &requested_);
  }

  // Something changed: send the latest status from the queue's thread.
  void Wake() ABSL_EXCLUSIVE_LOCKS_REQUIRED(health_.mu_) {
    if (alarm_set_ || finished_) return;
    alarm_set_ = true;
    ++outstanding_;
    alarm_.Set(queue_, gpr_now(GPR_CLOCK_MONOTONIC), &alarmed_);
  }

 private:
  void OnRequested(bool ok) {
    bool end;
    {
      absl::MutexLock lock(&health_.mu_);
      --outstanding_;
      if (ok) {
        ++outstanding_;  // the done tag: it comes back only for a call that started
        health_.watchers_.insert(this);
        if (health_.ending_watches_) finishing_ = true;
        Send();
      }
      end = outstanding_ == 0;
    }
    if (ok) health_.Spawn(queue_, /*watch=*/true);
    if (end) End();
  }
  void OnDone(bool) {
    Settle([this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(health_.mu_) {
      done_seen_ = true;
      health_.watchers_.erase(this);
    });
  }
  void OnAlarm(bool) {
    Settle([this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(health_.mu_) {
      alarm_set_ = false;
      Send();
    });
  }
  void OnWritten(bool ok) {
    Settle([this, ok]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(health_.mu_) {
      writing_ = false;
      if (!ok) {
        finished_ = true;  // the caller went away; the done tag follows
      } else {
        Send();
      }
    });
  }
  void OnFinished(bool) {
    Settle([]() {});
  }

  // Runs `step` for a tag that came back, and deletes the stream after its last one.
  template <typename Step>
  void Settle(Step step) {
    bool end;
    {
      absl::MutexLock lock(&health_.mu_);
      --outstanding_;
      step();
      end = outstanding_ == 0;
    }
    if (end) End();
  }

  // The latest status, unless it was already sent or a write is in flight (its completion
  // sends again); once the server is going away and the latest was sent, the stream's end.
  void Send() ABSL_EXCLUSIVE_LOCKS_REQUIRED(health_.mu_) {
    if (writing_ || finished_ || done_seen_) return;
    Status status = health_.StatusOf(request_.service());
    if (!sent_any_ || status != last_sent_) {
      HealthCheckResponse response;
      response.set_status(status);
      writing_ = true;
      sent_any_ = true;
      last_sent_ = status;
      ++outstanding_;
      writer_.Write(response, &written_);
      return;
    }
    if (finishing_ || health_.ending_watches_) {
      finished_ = true;
      ++outstanding_;
      writer_.Finish(grpc::Status(grpc::StatusCode::UNAVAILABLE, "the server is shutting down"),
                     &finished_event_);
    }
  }

  void End() {
    health_.Ended();
    delete this;
  }

  QueueHealth& health_;
  grpc::ServerCompletionQueue* const queue_;
  grpc::ServerContext ctx_;
  HealthCheckRequest request_;
  grpc::ServerAsyncWriter<HealthCheckResponse> writer_{&ctx_};
  grpc::Alarm alarm_;
  MemberEvent<Watcher> requested_{this, &Watcher::OnRequested};
  MemberEvent<Watcher> done_{this, &Watcher::OnDone};
  MemberEvent<Watcher> alarmed_{this, &Watcher::OnAlarm};
  MemberEvent<Watcher> written_{this, &Watcher::OnWritten};
  MemberEvent<Watcher> finished_event_{this, &Watcher::OnFinished};
  int outstanding_ ABSL_GUARDED_BY(health_.mu_) = 0;
  bool alarm_set_ ABSL_GUARDED_BY(health_.mu_) = false;
  bool writing_ ABSL_GUARDED_BY(health_.mu_) = false;
  bool finishing_ ABSL_GUARDED_BY(health_.mu_) = false;
  bool finished_ ABSL_GUARDED_BY(health_.mu_) = false;
  bool done_seen_ ABSL_GUARDED_BY(health_.mu_) = false;
  bool sent_any_ ABSL_GUARDED_BY(health_.mu_) = false;
  Status last_sent_ ABSL_GUARDED_BY(health_.mu_) = HealthCheckResponse::UNKNOWN;
};

void QueueHealth::Start(const std::vector<grpc::ServerCompletionQueue*>& queues) {
  for (grpc::ServerCompletionQueue* queue : queues) {
    Spawn(queue, /*watch=*/false);
    Spawn(queue, /*watch=*/true);
  }
}

void QueueHealth::Spawn(grpc::ServerCompletionQueue* queue, bool watch) {
  {
    absl::MutexLock lock(&mu_);
    if (quiescing_) return;
    ++live_;
  }
  if (watch) {
    new Watcher(*this, queue);
  } else {
    new Checker(*this, queue);
  }
}

void QueueHealth::Ended() {
  absl::MutexLock lock(&mu_);
  --live_;
}

QueueHealth::Status QueueHealth::StatusOf(const std::string& service) const {
  auto it = statuses_.find(service);
  return it == statuses_.end() ? HealthCheckResponse::SERVICE_UNKNOWN : it->second;
}

void QueueHealth::Set(const std::string& service, bool serving) {
  absl::MutexLock lock(&mu_);
  if (shut_down_) return;
  statuses_[service] = serving ? HealthCheckResponse::SERVING : HealthCheckResponse::NOT_SERVING;
  for (Watcher* watcher : watchers_) watcher->Wake();
}

void QueueHealth::Shutdown() {
  absl::MutexLock lock(&mu_);
  shut_down_ = true;
  for (auto& [service, status] : statuses_) status = HealthCheckResponse::NOT_SERVING;
  for (Watcher* watcher : watchers_) watcher->Wake();
}

void QueueHealth::EndWatches() {
  absl::MutexLock lock(&mu_);
  ending_watches_ = true;
  for (Watcher* watcher : watchers_) watcher->Wake();
}

void QueueHealth::Quiesce() {
  absl::MutexLock lock(&mu_);
  quiescing_ = true;
  mu_.Await(absl::Condition(
      +[](int* live) { return *live == 0; }, &live_));
}

}  // namespace granary::server
