// Announces the online data to remove after feature views were deleted: the registry's commits
// record each such cleanup in an outbox (registry.online_cleanups, in the commit's own
// transaction), and this publishes them to JetStream (stream GRANARY_CLEANUP, subject
// granary.cleanup.<project>) for a materializer to carry out. A cleanup leaves the outbox only
// once JetStream stored it, so none is lost to a crash or a NATS outage; its message id
// ("cleanup/<project>/<id>") makes announcing it twice store it once. Woken after each commit
// that deleted views, and every `interval` in case JetStream was away.
//
//   auto announcer = std::make_shared<CleanupAnnouncer>(store, jetstream, absl::Seconds(5));
//   Registry registry(store, publisher, [announcer] { announcer->Wake(); });
//   announcer->Start();
#ifndef GRANARY_SERVICES_REGISTRY_CLEANUP_ANNOUNCER_H_
#define GRANARY_SERVICES_REGISTRY_CLEANUP_ANNOUNCER_H_

#include <memory>

#include "absl/status/status.h"
#include "absl/time/time.h"

#include "libs/base/periodic.h"
#include "libs/bus/publisher.h"
#include "services/registry/store.h"

namespace granary::registry {

class CleanupAnnouncer {
 public:
  CleanupAnnouncer(std::shared_ptr<Store> store, std::shared_ptr<bus::AckedPublisher> publisher,
                   absl::Duration interval)
      : store_(std::move(store)),
        publisher_(std::move(publisher)),
        periodic_("announce online cleanups", interval, [this] { return AnnounceAll(); }) {}
  ~CleanupAnnouncer() { Stop(); }

  void Start() { periodic_.Start(); }
  void Stop() { periodic_.Stop(); }
  // Announce now (from a commit).
  void Wake() { periodic_.Wake(); }
  // One pass over the outbox; OK once it is empty.
  absl::Status AnnounceAll();

 private:
  const std::shared_ptr<Store> store_;
  const std::shared_ptr<bus::AckedPublisher> publisher_;
  base::Periodic periodic_;  // last: stopped before the members its passes use go
};

}  // namespace granary::registry

#endif  // GRANARY_SERVICES_REGISTRY_CLEANUP_ANNOUNCER_H_
