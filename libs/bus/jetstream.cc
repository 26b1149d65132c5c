#include "libs/bus/jetstream.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/notification.h"

#include "libs/base/status_macros.h"
#include "libs/bus/status.h"

namespace granary::bus {
namespace {

int64_t Nanos(absl::Duration d) { return absl::ToInt64Nanoseconds(d); }

// JetStream API errors carry a code of their own besides the NATS status.
absl::Status FromJs(natsStatus s, jsErrCode code, absl::string_view what) {
  if (s == NATS_OK) return absl::OkStatus();
  absl::Status status = FromNats(s, what);
  if (code == 0) return status;
  absl::StatusCode c = status.code();
  if (code == JSStreamNotFoundErr || code == JSConsumerNotFoundErr) c = absl::StatusCode::kNotFound;
  return absl::Status(c, absl::StrCat(status.message(), " [jetstream error ", code, "]"));
}

}  // namespace

Delivery::Delivery(natsMsg* msg) : msg_(msg) {
  jsMsgMetaData* meta = nullptr;
  if (natsMsg_GetMetaData(&meta, msg_) == NATS_OK) {
    deliveries_ = meta->NumDelivered;
    stream_sequence_ = meta->Sequence.Stream;
    jsMsgMetaData_Destroy(meta);
  }
}

Delivery::Delivery(Delivery&& other) noexcept
    : msg_(std::exchange(other.msg_, nullptr)),
      deliveries_(other.deliveries_),
      stream_sequence_(other.stream_sequence_) {}

Delivery::~Delivery() {
  if (msg_ != nullptr) natsMsg_Destroy(msg_);
}

absl::string_view Delivery::subject() const { return natsMsg_GetSubject(msg_); }

absl::string_view Delivery::data() const {
  return absl::string_view(natsMsg_GetData(msg_), natsMsg_GetDataLength(msg_));
}

absl::Status Delivery::Ack() { return FromNats(natsMsg_Ack(msg_, nullptr), "ack"); }

absl::Status Delivery::Nak(absl::Duration delay) {
  return FromNats(natsMsg_NakWithDelay(msg_, absl::ToInt64Milliseconds(delay), nullptr), "nak");
}

absl::Status Delivery::Term() { return FromNats(natsMsg_Term(msg_, nullptr), "term"); }

absl::Status Delivery::InProgress() {
  return FromNats(natsMsg_InProgress(msg_, nullptr), "in progress");
}

PullConsumer::~PullConsumer() {
  // Only the local subscription goes: the durable consumer stays for the other replicas.
  natsSubscription_Destroy(sub_);
}

absl::StatusOr<std::vector<Delivery>> PullConsumer::Fetch(int max, absl::Duration timeout) {
  if (!connection_->connected()) return absl::UnavailableError("nats: not connected");
  natsMsgList list{};
  natsStatus s =
      natsSubscription_Fetch(&list, sub_, max, absl::ToInt64Milliseconds(timeout), nullptr);
  std::vector<Delivery> out;
  if (s == NATS_TIMEOUT) return out;
  RETURN_IF_ERROR(FromNats(s, "fetch"));
  out.reserve(list.Count);
  for (int i = 0; i < list.Count; ++i) {
    out.emplace_back(list.Msgs[i]);
    list.Msgs[i] = nullptr;  // now owned by the Delivery
  }
  natsMsgList_Destroy(&list);
  return out;
}

absl::StatusOr<std::unique_ptr<JetStream>> JetStream::Create(std::shared_ptr<Connection> connection,
                                                             JetStreamOptions options) {
  std::unique_ptr<JetStream> js(new JetStream(connection, nullptr, options));
  jsOptions opts;
  RETURN_IF_ERROR(FromNats(jsOptions_Init(&opts), "jetstream options"));
  opts.Wait = absl::ToInt64Milliseconds(options.publish_timeout);
  opts.PublishAsync.MaxPending = options.max_pending;
  // At max_pending, a publish waits this long for room and then fails (UNAVAILABLE) rather
  // than holding its caller's thread (a gRPC callback thread) for a whole publish_timeout.
  opts.PublishAsync.StallWait = 50;
  opts.PublishAsync.AckHandler = &JetStream::OnAck;
  opts.PublishAsync.AckHandlerClosure = js.get();
  RETURN_IF_ERROR(
      FromNats(natsConnection_JetStream(&js->js_, connection->raw(), &opts), "jetstream context"));
  return js;
}

JetStream::~JetStream() {
  jsPubOptions opts;
  jsPubOptions_Init(&opts);
  // Every publish has its own timeout, so this ends; the margin covers the timer's tick.
  opts.MaxWait = absl::ToInt64Milliseconds(options_.publish_timeout + absl::Seconds(1));
  // Every publish times out by itself, so this ends; until it says so, an ack handler may
  // still be about to use this object.
  while (js_PublishAsyncComplete(js_, &opts) == NATS_TIMEOUT) {
  }
  jsCtx_Destroy(js_);
  absl::flat_hash_map<const natsMsg*, PublishDone> left;
  {
    absl::MutexLock lock(&mu_);
    left.swap(pending_);
  }
  for (auto& [msg, done] : left) done(absl::UnavailableError("nats: publisher closed"));
}

absl::Status JetStream::EnsureStream(const StreamSpec& spec) {
  std::vector<const char*> subjects;
  for (const std::string& s : spec.subjects) subjects.push_back(s.c_str());
  jsStreamConfig cfg;
  RETURN_IF_ERROR(FromNats(jsStreamConfig_Init(&cfg), "stream config"));
  cfg.Name = spec.name.c_str();
  cfg.Subjects = subjects.data();
  cfg.SubjectsLen = static_cast<int>(subjects.size());
  cfg.Storage = js_FileStorage;
  cfg.Duplicates = Nanos(spec.duplicate_window);
  cfg.MaxAge = Nanos(spec.max_age);
  cfg.MaxBytes = spec.max_bytes;
  cfg.Retention = spec.work_queue ? js_WorkQueuePolicy : js_LimitsPolicy;
  jsStreamInfo* info = nullptr;
  jsErrCode code = static_cast<jsErrCode>(0);
  natsStatus s = js_AddStream(&info, js_, &cfg, nullptr, &code);
  if (s != NATS_OK && code == JSStreamNameExistErr) {
    code = static_cast<jsErrCode>(0);
    s = js_UpdateStream(&info, js_, &cfg, nullptr, &code);
  }
  if (info != nullptr) jsStreamInfo_Destroy(info);
  return FromJs(s, code, absl::StrCat("stream ", spec.name));
}

absl::StatusOr<std::unique_ptr<PullConsumer>> JetStream::Consume(const ConsumerSpec& spec) {
  jsSubOptions so;
  RETURN_IF_ERROR(FromNats(jsSubOptions_Init(&so), "subscribe options"));
  so.Stream = spec.stream.c_str();
  so.Config.Durable = spec.durable.c_str();
  so.Config.AckPolicy = js_AckExplicit;
  so.Config.AckWait = Nanos(spec.ack_wait);
  so.Config.MaxAckPending = spec.max_ack_pending;
  so.Config.MaxDeliver = -1;  // the worker decides when a message is poison
  natsSubscription* sub = nullptr;
  jsErrCode code = static_cast<jsErrCode>(0);
  natsStatus s =
      js_PullSubscribe(&sub, js_, spec.subject.c_str(), spec.durable.c_str(), nullptr, &so, &code);
  RETURN_IF_ERROR(FromJs(s, code, absl::StrCat("consumer ", spec.durable)));
  return std::unique_ptr<PullConsumer>(new PullConsumer(connection_, sub));
}

void JetStream::PublishAsync(absl::string_view subject, absl::string_view data,
                             absl::string_view msg_id, PublishDone done) {
  // A disconnected client would buffer the message and only time out later; answer now.
  if (!connection_->connected()) {
    done(absl::UnavailableError("nats: not connected"));
    return;
  }
  natsMsg* msg = nullptr;
  std::string subject_z(subject);
  natsStatus s =
      natsMsg_Create(&msg, subject_z.c_str(), nullptr, data.data(), static_cast<int>(data.size()));
  if (s != NATS_OK) {
    done(FromNats(s, "message"));
    return;
  }
  {
    absl::MutexLock lock(&mu_);
    // A message's address is free for reuse only after its entry is gone (OnAck and the
    // failure path below erase before destroying), so the key cannot be taken.
    pending_.emplace(msg, std::move(done));
  }
  jsPubOptions opts;
  jsPubOptions_Init(&opts);
  std::string id(msg_id);
  if (!id.empty()) opts.MsgId = id.c_str();
  opts.MaxWait = absl::ToInt64Milliseconds(options_.publish_timeout);
  const natsMsg* key = msg;
  s = js_PublishMsgAsync(js_, &msg, &opts);
  if (s == NATS_OK) return;  // the client owns the message; OnAck completes it
  PublishDone failed;
  {
    absl::MutexLock lock(&mu_);
    auto it = pending_.find(key);
    if (it != pending_.end()) {
      failed = std::move(it->second);
      pending_.erase(it);
    }
  }
  natsMsg_Destroy(msg);  // after the erase; a no-op when the client took it anyway
  if (!failed) return;   // completed by OnAck already
  absl::Status status = FromNats(s, absl::StrCat("publish to ", subject));
  if (s == NATS_TIMEOUT) status = absl::UnavailableError(status.message());
  failed(status);
}

void JetStream::OnAck(jsCtx*, natsMsg* msg, jsPubAck* pa, jsPubAckErr* pae, void* closure) {
  auto* self = static_cast<JetStream*>(closure);
  PublishDone done;
  {
    absl::MutexLock lock(&self->mu_);
    auto it = self->pending_.find(msg);
    if (it != self->pending_.end()) {
      done = std::move(it->second);
      self->pending_.erase(it);
    }
  }
  natsMsg_Destroy(msg);
  if (!done) return;
  if (pa != nullptr) {
    done(PublishAck{.sequence = pa->Sequence, .duplicate = pa->Duplicate});
    return;
  }
  absl::Status status = absl::UnavailableError("nats: publish failed");
  if (pae != nullptr) {
    absl::Status cause = FromJs(pae->Err, pae->ErrCode, "publish");
    if (pae->ErrText != nullptr) cause = absl::Status(cause.code(), pae->ErrText);
    // A timeout or a lost connection both mean "not known to be stored".
    if (absl::IsDeadlineExceeded(cause) || absl::IsUnavailable(cause)) {
      status =
          absl::UnavailableError(absl::StrCat("nats: publish not acknowledged: ", cause.message()));
    } else {
      status = cause;
    }
  }
  done(status);
}

absl::StatusOr<PublishAck> JetStream::Publish(absl::string_view subject, absl::string_view data,
                                              absl::string_view msg_id) {
  absl::Notification finished;
  absl::StatusOr<PublishAck> result;
  PublishAsync(subject, data, msg_id, [&](absl::StatusOr<PublishAck> ack) {
    result = std::move(ack);
    finished.Notify();
  });
  finished.WaitForNotification();
  return result;
}

}  // namespace granary::bus
