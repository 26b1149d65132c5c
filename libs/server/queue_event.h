// A tag posted to a completion queue that a service runtime drives on its own threads
// (ServiceHost::UseQueues): the thread that takes it from the queue calls Run(ok). Every tag
// given to gRPC with such a queue must be one.
#ifndef GRANARY_LIBS_SERVER_QUEUE_EVENT_H_
#define GRANARY_LIBS_SERVER_QUEUE_EVENT_H_

namespace granary::server {

class QueueEvent {
 public:
  virtual void Run(bool ok) = 0;

 protected:
  ~QueueEvent() = default;
};

// On a queue thread of the runtime, during QueueEvent::Run: whether the thread waited for this
// event, its queue having had nothing ready before it. A handler may then spend time on the
// thread (wait for a backend) without holding up other calls; when false, other events were
// ready behind this one. False on any other thread.
bool QueueWasIdle();

// A QueueEvent that calls `Owner::*method(ok)`: a call object with several things in flight
// holds one of these per kind of event.
template <typename Owner>
class MemberEvent final : public QueueEvent {
 public:
  MemberEvent(Owner* owner, void (Owner::*method)(bool)) : owner_(owner), method_(method) {}
  void Run(bool ok) override { (owner_->*method_)(ok); }

 private:
  Owner* owner_;
  void (Owner::*method_)(bool);
};

}  // namespace granary::server

#endif  // GRANARY_LIBS_SERVER_QUEUE_EVENT_H_
