#include "libs/bus/connection.h"

#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"

#include "libs/base/status_macros.h"
#include "libs/bus/status.h"

namespace granary::bus {
namespace {

struct OptionsDeleter {
  void operator()(natsOptions* o) const { natsOptions_Destroy(o); }
};

}  // namespace

absl::StatusOr<std::shared_ptr<Connection>> Connection::Open(const NatsOptions& options) {
  natsOptions* raw = nullptr;
  RETURN_IF_ERROR(FromNats(natsOptions_Create(&raw), "options"));
  std::unique_ptr<natsOptions, OptionsDeleter> opts(raw);
  // A cluster's URLs: the client tries them all, and reconnects to whichever answers.
  std::vector<std::string> urls = absl::StrSplit(options.url, ',', absl::SkipWhitespace());
  std::vector<const char*> servers;
  for (std::string& url : urls) {
    url = std::string(absl::StripAsciiWhitespace(url));
    servers.push_back(url.c_str());
  }
  RETURN_IF_ERROR(
      FromNats(natsOptions_SetServers(opts.get(), servers.data(), static_cast<int>(servers.size())),
               "servers"));
  RETURN_IF_ERROR(FromNats(natsOptions_SetName(opts.get(), options.name.c_str()), "name"));
  RETURN_IF_ERROR(FromNats(
      natsOptions_SetTimeout(opts.get(), absl::ToInt64Milliseconds(options.connect_timeout)),
      "timeout"));
  RETURN_IF_ERROR(FromNats(natsOptions_SetMaxReconnect(opts.get(), -1), "max reconnect"));
  RETURN_IF_ERROR(FromNats(
      natsOptions_SetReconnectWait(opts.get(), absl::ToInt64Milliseconds(options.reconnect_wait)),
      "reconnect wait"));
  auto state = std::make_unique<State>();
  // With a connected callback, a failed first connect returns at once and retries in the
  // background (without one it would block).
  RETURN_IF_ERROR(FromNats(natsOptions_SetRetryOnFailedConnect(
                               opts.get(), true, &Connection::OnConnectionChange, state.get()),
                           "retry"));
  RETURN_IF_ERROR(FromNats(
      natsOptions_SetReconnectedCB(opts.get(), &Connection::OnConnectionChange, state.get()),
      "reconnected callback"));
  RETURN_IF_ERROR(FromNats(
      natsOptions_SetDisconnectedCB(opts.get(), &Connection::OnConnectionChange, state.get()),
      "disconnected callback"));
  RETURN_IF_ERROR(FromNats(natsOptions_SetClosedCB(opts.get(), &Connection::OnClosed, state.get()),
                           "closed callback"));
  if (!options.user.empty()) {
    RETURN_IF_ERROR(FromNats(
        natsOptions_SetUserInfo(opts.get(), options.user.c_str(), options.password.value().c_str()),
        "user"));
    // Replies (JetStream acks, fetched messages, stream reads) come back on inboxes only this
    // user may subscribe to (deploy/nats/nats.conf), not on _INBOX.> where any user could.
    RETURN_IF_ERROR(
        FromNats(natsOptions_SetCustomInboxPrefix(opts.get(), InboxPrefix(options.user).c_str()),
                 "inbox prefix"));
  }
  if (!options.token.empty()) {
    RETURN_IF_ERROR(
        FromNats(natsOptions_SetToken(opts.get(), options.token.value().c_str()), "token"));
  }
  natsConnection* nc = nullptr;
  natsStatus s = natsConnection_Connect(&nc, opts.get());
  if (s != NATS_OK && s != NATS_NOT_YET_CONNECTED) {
    return FromNats(s, absl::StrCat("connect to ", options.url));
  }
  OnConnectionChange(nc, state.get());
  return std::shared_ptr<Connection>(new Connection(nc, std::move(state)));
}

void Connection::OnConnectionChange(natsConnection* nc, void* closure) {
  auto* state = static_cast<State*>(closure);
  bool reconnected = false;
  {
    absl::MutexLock lock(&state->mu);
    bool now = natsConnection_Status(nc) == NATS_CONN_STATUS_CONNECTED;
    if (now && !state->connected) reconnected = ++state->connects > 1;
    state->connected = now;
  }
  if (reconnected) {
    absl::MutexLock lock(&state->listeners_mu);
    for (auto& [id, fn] : state->listeners) fn();
  }
}

uint64_t Connection::AddReconnectListener(std::function<void()> fn) {
  absl::MutexLock lock(&state_->listeners_mu);
  uint64_t id = state_->next_listener++;
  state_->listeners.emplace(id, std::move(fn));
  return id;
}

void Connection::RemoveReconnectListener(uint64_t id) {
  absl::MutexLock lock(&state_->listeners_mu);
  state_->listeners.erase(id);
}

uint64_t Connection::connects() const {
  absl::MutexLock lock(&state_->mu);
  return state_->connects;
}

bool Connection::WaitConnected(absl::Duration timeout, uint64_t after_connects) {
  absl::MutexLock lock(&state_->mu);
  // The flag can lag the client by a callback; the status is the truth, checked on each wake.
  auto ready = [this, after_connects]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(state_->mu) {
    return state_->connected && state_->connects > after_connects && connected();
  };
  return state_->mu.AwaitWithTimeout(absl::Condition(&ready), timeout);
}

Connection::~Connection() {
  natsConnection_Close(nc_);
  // State must outlive every callback; the closed callback is the last one.
  state_->closed.WaitForNotification();
  natsConnection_Destroy(nc_);
}

void Connection::OnClosed(natsConnection*, void* closure) {
  static_cast<State*>(closure)->closed.Notify();
}

bool Connection::connected() const {
  return natsConnection_Status(nc_) == NATS_CONN_STATUS_CONNECTED;
}

absl::Status Connection::Ping(absl::Duration timeout) {
  if (!connected()) {
    return absl::UnavailableError("nats: not connected (reconnecting in the background)");
  }
  return FromNats(natsConnection_FlushTimeout(nc_, absl::ToInt64Milliseconds(timeout)), "ping");
}

absl::Status Connection::Publish(absl::string_view subject, absl::string_view data) {
  std::string subj(subject);
  return FromNats(
      natsConnection_Publish(nc_, subj.c_str(), data.data(), static_cast<int>(data.size())),
      absl::StrCat("publish to ", subject));
}

absl::StatusOr<std::unique_ptr<Subscription>> Connection::Subscribe(absl::string_view subject,
                                                                    MessageHandler handler) {
  auto sub = std::unique_ptr<Subscription>(new Subscription());
  sub->connection_ = shared_from_this();
  sub->handler_ = std::move(handler);
  std::string subj(subject);
  RETURN_IF_ERROR(FromNats(
      natsConnection_Subscribe(&sub->sub_, nc_, subj.c_str(), &Subscription::OnMessage, sub.get()),
      absl::StrCat("subscribe to ", subject)));
  natsSubscription_SetOnCompleteCB(sub->sub_, &Subscription::OnComplete, sub.get());
  return sub;
}

void Subscription::OnMessage(natsConnection*, natsSubscription*, natsMsg* msg, void* closure) {
  auto* self = static_cast<Subscription*>(closure);
  self->handler_(natsMsg_GetSubject(msg),
                 absl::string_view(natsMsg_GetData(msg), natsMsg_GetDataLength(msg)));
  natsMsg_Destroy(msg);
}

void Subscription::OnComplete(void* closure) {
  static_cast<Subscription*>(closure)->done_.Notify();
}

Subscription::~Subscription() {
  if (sub_ == nullptr) return;
  // The connection is still open (we hold it), so unsubscribing closes the subscription and
  // the completion callback follows the last message callback. Only then may the handler go.
  natsSubscription_Unsubscribe(sub_);
  done_.WaitForNotification();
  natsSubscription_Destroy(sub_);
}

}  // namespace granary::bus
