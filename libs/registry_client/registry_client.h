// Keeps an immutable Catalog per watched project fresh, for services that read the registry
// on their request paths. A change announced on NATS (granary.registry.changed.<project>)
// triggers a refresh at once; a slow poll catches anything missed (NATS down, a lost
// message); a refresh asks GetSnapshot(if_newer_than = the version held), which costs almost
// nothing when nothing changed. Readers never block: Get is lock-free (SnapshotCell), and
// when the registry is unreachable the last catalog stays in use. Its calls are signed as the
// service (options.caller, libs/rpc/service_channel.h), so a registry that requires the
// gateway's signature answers them.
//
//   RegistryClientOptions options = config.registry;
//   options.caller = host.service_caller();
//   RegistryClient client(options, nats);
//   RETURN_IF_ERROR(client.Start());
//   client.Watch("driver_stats");
//   std::shared_ptr<const Catalog> catalog = client.Get("driver_stats");  // null until loaded
#ifndef GRANARY_LIBS_REGISTRY_CLIENT_REGISTRY_CLIENT_H_
#define GRANARY_LIBS_REGISTRY_CLIENT_REGISTRY_CLIENT_H_

#include <functional>
#include <memory>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"

#include "libs/bus/connection.h"
#include "libs/config/reader.h"
#include "libs/registry_client/catalog.h"
#include "libs/registry_client/snapshot_cell.h"
#include "libs/rpc/service_channel.h"

namespace grpc {
class Channel;
}

namespace granary::registry_client {

struct RegistryClientOptions {
  // The registry, host:port.
  std::string address = "127.0.0.1:6570";
  // How often every watched project is checked even without a change event.
  absl::Duration poll_interval = absl::Seconds(30);
  absl::Duration rpc_timeout = absl::Seconds(5);
  // Delay before retrying a refresh that failed (the registry is down).
  absl::Duration retry_delay = absl::Seconds(1);
  // Who calls (not read from the section: a service's build function sets
  // ServiceHost::service_caller()). Without a secret, calls go unsigned, and a registry that
  // requires the gateway's signature refuses them.
  rpc::ServiceCaller caller;
};

// Reads the `registry:` section of a service that watches the catalog:
//
//   registry: {address: 127.0.0.1:6570, poll_interval: 30s, rpc_timeout: 5s}
RegistryClientOptions ReadRegistryClientOptions(config::Reader section);

// The projects a service works for, from its own section:
//
//   project: driver_stats       # of requests that name none (required)
//   projects: [driver_stats]    # all it accepts (default: the one above, always included)
struct ServedProjects {
  std::string default_project;
  std::vector<std::string> projects;
};
ServedProjects ReadServedProjects(config::Reader& section);

class RegistryClient {
 public:
  // `nats` may be null: then changes are seen on the poll only.
  RegistryClient(RegistryClientOptions options, std::shared_ptr<bus::Connection> nats);
  ~RegistryClient();

  // Subscribes to change events and starts refreshing in the background.
  absl::Status Start();
  void Stop();

  // Keeps `project` fresh from now on (idempotent); the first load starts at once.
  void Watch(const std::string& project);
  // The project's catalog: null before the first load and after the project was deleted.
  std::shared_ptr<const Catalog> Get(const std::string& project) const;
  // The catalog, or why there is none: NOT_FOUND when the registry said the project does not
  // exist, UNAVAILABLE when it has not been loaded (yet), naming the last refresh's error
  // (the registry down, or refusing the call). Lock-free when there is one.
  absl::StatusOr<std::shared_ptr<const Catalog>> Lookup(const std::string& project) const;
  // Blocks until the project's catalog is at `version` or newer, or `timeout` passes.
  bool WaitForVersion(const std::string& project, int64_t version, absl::Duration timeout);
  // Blocks until `done(Get(project))` holds, re-checked at each change, or `timeout` passes.
  bool WaitUntil(const std::string& project,
                 const std::function<bool(const Catalog* catalog)>& done, absl::Duration timeout);
  // OK once every watched project has a catalog; UNAVAILABLE naming those still missing and
  // the last refresh's error.
  absl::Status Ready() const;

 private:
  using Cell = SnapshotCell<Catalog>;
  using Cells = absl::flat_hash_map<std::string, std::shared_ptr<Cell>>;

  std::shared_ptr<Cell> CellOf(const std::string& project) const;
  void Request(const std::string& project);
  void OnChange(absl::string_view data);
  void Loop();
  // Fetches the project's snapshot if it changed; false when the registry could not be asked.
  bool Refresh(const std::string& project);
  bool Stopping() const;

  const RegistryClientOptions options_;
  std::shared_ptr<bus::Connection> nats_;
  uint64_t reconnect_listener_ = 0;
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<bus::Subscription> subscription_;
  SnapshotCell<Cells> cells_;  // replaced when a project is watched: read without a lock
  std::thread thread_;

  mutable absl::Mutex mu_;
  std::set<std::string> pending_ ABSL_GUARDED_BY(mu_);
  // Bumped at each change of any catalog, so that waiters re-check.
  uint64_t changes_ ABSL_GUARDED_BY(mu_) = 0;
  // Projects whose last refresh failed, and why (logged once, until it works again).
  absl::flat_hash_map<std::string, absl::Status> failing_ ABSL_GUARDED_BY(mu_);
  // Projects the registry last said do not exist.
  std::set<std::string> missing_ ABSL_GUARDED_BY(mu_);
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
};

}  // namespace granary::registry_client

#endif  // GRANARY_LIBS_REGISTRY_CLIENT_REGISTRY_CLIENT_H_
