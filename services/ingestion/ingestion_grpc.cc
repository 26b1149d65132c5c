#include "services/ingestion/ingestion_grpc.h"

#include <atomic>
#include <deque>
#include <optional>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "google/protobuf/arena.h"
#include "grpcpp/support/message_allocator.h"
#include "grpcpp/support/proto_buffer_reader.h"

#include "libs/base/grpc_status.h"
#include "libs/base/retry_after.h"
#include "libs/trace/grpc_server_tracing.h"
#include "libs/trace/span.h"
#include "libs/trace/trace_context.h"

namespace granary::ingestion {
namespace {

constexpr const char* kService = v1::IngestionService::service_full_name();

// Where a batch is parsed: one arena, so that its many small cells cost one allocation per
// block rather than one each, and go at once.
google::protobuf::ArenaOptions BatchArenaOptions() {
  google::protobuf::ArenaOptions options;
  options.start_block_size = 64 << 10;
  options.max_block_size = 1 << 20;
  return options;
}

// One PushStream, on raw bytes: a batch is parsed by ingestion's code, on an arena, right
// before Push turns it into messages, and dropped right after; until then it is wire bytes in
// gRPC's buffers (under its quota), a sixth of its parsed size. Reads batches while fewer than
// max_in_flight await JetStream, writes each batch's answer when it comes, and finishes once
// the client closed its side and every batch it sent was answered (or the stream broke), so no
// callback outlives the reactor.
class PushStreamReactor final : public grpc::ServerBidiReactor<grpc::ByteBuffer, grpc::ByteBuffer> {
 public:
  // `stream_trace`: the stream's span, the parent of a span per batch (`tracer`'s, may be
  // null), whose messages carry that batch span: a stream open for days is not one trace.
  PushStreamReactor(std::shared_ptr<Pusher> pusher, size_t max_in_flight,
                    std::shared_ptr<std::atomic<int>> open_streams, trace::Tracer* tracer,
                    std::optional<trace::TraceContext> stream_trace)
      : pusher_(std::move(pusher)),
        max_in_flight_(max_in_flight),
        open_streams_(std::move(open_streams)),
        tracer_(tracer),
        stream_trace_(std::move(stream_trace)) {
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
    {
      google::protobuf::Arena arena(BatchArenaOptions());
      auto* request = google::protobuf::Arena::CreateMessage<v1::PushStreamRequest>(&arena);
      grpc::ProtoBufferReader input(&request_);
      const bool parsed = request->ParseFromZeroCopyStream(&input);
      request_.Clear();
      std::string batch_id = request->batch().batch_id();
      if (!parsed) {
        Complete("", absl::InvalidArgumentError("request: not a PushStreamRequest"));
      } else if (!request->has_batch() || batch_id.empty()) {
        Complete(batch_id, absl::InvalidArgumentError("batch.batch_id: required on PushStream"));
      } else {
        auto span = std::make_shared<trace::Span>(tracer_, "push batch", trace::SpanKind::kProducer,
                                                  stream_trace_);
        if (span->recording()) span->SetAttribute("granary.batch_id", batch_id);
        const std::string traceparent = span->context().Traceparent();
        pusher_->Push(
            request->batch(),
            [this, batch_id, span](absl::StatusOr<v1::PushResponse> result) {
              if (!result.ok()) span->SetError(result.status().ToString());
              span->End();
              Complete(batch_id, std::move(result));
            },
            traceparent);
      }
      // Push turned the batch into messages: the parsed rows go with the arena, here.
    }
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

  void OnDone() override {
    open_streams_->fetch_sub(1);
    delete this;
  }

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
    grpc::ByteBuffer bytes;
    bool own_buffer = false;
    grpc::Status serialized =
        grpc::SerializationTraits<v1::PushStreamResponse>::Serialize(response, &bytes, &own_buffer);
    bool finish;
    {
      absl::MutexLock lock(&mu_);
      --in_flight_;
      // A response of a few fields always serializes; if it did not, the batch goes unanswered
      // and the client's retry under the same id is safe.
      if (!broken_ && serialized.ok()) {
        responses_.push_back(std::move(bytes));
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
  const std::shared_ptr<std::atomic<int>> open_streams_;
  trace::Tracer* const tracer_;
  const std::optional<trace::TraceContext> stream_trace_;
  grpc::ByteBuffer request_;
  absl::Mutex mu_;
  size_t in_flight_ ABSL_GUARDED_BY(mu_) = 0;
  bool read_closed_ ABSL_GUARDED_BY(mu_) = false;
  bool read_paused_ ABSL_GUARDED_BY(mu_) = false;
  bool writing_ ABSL_GUARDED_BY(mu_) = false;
  bool broken_ ABSL_GUARDED_BY(mu_) = false;
  bool finished_ ABSL_GUARDED_BY(mu_) = false;
  // Answers waiting to be written; the front one is being written.
  std::deque<grpc::ByteBuffer> responses_ ABSL_GUARDED_BY(mu_);
};

// A PushStream refused (not signed by the gateway, or past max_streams): finished at once,
// before anything of it is read, so that the memory streams take stays bounded whatever the
// number of producers.
class RefusedStream final : public grpc::ServerBidiReactor<grpc::ByteBuffer, grpc::ByteBuffer> {
 public:
  explicit RefusedStream(grpc::Status status) { Finish(std::move(status)); }
  void OnDone() override { delete this; }
};

// The messages of a unary Push: the request parsed on an arena of its own (see
// BatchArenaOptions), which goes as soon as Push has used it.
class PushMessages final : public grpc::MessageHolder<v1::PushRequest, v1::PushResponse> {
 public:
  PushMessages() : arena_(BatchArenaOptions()) {
    set_request(google::protobuf::Arena::CreateMessage<v1::PushRequest>(&arena_));
    set_response(&response_);
  }
  void FreeRequest() override {
    set_request(nullptr);
    arena_.Reset();
  }
  void Release() override { delete this; }

 private:
  google::protobuf::Arena arena_;
  v1::PushResponse response_;
};

class PushMessageAllocator final
    : public grpc::MessageAllocator<v1::PushRequest, v1::PushResponse> {
 public:
  grpc::MessageHolder<v1::PushRequest, v1::PushResponse>* AllocateMessages() override {
    return new PushMessages;
  }
};

// One unary Push: the parsed request is freed once Push has turned it into messages (they, not
// the parsed rows, are what waits for JetStream), and the answer, which may come first (a
// refusal), is given only after that: a finished call may release the request at any moment.
class UnaryPush {
 public:
  UnaryPush(grpc::CallbackServerContext* context, v1::PushResponse* response)
      : context_(context), response_(response), reactor_(context->DefaultReactor()) {}

  grpc::ServerUnaryReactor* reactor() const { return reactor_; }

  void Answer(absl::StatusOr<v1::PushResponse> result) {
    {
      absl::MutexLock lock(&mu_);
      if (!request_freed_) {
        early_ = std::move(result);
        return;
      }
    }
    Finish(std::move(result));
  }

  void RequestUsed() {
    context_->GetRpcAllocatorState()->FreeRequest();
    std::optional<absl::StatusOr<v1::PushResponse>> early;
    {
      absl::MutexLock lock(&mu_);
      request_freed_ = true;
      early = std::move(early_);
    }
    if (early.has_value()) Finish(std::move(*early));
  }

 private:
  void Finish(absl::StatusOr<v1::PushResponse> result) {
    if (!result.ok()) {
      base::AddRetryPushback(result.status(), context_);
      reactor_->Finish(base::ToGrpcStatus(result.status()));
      return;
    }
    *response_ = std::move(*result);
    reactor_->Finish(grpc::Status::OK);
  }

  grpc::CallbackServerContext* const context_;
  v1::PushResponse* const response_;
  grpc::ServerUnaryReactor* const reactor_;
  absl::Mutex mu_;
  bool request_freed_ ABSL_GUARDED_BY(mu_) = false;
  std::optional<absl::StatusOr<v1::PushResponse>> early_ ABSL_GUARDED_BY(mu_);
};

}  // namespace

IngestionGrpc::IngestionGrpc(std::shared_ptr<Pusher> pusher, StreamLimits limits,
                             server::CallerCheck callers, std::shared_ptr<IngestionMetrics> metrics,
                             trace::Tracer* tracer)
    : pusher_(std::move(pusher)),
      limits_(limits),
      callers_(std::move(callers)),
      metrics_(std::move(metrics)),
      tracer_(tracer),
      allocator_(std::make_unique<PushMessageAllocator>()) {
  SetMessageAllocatorFor_Push(allocator_.get());
}

IngestionGrpc::~IngestionGrpc() = default;

grpc::ServerUnaryReactor* IngestionGrpc::Push(grpc::CallbackServerContext* context,
                                              const v1::PushRequest* request,
                                              v1::PushResponse* response) {
  if (grpc::Status refused = callers_.Check(*context, kService, "Push"); !refused.ok()) {
    grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
    reactor->Finish(std::move(refused));
    return reactor;
  }
  auto call = std::make_shared<UnaryPush>(context, response);
  pusher_->Push(
      *request,
      [call](absl::StatusOr<v1::PushResponse> result) { call->Answer(std::move(result)); },
      trace::TraceparentOf(*context));
  grpc::ServerUnaryReactor* reactor = call->reactor();
  call->RequestUsed();
  return reactor;
}

grpc::ServerBidiReactor<grpc::ByteBuffer, grpc::ByteBuffer>* IngestionGrpc::PushStream(
    grpc::CallbackServerContext* context) {
  // Before anything is read, and before the stream counts against max_streams.
  if (grpc::Status refused = callers_.Check(*context, kService, "PushStream"); !refused.ok()) {
    return new RefusedStream(std::move(refused));
  }
  if (open_streams_->fetch_add(1) >= limits_.max_streams) {
    open_streams_->fetch_sub(1);
    if (metrics_ != nullptr) metrics_->RecordStreamRefused();
    absl::Status full = base::WithRetryAfter(
        absl::ResourceExhaustedError(absl::StrCat(
            "ingestion has ", limits_.max_streams,
            " PushStreams open (max_streams); open this one again later, or push on one already "
            "open")),
        limits_.stream_retry_after);
    base::AddRetryPushback(full, context);
    return new RefusedStream(base::ToGrpcStatus(full));
  }
  return new PushStreamReactor(pusher_, limits_.max_in_flight, open_streams_, tracer_,
                               trace::ParseTraceparent(trace::TraceparentOf(*context)));
}

}  // namespace granary::ingestion
