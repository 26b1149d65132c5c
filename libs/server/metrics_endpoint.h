// The Prometheus /metrics HTTP endpoint of a service (prometheus-cpp's Exposer), with a prompt
// stop: the embedded web server only notices a stop request when its 2-second listening poll
// returns, so stopping connects to it to end the poll at once. Scrape hooks refresh computed
// gauges just before each scrape.
//
//   ASSIGN_OR_RETURN(auto endpoint, MetricsEndpoint::Start("127.0.0.1:0", registry));
//   int port = endpoint->port();
#ifndef GRANARY_LIBS_SERVER_METRICS_ENDPOINT_H_
#define GRANARY_LIBS_SERVER_METRICS_ENDPOINT_H_

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "prometheus/registry.h"

namespace prometheus {
class Collectable;
class Exposer;
}  // namespace prometheus

namespace granary::server {

class MetricsEndpoint {
 public:
  // UNAVAILABLE when the address cannot be bound.
  static absl::StatusOr<std::unique_ptr<MetricsEndpoint>> Start(
      const std::string& address, std::shared_ptr<prometheus::Registry> registry);
  ~MetricsEndpoint();

  int port() const { return port_; }

  // Runs `hook` before each scrape collects the registry: for gauges computed from state (the
  // age of a snapshot) rather than set as things happen. Thread-safe.
  void AddScrapeHook(std::function<void()> hook);
  // Also exports `collectable` (kept alive by the endpoint). Thread-safe.
  void AddCollectable(std::shared_ptr<prometheus::Collectable> collectable);

 private:
  class Hooks;
  MetricsEndpoint() = default;
  std::shared_ptr<Hooks> hooks_;
  std::vector<std::shared_ptr<prometheus::Collectable>> collectables_;
  std::unique_ptr<prometheus::Exposer> exposer_;
  std::string wake_host_;
  int port_ = 0;
};

}  // namespace granary::server

#endif  // GRANARY_LIBS_SERVER_METRICS_ENDPOINT_H_
