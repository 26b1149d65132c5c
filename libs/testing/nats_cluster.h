// A real cluster of nats-servers with JetStream on loopback, for tests of what a quorum
// promises: each node on free ports of its own, routed to the others, with its own store.
// Start returns once the cluster elected its JetStream metadata leader.
//
//   ASSERT_OK_AND_ASSIGN(auto cluster, NatsCluster::Start(3));
//   options.url = cluster->urls();     // "nats://127.0.0.1:p1,nats://127.0.0.1:p2,..."
//   ASSERT_OK(cluster->Kill(1));       // SIGKILL one node; the other two keep a quorum
#ifndef GRANARY_LIBS_TESTING_NATS_CLUSTER_H_
#define GRANARY_LIBS_TESTING_NATS_CLUSTER_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"

#include "libs/testing/backend_process.h"
#include "libs/testing/temp_dir.h"

namespace granary::testing {

class NatsCluster {
 public:
  static absl::StatusOr<std::unique_ptr<NatsCluster>> Start(int nodes = 3);

  int size() const { return static_cast<int>(nodes_.size()); }
  // Every node's client URL, comma-separated (what a client's nats.url takes).
  std::string urls() const;
  std::string url(int node) const;
  pid_t pid(int node) const { return nodes_[node]->pid(); }

  // SIGKILL, as a crash.
  absl::Status Kill(int node) { return nodes_[node]->Kill(); }
  absl::Status Stop(int node) { return nodes_[node]->Stop(); }
  // Same ports and store: it rejoins the cluster and catches up.
  absl::Status Restart(int node) { return nodes_[node]->Restart(); }

 private:
  explicit NatsCluster(TempDir dir) : dir_(std::move(dir)) {}
  absl::Status Launch(int nodes);

  TempDir dir_;
  std::vector<std::unique_ptr<BackendProcess>> nodes_;
};

}  // namespace granary::testing

#endif  // GRANARY_LIBS_TESTING_NATS_CLUSTER_H_
