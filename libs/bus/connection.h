// A NATS connection that never gives up: Open returns at once even when NATS is down, and the
// client connects (and reconnects) in the background forever. Core publish and subscribe;
// JetStream builds on raw().
//
//   ASSIGN_OR_RETURN(std::shared_ptr<bus::Connection> nats, bus::Connection::Open(options));
//   RETURN_IF_ERROR(nats->Ping());  // UNAVAILABLE until connected
//   auto sub = nats->Subscribe("granary.registry.changed.>",
//                              [](absl::string_view subject, absl::string_view data) {...});
//
// A Subscription keeps its Connection alive; destroying a Subscription returns once its
// handler will run no more, so the handler's captures may be destroyed right after.
#ifndef GRANARY_LIBS_BUS_CONNECTION_H_
#define GRANARY_LIBS_BUS_CONNECTION_H_

#include <functional>
#include <map>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "absl/time/time.h"

#include "libs/bus/nats_fwd.h"
#include "libs/bus/options.h"

namespace granary::bus {

using MessageHandler = std::function<void(absl::string_view subject, absl::string_view data)>;

class Connection;

// Unsubscribes on destruction.
class Subscription {
 public:
  Subscription(const Subscription&) = delete;
  Subscription& operator=(const Subscription&) = delete;
  ~Subscription();

 private:
  friend class Connection;
  Subscription() = default;
  static void OnMessage(natsConnection*, natsSubscription*, natsMsg* msg, void* closure);
  static void OnComplete(void* closure);

  std::shared_ptr<Connection> connection_;
  natsSubscription* sub_ = nullptr;
  MessageHandler handler_;
  // Set once the client will call handler_ no more.
  absl::Notification done_;
};

class Connection : public std::enable_shared_from_this<Connection> {
 public:
  static absl::StatusOr<std::shared_ptr<Connection>> Open(const NatsOptions& options);

  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;
  ~Connection();

  bool connected() const;
  // How many times the connection was established (the first connect and each reconnect).
  uint64_t connects() const;
  // Blocks until connected with connects() > after_connects, or until `timeout`; true when
  // so. Pass the count seen before an outage to wait for a new connection, not the old one the
  // client has not yet noticed is dead. Driven by the client's callbacks, not by polling.
  bool WaitConnected(absl::Duration timeout, uint64_t after_connects = 0);
  // A round trip to the server within `timeout`; UNAVAILABLE while disconnected.
  absl::Status Ping(absl::Duration timeout = absl::Seconds(1));
  // Calls `fn` on the client's callback thread each time the connection comes back after
  // being lost (messages published meanwhile were not delivered to our subscriptions).
  // Returns an id for RemoveReconnectListener.
  uint64_t AddReconnectListener(std::function<void()> fn);
  // Once this returns, the listener runs no more (a call in progress has finished).
  void RemoveReconnectListener(uint64_t id);

  // Core NATS publish: fire and forget (no persistence).
  absl::Status Publish(absl::string_view subject, absl::string_view data);
  // Handler runs on the client's delivery thread; subscriptions survive reconnects.
  absl::StatusOr<std::unique_ptr<Subscription>> Subscribe(absl::string_view subject,
                                                          MessageHandler handler);

  natsConnection* raw() { return nc_; }

 private:
  // Shared with NATS.c's callbacks, which may fire before Open returns.
  struct State {
    absl::Mutex mu;
    bool connected ABSL_GUARDED_BY(mu) = false;
    uint64_t connects ABSL_GUARDED_BY(mu) = 0;
    // The closed callback comes last, after any other callback on the same thread; until it
    // has run, State must stay alive.
    absl::Notification closed;
    // Held while listeners run, so that removing one waits for a call in progress.
    absl::Mutex listeners_mu;
    uint64_t next_listener ABSL_GUARDED_BY(listeners_mu) = 1;
    std::map<uint64_t, std::function<void()>> listeners ABSL_GUARDED_BY(listeners_mu);
  };
  static void OnConnectionChange(natsConnection* nc, void* closure);
  static void OnClosed(natsConnection* nc, void* closure);

  Connection(natsConnection* nc, std::unique_ptr<State> state)
      : nc_(nc), state_(std::move(state)) {}
  natsConnection* nc_;
  std::unique_ptr<State> state_;
};

}  // namespace granary::bus

#endif  // GRANARY_LIBS_BUS_CONNECTION_H_
