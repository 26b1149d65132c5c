#include "services/ingestion/ingestion_grpc.h"

#include <deque>

#include "absl/synchronization/mutex.h"

#include "libs/base/grpc_status.h"
#include "libs/base/retry_after.h"

namespace granary::ingestion {
namespace {

// One PushStream. Reads batches while fewer than max_in_flight await JetStream, writes each
// batch's answer when it comes, and finishes once the client closed its side and every batch
// it sent was answered (or the stream broke), so no callback outlives the reactor.
class PushStreamReactor final
    : public grpc::ServerBidiReactor<v1::PushStreamRequest, v1::PushStreamResponse> {
 public:
  PushStreamReactor(std::shared_ptr<Pusher> pusher, size_t max_in_flight)
      : pusher_(std::move(pusher)), max_in_flight_(max_in_flight) {
    StartRead(&request_);
  }

  void OnReadDone(bool ok) override {
    if (!ok) {
      bool finish;
      {
        absl::MutexLock lock(&mu_);
        read_closed_ = true;
        finish = ShouldFinish();
      }
      if (finish) Finish(grpc::Status::OK);
      return;
    }
    {
      absl::MutexLock lock(&mu_);
      ++in_flight_;
    }
    std::string batch_id = request_.batch().batch_id();
    if (!request_.has_batch() || batch_id.empty()) {
      Complete(batch_id, absl::InvalidArgumentError("batch.batch_id: required on PushStream"));
    } else {
      pusher_->Push(request_.batch(), [this, batch_id](absl::StatusOr<v1::PushResponse> result) {
        Complete(batch_id, std::move(result));
      });
    }
    // The request was fully used by Push: the buffer may take the next one.
    absl::MutexLock lock(&mu_);
    if (in_flight_ < max_in_flight_) {
      StartRead(&request_);
    } else {
      read_paused_ = true;
    }
  }

  void OnWriteDone(bool ok) override {
    bool finish = false;
    {
      absl::MutexLock lock(&mu_);
      responses_.pop_front();
      if (!ok) {
        // The client is gone; answers have nowhere to go.
        broken_ = true;
        responses_.clear();
      }
      if (!responses_.empty()) {
        StartWrite(&responses_.front());
      } else {
        writing_ = false;
        finish = ShouldFinish();
      }
    }
    if (finish) Finish(grpc::Status::OK);
  }

  void OnDone() override { delete this; }

 private:
  void Complete(const std::string& batch_id, absl::StatusOr<v1::PushResponse> result) {
    v1::PushStreamResponse response;
    response.set_batch_id(batch_id);
    if (result.ok()) {
      *response.mutable_ack() = std::move(*result);
    } else {
      // The same mapping as every RPC's status (never UNKNOWN).
      grpc::Status status = base::ToGrpcStatus(result.status());
      response.mutable_error()->set_code(static_cast<int32_t>(status.error_code()));
      response.mutable_error()->set_message(status.error_message());
      if (std::optional<absl::Duration> after = base::RetryAfter(result.status())) {
        response.mutable_error()->set_retry_after_ms(absl::ToInt64Milliseconds(*after));
      }
    }
    bool finish;
    {
      absl::MutexLock lock(&mu_);
      --in_flight_;
      if (!broken_) {
        responses_.push_back(std::move(response));
        if (!writing_) {
          writing_ = true;
          StartWrite(&responses_.front());
        }
      }
      if (read_paused_ && !read_closed_ && in_flight_ < max_in_flight_) {
        read_paused_ = false;
        StartRead(&request_);
      }
      finish = ShouldFinish();
    }
    // Outside the lock and last: once finished, OnDone may delete this at any moment.
    if (finish) Finish(grpc::Status::OK);
  }

  // Whether the caller is to Finish now (true once): nothing in flight, nothing being written,
  // and no read pending (it would fail or bring a batch; only a paused reader of a broken
  // stream has none). StartRead and StartWrite may be called under mu_: gRPC runs their
  // reactions on its executor, never inline.
  bool ShouldFinish() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    if (finished_ || in_flight_ > 0 || writing_) return false;
    if (!read_closed_ && !(broken_ && read_paused_)) return false;
    finished_ = true;
    return true;
  }

  const std::shared_ptr<Pusher> pusher_;
  const size_t max_in_flight_;
  v1::PushStreamRequest request_;
  absl::Mutex mu_;
  size_t in_flight_ ABSL_GUARDED_BY(mu_) = 0;
  bool read_closed_ ABSL_GUARDED_BY(mu_) = false;
  bool read_paused_ ABSL_GUARDED_BY(mu_) = false;
  bool writing_ ABSL_GUARDED_BY(mu_) = false;
  bool broken_ ABSL_GUARDED_BY(mu_) = false;
  bool finished_ ABSL_GUARDED_BY(mu_) = false;
  // Answers waiting to be written; the front one is being written.
  std::deque<v1::PushStreamResponse> responses_ ABSL_GUARDED_BY(mu_);
};

}  // namespace

grpc::ServerUnaryReactor* IngestionGrpc::Push(grpc::CallbackServerContext* context,
                                              const v1::PushRequest* request,
                                              v1::PushResponse* response) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  pusher_->Push(*request, [reactor, response, context](absl::StatusOr<v1::PushResponse> result) {
    if (!result.ok()) {
      base::AddRetryPushback(result.status(), context);
      reactor->Finish(base::ToGrpcStatus(result.status()));
      return;
    }
    *response = std::move(*result);
    reactor->Finish(grpc::Status::OK);
  });
  return reactor;
}

grpc::ServerBidiReactor<v1::PushStreamRequest, v1::PushStreamResponse>* IngestionGrpc::PushStream(
    grpc::CallbackServerContext*) {
  return new PushStreamReactor(pusher_, max_in_flight_);
}

}  // namespace granary::ingestion
