// Announces committed changes so that caches refresh at once: a RegistryChanged message on
// core NATS subject granary.registry.changed.<project>. Publishing is best effort by design:
// the commit already happened, so NATS being down is logged and counted, never an error for
// the caller; caches also poll, and pick the change up within their poll interval.
//
//   NatsChangePublisher publisher(nats, metrics);
//   publisher.Published("driver_stats", 7, committed_time);
#ifndef GRANARY_SERVICES_REGISTRY_CHANGE_PUBLISHER_H_
#define GRANARY_SERVICES_REGISTRY_CHANGE_PUBLISHER_H_

#include <memory>
#include <string>

#include "absl/time/time.h"
#include "prometheus/counter.h"
#include "prometheus/registry.h"

#include "libs/bus/connection.h"

namespace granary::registry {

// The subject a project's changes are announced on.
std::string ChangeSubject(const std::string& project);

class ChangePublisher {
 public:
  virtual ~ChangePublisher() = default;
  // The project is now at `version` (0: deleted).
  virtual void Published(const std::string& project, int64_t version,
                         absl::Time committed_time) = 0;
};

class NatsChangePublisher : public ChangePublisher {
 public:
  NatsChangePublisher(std::shared_ptr<bus::Connection> nats, prometheus::Registry& metrics);
  void Published(const std::string& project, int64_t version, absl::Time committed_time) override;

 private:
  std::shared_ptr<bus::Connection> nats_;
  prometheus::Counter* sent_;
  prometheus::Counter* failed_;
};

}  // namespace granary::registry

#endif  // GRANARY_SERVICES_REGISTRY_CHANGE_PUBLISHER_H_
