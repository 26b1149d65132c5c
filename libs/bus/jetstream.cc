#include "libs/bus/jetstream.h"

#include <utility>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/synchronization/mutex.h"
#include <nats/nats.h>

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
  switch (code) {
    case JSStreamNotFoundErr:
    case JSConsumerNotFoundErr:
    case JSNoMessageFoundErr:
    case JSSequenceNotFoundErr:
      c = absl::StatusCode::kNotFound;
      break;
    // A stream at its bound (with discard new), or storage that is full: nothing was stored,
    // and publishing later may work.
    case JSStreamStoreFailedErr:
    case JSInsufficientResourcesErr:
    case JSStorageResourcesExceededErr:
    case JSMemoryResourcesExceededErr:
    case JSAccountResourcesExceededErr:
      c = absl::StatusCode::kResourceExhausted;
      break;
    case JSStreamMessageExceedsMaximumErr:
      c = absl::StatusCode::kInvalidArgument;
      break;
    // No leader at the moment (an election in a cluster): passes by itself.
    case JSClusterNotAvailErr:
    case JSClusterNotLeaderErr:
    case JSClusterIncompleteErr:
    case JSClusterNoPeersErr:
      c = absl::StatusCode::kUnavailable;
      break;
    default:
      break;
  }
  return absl::Status(c, absl::StrCat(status.message(), " [jetstream error ", code, "]"));
}

const char* RetentionName(Retention r) {
  switch (r) {
    case Retention::kLimits:
      return "limits";
    case Retention::kInterest:
      return "interest";
    case Retention::kWorkQueue:
      return "workqueue";
  }
  return "?";
}

jsRetentionPolicy ToNats(Retention r) {
  switch (r) {
    case Retention::kInterest:
      return js_InterestPolicy;
    case Retention::kWorkQueue:
      return js_WorkQueuePolicy;
    case Retention::kLimits:
      break;
  }
  return js_LimitsPolicy;
}

// One line per setting in which `have` (the server's) differs from `want` (declared).
template <typename T>
void Compare(absl::string_view setting, const T& have, const T& want,
             std::vector<std::string>* out) {
  if (have != want) {
    out->push_back(absl::StrCat(setting, ": ", have, " on the server, ", want, " declared"));
  }
}

std::vector<std::string> StreamDifferences(const jsStreamConfig& have, const StreamSpec& want) {
  std::vector<std::string> out;
  std::vector<std::string> subjects(have.Subjects, have.Subjects + have.SubjectsLen);
  Compare("subjects", absl::StrJoin(subjects, ","), absl::StrJoin(want.subjects, ","), &out);
  Compare("retention",
          std::string(RetentionName(have.Retention == js_InterestPolicy    ? Retention::kInterest
                                    : have.Retention == js_WorkQueuePolicy ? Retention::kWorkQueue
                                                                           : Retention::kLimits)),
          std::string(RetentionName(want.retention)), &out);
  Compare("duplicate_window", absl::FormatDuration(absl::Nanoseconds(have.Duplicates)),
          absl::FormatDuration(want.duplicate_window), &out);
  Compare("max_age", absl::FormatDuration(absl::Nanoseconds(have.MaxAge)),
          absl::FormatDuration(want.max_age), &out);
  Compare("max_bytes", have.MaxBytes, want.max_bytes, &out);
  Compare("discard", std::string(have.Discard == js_DiscardNew ? "new" : "old"),
          std::string(want.discard_new ? "new" : "old"), &out);
  Compare("replicas", have.Replicas, static_cast<int64_t>(want.replicas), &out);
  // Declared streams are on disk, with no per-subject or message-count limits.
  Compare("storage", std::string(have.Storage == js_MemoryStorage ? "memory" : "file"),
          std::string("file"), &out);
  Compare("max_msgs_per_subject",
          have.MaxMsgsPerSubject <= 0 ? int64_t{-1} : have.MaxMsgsPerSubject, int64_t{-1}, &out);
  Compare("max_msgs", have.MaxMsgs <= 0 ? int64_t{-1} : have.MaxMsgs, int64_t{-1}, &out);
  return out;
}

// Owns a NATS.c message.
class JetStreamMessage : public Message {
 public:
  explicit JetStreamMessage(natsMsg* msg) : msg_(msg) {
    jsMsgMetaData* meta = nullptr;
    if (natsMsg_GetMetaData(&meta, msg_) == NATS_OK) {
      deliveries_ = meta->NumDelivered;
      stream_sequence_ = meta->Sequence.Stream;
      jsMsgMetaData_Destroy(meta);
    }
    const char* id = nullptr;
    if (natsMsgHeader_Get(msg_, "Nats-Msg-Id", &id) == NATS_OK && id != nullptr) id_ = id;
    const char* traceparent = nullptr;
    if (natsMsgHeader_Get(msg_, "traceparent", &traceparent) == NATS_OK && traceparent != nullptr) {
      traceparent_ = traceparent;
    }
  }
  ~JetStreamMessage() override { natsMsg_Destroy(msg_); }

  absl::string_view subject() const override { return natsMsg_GetSubject(msg_); }
  absl::string_view data() const override {
    return absl::string_view(natsMsg_GetData(msg_), natsMsg_GetDataLength(msg_));
  }
  absl::string_view message_id() const override { return id_; }
  absl::string_view traceparent() const override { return traceparent_; }
  uint64_t deliveries() const override { return deliveries_; }
  uint64_t stream_sequence() const override { return stream_sequence_; }

  absl::Status Ack() override { return FromNats(natsMsg_Ack(msg_, nullptr), "ack"); }
  absl::Status Nak(absl::Duration delay) override {
    return FromNats(natsMsg_NakWithDelay(msg_, absl::ToInt64Milliseconds(delay), nullptr), "nak");
  }
  absl::Status Term() override { return FromNats(natsMsg_Term(msg_, nullptr), "term"); }
  absl::Status InProgress() override {
    return FromNats(natsMsg_InProgress(msg_, nullptr), "in progress");
  }

 private:
  natsMsg* msg_;
  std::string id_;
  std::string traceparent_;
  uint64_t deliveries_ = 0;
  uint64_t stream_sequence_ = 0;
};

class PullSource : public MessageSource {
 public:
  PullSource(std::shared_ptr<Connection> connection, natsSubscription* sub)
      : connection_(std::move(connection)), sub_(sub) {}
  // Only the local subscription goes: the durable consumer stays for the other replicas.
  ~PullSource() override { natsSubscription_Destroy(sub_); }

  absl::StatusOr<std::vector<std::unique_ptr<Message>>> Fetch(int max,
                                                              absl::Duration timeout) override {
    if (!connection_->connected()) return absl::UnavailableError("nats: not connected");
    natsMsgList list{};
    jsErrCode code = static_cast<jsErrCode>(0);
    natsStatus s =
        natsSubscription_Fetch(&list, sub_, max, absl::ToInt64Milliseconds(timeout), &code);
    std::vector<std::unique_ptr<Message>> out;
    if (s == NATS_TIMEOUT) return out;
    RETURN_IF_ERROR(FromJs(s, code, "fetch"));
    out.reserve(list.Count);
    for (int i = 0; i < list.Count; ++i) {
      out.push_back(std::make_unique<JetStreamMessage>(list.Msgs[i]));
      list.Msgs[i] = nullptr;  // now owned by the message
    }
    natsMsgList_Destroy(&list);
    return out;
  }

 private:
  std::shared_ptr<Connection> connection_;
  natsSubscription* sub_;
};

}  // namespace

struct JetStream::State {
  std::shared_ptr<Connection> connection;
  jsCtx* js = nullptr;
  JetStreamOptions options;
  absl::Mutex mu;
  // Callbacks of publishes in flight, by the message the client hands back with the ack.
  absl::flat_hash_map<const natsMsg*, PublishDone> pending ABSL_GUARDED_BY(mu);

  static void OnAck(jsCtx* js, natsMsg* msg, jsPubAck* pa, jsPubAckErr* pae, void* closure);
};

JetStream::JetStream(std::unique_ptr<State> state) : state_(std::move(state)) {}

absl::StatusOr<std::unique_ptr<JetStream>> JetStream::Create(std::shared_ptr<Connection> connection,
                                                             JetStreamOptions options) {
  auto state = std::make_unique<State>();
  state->connection = connection;
  state->options = options;
  jsOptions opts;
  RETURN_IF_ERROR(FromNats(jsOptions_Init(&opts), "jetstream options"));
  opts.Wait = absl::ToInt64Milliseconds(options.publish_timeout);
  opts.PublishAsync.MaxPending = options.max_pending;
  // At max_pending, a publish waits this long for room and then fails (UNAVAILABLE) rather
  // than holding its caller's thread (a gRPC callback thread) for a whole publish_timeout.
  opts.PublishAsync.StallWait = 50;
  opts.PublishAsync.AckHandler = &State::OnAck;
  opts.PublishAsync.AckHandlerClosure = state.get();
  RETURN_IF_ERROR(FromNats(natsConnection_JetStream(&state->js, connection->raw(), &opts),
                           "jetstream context"));
  return std::unique_ptr<JetStream>(new JetStream(std::move(state)));
}

JetStream::~JetStream() {
  jsPubOptions opts;
  jsPubOptions_Init(&opts);
  opts.MaxWait = absl::ToInt64Milliseconds(state_->options.publish_timeout + absl::Seconds(1));
  // Every publish times out by itself, so this ends; until it says so, an ack handler may
  // still be about to use the state.
  while (js_PublishAsyncComplete(state_->js, &opts) == NATS_TIMEOUT) {
  }
  jsCtx_Destroy(state_->js);
  absl::flat_hash_map<const natsMsg*, PublishDone> left;
  {
    absl::MutexLock lock(&state_->mu);
    left.swap(state_->pending);
  }
  for (auto& [msg, done] : left) done(absl::UnavailableError("nats: publisher closed"));
}

absl::StatusOr<std::vector<std::string>> JetStream::EnsureStream(const StreamSpec& spec) {
  jsStreamInfo* info = nullptr;
  jsErrCode code = static_cast<jsErrCode>(0);
  natsStatus s = js_GetStreamInfo(&info, state_->js, spec.name.c_str(), nullptr, &code);
  if (s == NATS_OK) {
    std::vector<std::string> differences = StreamDifferences(*info->Config, spec);
    jsStreamInfo_Destroy(info);
    return differences;
  }
  absl::Status looked = FromJs(s, code, absl::StrCat("stream ", spec.name));
  if (!absl::IsNotFound(looked)) return looked;

  std::vector<const char*> subjects;
  for (const std::string& subject : spec.subjects) subjects.push_back(subject.c_str());
  jsStreamConfig cfg;
  RETURN_IF_ERROR(FromNats(jsStreamConfig_Init(&cfg), "stream config"));
  cfg.Name = spec.name.c_str();
  cfg.Subjects = subjects.data();
  cfg.SubjectsLen = static_cast<int>(subjects.size());
  cfg.Storage = js_FileStorage;
  cfg.Retention = ToNats(spec.retention);
  cfg.Duplicates = Nanos(spec.duplicate_window);
  cfg.MaxAge = Nanos(spec.max_age);
  cfg.MaxBytes = spec.max_bytes;
  cfg.Discard = spec.discard_new ? js_DiscardNew : js_DiscardOld;
  cfg.Replicas = spec.replicas;
  code = static_cast<jsErrCode>(0);
  s = js_AddStream(&info, state_->js, &cfg, nullptr, &code);
  if (info != nullptr) jsStreamInfo_Destroy(info);
  // Another service declared it meanwhile: compare with what it made.
  if (s != NATS_OK && code == JSStreamNameExistErr) return EnsureStream(spec);
  RETURN_IF_ERROR(FromJs(s, code, absl::StrCat("create stream ", spec.name)));
  return std::vector<std::string>();
}

absl::StatusOr<std::vector<std::string>> JetStream::EnsureConsumer(const ConsumerSpec& spec,
                                                                   bool create) {
  jsConsumerInfo* info = nullptr;
  jsErrCode code = static_cast<jsErrCode>(0);
  natsStatus s = js_GetConsumerInfo(&info, state_->js, spec.stream.c_str(), spec.durable.c_str(),
                                    nullptr, &code);
  if (s == NATS_OK) {
    std::vector<std::string> out;
    const jsConsumerConfig& have = *info->Config;
    Compare("filter_subject", std::string(have.FilterSubject ? have.FilterSubject : ""),
            spec.filter_subject, &out);
    Compare("ack_wait", absl::FormatDuration(absl::Nanoseconds(have.AckWait)),
            absl::FormatDuration(spec.ack_wait), &out);
    Compare("max_ack_pending", have.MaxAckPending, spec.max_ack_pending, &out);
    // A consumer added by hand otherwise would move its floor past messages it never had.
    Compare("ack_policy",
            std::string(have.AckPolicy == js_AckExplicit ? "explicit"
                        : have.AckPolicy == js_AckAll    ? "all"
                                                         : "none"),
            std::string("explicit"), &out);
    Compare("deliver_policy", std::string(have.DeliverPolicy == js_DeliverAll ? "all" : "other"),
            std::string("all"), &out);
    // A finite max_deliver drops a message after that many tries, acknowledged or not.
    Compare("max_deliver", int64_t{have.MaxDeliver <= 0 ? -1 : have.MaxDeliver}, int64_t{-1}, &out);
    if (spec.replicas > 0) Compare("replicas", have.Replicas, int64_t{spec.replicas}, &out);
    jsConsumerInfo_Destroy(info);
    return out;
  }
  absl::Status looked = FromJs(s, code, absl::StrCat("consumer ", spec.durable));
  if (!absl::IsNotFound(looked)) return looked;
  if (!create) return std::vector<std::string>();

  jsConsumerConfig cfg;
  RETURN_IF_ERROR(FromNats(jsConsumerConfig_Init(&cfg), "consumer config"));
  cfg.Durable = spec.durable.c_str();
  cfg.AckPolicy = js_AckExplicit;
  cfg.AckWait = Nanos(spec.ack_wait);
  cfg.MaxAckPending = spec.max_ack_pending;
  cfg.MaxDeliver = -1;  // the worker decides when a message can never succeed
  cfg.FilterSubject = spec.filter_subject.c_str();
  cfg.DeliverPolicy = js_DeliverAll;
  cfg.Replicas = spec.replicas;
  code = static_cast<jsErrCode>(0);
  s = js_AddConsumer(&info, state_->js, spec.stream.c_str(), &cfg, nullptr, &code);
  if (info != nullptr) jsConsumerInfo_Destroy(info);
  if (s != NATS_OK && code == JSConsumerNameExistErr) return EnsureConsumer(spec, create);
  RETURN_IF_ERROR(FromJs(s, code, absl::StrCat("create consumer ", spec.durable)));
  return std::vector<std::string>();
}

absl::StatusOr<StreamState> JetStream::GetStreamState(const std::string& stream) {
  jsStreamInfo* info = nullptr;
  jsErrCode code = static_cast<jsErrCode>(0);
  RETURN_IF_ERROR(FromJs(js_GetStreamInfo(&info, state_->js, stream.c_str(), nullptr, &code), code,
                         absl::StrCat("stream ", stream)));
  StreamState out{.messages = info->State.Msgs,
                  .bytes = info->State.Bytes,
                  .first_sequence = info->State.FirstSeq,
                  .last_sequence = info->State.LastSeq,
                  .consumers = info->State.Consumers,
                  .replicas = info->Config->Replicas};
  if (info->Cluster != nullptr && info->Cluster->Leader != nullptr) {
    out.leader = info->Cluster->Leader;
  }
  jsStreamInfo_Destroy(info);
  return out;
}

absl::StatusOr<ConsumerState> JetStream::GetConsumerState(const std::string& stream,
                                                          const std::string& durable) {
  jsConsumerInfo* info = nullptr;
  jsErrCode code = static_cast<jsErrCode>(0);
  RETURN_IF_ERROR(
      FromJs(js_GetConsumerInfo(&info, state_->js, stream.c_str(), durable.c_str(), nullptr, &code),
             code, absl::StrCat("consumer ", durable)));
  ConsumerState out{.ack_pending = info->NumAckPending,
                    .pending = info->NumPending,
                    .redelivered = info->NumRedelivered,
                    .ack_floor = info->AckFloor.Stream,
                    .replicas = info->Config->Replicas};
  jsConsumerInfo_Destroy(info);
  return out;
}

absl::StatusOr<StoredMessage> JetStream::GetMessage(const std::string& stream, uint64_t sequence) {
  natsMsg* msg = nullptr;
  jsErrCode code = static_cast<jsErrCode>(0);
  RETURN_IF_ERROR(FromJs(js_GetMsg(&msg, state_->js, stream.c_str(), sequence, nullptr, &code),
                         code, absl::StrCat("message ", sequence, " of ", stream)));
  StoredMessage out;
  out.sequence = natsMsg_GetSequence(msg);
  out.subject = natsMsg_GetSubject(msg);
  out.data.assign(natsMsg_GetData(msg), natsMsg_GetDataLength(msg));
  const char* id = nullptr;
  if (natsMsgHeader_Get(msg, "Nats-Msg-Id", &id) == NATS_OK && id != nullptr) out.message_id = id;
  out.time = absl::FromUnixNanos(natsMsg_GetTime(msg));
  natsMsg_Destroy(msg);
  return out;
}

absl::Status JetStream::DeleteMessage(const std::string& stream, uint64_t sequence) {
  jsErrCode code = static_cast<jsErrCode>(0);
  return FromJs(js_DeleteMsg(state_->js, stream.c_str(), sequence, nullptr, &code), code,
                absl::StrCat("delete message ", sequence, " of ", stream));
}

absl::Status JetStream::PurgeBelow(const std::string& stream, uint64_t sequence) {
  jsOptions options;
  RETURN_IF_ERROR(FromNats(jsOptions_Init(&options), "purge options"));
  options.Stream.Purge.Sequence = sequence;
  jsErrCode code = static_cast<jsErrCode>(0);
  return FromJs(js_PurgeStream(state_->js, stream.c_str(), &options, &code), code,
                absl::StrCat("purge ", stream, " below ", sequence));
}

absl::Status JetStream::DeleteConsumer(const std::string& stream, const std::string& durable) {
  jsErrCode code = static_cast<jsErrCode>(0);
  return FromJs(js_DeleteConsumer(state_->js, stream.c_str(), durable.c_str(), nullptr, &code),
                code, absl::StrCat("delete consumer ", stream, "/", durable));
}

absl::StatusOr<std::unique_ptr<MessageSource>> JetStream::Bind(const std::string& stream,
                                                               const std::string& durable) {
  jsSubOptions so;
  RETURN_IF_ERROR(FromNats(jsSubOptions_Init(&so), "subscribe options"));
  so.Stream = stream.c_str();
  so.Consumer = durable.c_str();  // bind only: declaring is streams.h's job
  natsSubscription* sub = nullptr;
  jsErrCode code = static_cast<jsErrCode>(0);
  natsStatus s = js_PullSubscribe(&sub, state_->js, nullptr, durable.c_str(), nullptr, &so, &code);
  RETURN_IF_ERROR(FromJs(s, code, absl::StrCat("consumer ", durable, " of ", stream)));
  return std::unique_ptr<MessageSource>(new PullSource(state_->connection, sub));
}

int64_t JetStream::max_payload() const {
  return static_cast<int64_t>(natsConnection_GetMaxPayload(state_->connection->raw()));
}

void JetStream::PublishAsync(absl::string_view subject, absl::string_view data,
                             absl::string_view msg_id, absl::string_view traceparent,
                             PublishDone done) {
  // A disconnected client would buffer the message and only time out later; answer now.
  if (!state_->connection->connected()) {
    done(absl::UnavailableError("nats: not connected"));
    return;
  }
  natsMsg* msg = nullptr;
  std::string subject_z(subject);
  natsStatus s =
      natsMsg_Create(&msg, subject_z.c_str(), nullptr, data.data(), static_cast<int>(data.size()));
  if (s == NATS_OK && !traceparent.empty()) {
    s = natsMsgHeader_Set(msg, "traceparent", std::string(traceparent).c_str());
    if (s != NATS_OK) natsMsg_Destroy(msg);
  }
  if (s != NATS_OK) {
    done(FromNats(s, "message"));
    return;
  }
  {
    absl::MutexLock lock(&state_->mu);
    // A message's address is free for reuse only after its entry is gone (OnAck and the
    // failure path below erase before destroying), so the key cannot be taken.
    state_->pending.emplace(msg, std::move(done));
  }
  jsPubOptions opts;
  jsPubOptions_Init(&opts);
  std::string id(msg_id);
  if (!id.empty()) opts.MsgId = id.c_str();
  opts.MaxWait = absl::ToInt64Milliseconds(state_->options.publish_timeout);
  const natsMsg* key = msg;
  s = js_PublishMsgAsync(state_->js, &msg, &opts);
  if (s == NATS_OK) return;  // the client owns the message; OnAck completes it
  PublishDone failed;
  {
    absl::MutexLock lock(&state_->mu);
    auto it = state_->pending.find(key);
    if (it != state_->pending.end()) {
      failed = std::move(it->second);
      state_->pending.erase(it);
    }
  }
  natsMsg_Destroy(msg);  // after the erase; a no-op when the client took it anyway
  if (!failed) return;   // completed by OnAck already
  absl::Status status = FromNats(s, absl::StrCat("publish to ", subject));
  if (s == NATS_TIMEOUT) status = absl::UnavailableError(status.message());
  failed(status);
}

void JetStream::State::OnAck(jsCtx*, natsMsg* msg, jsPubAck* pa, jsPubAckErr* pae, void* closure) {
  auto* self = static_cast<State*>(closure);
  PublishDone done;
  {
    absl::MutexLock lock(&self->mu);
    auto it = self->pending.find(msg);
    if (it != self->pending.end()) {
      done = std::move(it->second);
      self->pending.erase(it);
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
    if (pae->ErrText != nullptr) {
      cause = absl::Status(cause.code(), absl::StrCat("nats: ", pae->ErrText));
    }
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

}  // namespace granary::bus
