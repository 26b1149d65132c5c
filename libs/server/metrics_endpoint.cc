#include "libs/server/metrics_endpoint.h"

#include <netdb.h>
#include <unistd.h>

#include <atomic>
#include <exception>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "prometheus/collectable.h"
#include "prometheus/exposer.h"
#include <sys/socket.h>

namespace granary::server {
namespace {

// Opens and closes a connection to host:port (any address family), ignoring failures.
void Connect(const std::string& host, int port) {
  addrinfo hints{};
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* found = nullptr;
  if (getaddrinfo(host.c_str(), std::to_string(port).c_str(), &hints, &found) != 0) return;
  for (addrinfo* a = found; a != nullptr; a = a->ai_next) {
    int fd = socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC, a->ai_protocol);
    if (fd < 0) continue;
    bool ok = connect(fd, a->ai_addr, a->ai_addrlen) == 0;
    close(fd);
    if (ok) break;
  }
  freeaddrinfo(found);
}

}  // namespace

// Collects nothing itself: registered ahead of the registry, it runs the hooks first.
class MetricsEndpoint::Hooks : public prometheus::Collectable {
 public:
  void Add(std::function<void()> hook) {
    absl::MutexLock lock(&mu_);
    hooks_.push_back(std::move(hook));
  }
  std::vector<prometheus::MetricFamily> Collect() const override {
    absl::MutexLock lock(&mu_);
    for (const auto& hook : hooks_) hook();
    return {};
  }

 private:
  mutable absl::Mutex mu_;
  std::vector<std::function<void()>> hooks_ ABSL_GUARDED_BY(mu_);
};

void MetricsEndpoint::AddScrapeHook(std::function<void()> hook) { hooks_->Add(std::move(hook)); }

void MetricsEndpoint::AddCollectable(std::shared_ptr<prometheus::Collectable> collectable) {
  exposer_->RegisterCollectable(collectable);
  collectables_.push_back(std::move(collectable));
}

absl::StatusOr<std::unique_ptr<MetricsEndpoint>> MetricsEndpoint::Start(
    const std::string& address, std::shared_ptr<prometheus::Registry> registry) {
  auto endpoint = std::unique_ptr<MetricsEndpoint>(new MetricsEndpoint());
  try {
    endpoint->exposer_ = std::make_unique<prometheus::Exposer>(address, 2);
  } catch (const std::exception& e) {
    return absl::UnavailableError(
        absl::StrCat("cannot serve metrics on ", address, ": ", e.what()));
  }
  endpoint->hooks_ = std::make_shared<Hooks>();
  endpoint->exposer_->RegisterCollectable(endpoint->hooks_);
  endpoint->exposer_->RegisterCollectable(registry);
  std::vector<int> ports = endpoint->exposer_->GetListeningPorts();
  endpoint->port_ = ports.empty() ? 0 : ports[0];
  std::string host = address.substr(0, address.rfind(':'));
  if (host.size() > 1 && host.front() == '[') host = host.substr(1, host.size() - 2);
  // A wildcard address is reached through loopback.
  if (host.empty() || host == "0.0.0.0") host = "127.0.0.1";
  if (host == "::") host = "::1";
  endpoint->wake_host_ = host;
  return endpoint;
}

MetricsEndpoint::~MetricsEndpoint() {
  std::atomic<bool> stopped{false};
  std::thread waker([&] {
    while (!stopped.load()) {
      Connect(wake_host_, port_);
      absl::SleepFor(absl::Milliseconds(5));
    }
  });
  exposer_.reset();
  stopped = true;
  waker.join();
}

}  // namespace granary::server
