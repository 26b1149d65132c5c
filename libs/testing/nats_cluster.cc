#include "libs/testing/nats_cluster.h"

#include <fstream>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

#include "libs/base/status_macros.h"
#include "libs/testing/ports.h"

namespace granary::testing {
namespace {

constexpr int kAttempts = 3;
// Every node logs this once the cluster has a JetStream metadata leader (the leader itself,
// "Self is new JetStream cluster metadata leader").
constexpr char kLeaderLine[] = "metadata leader";
constexpr absl::Duration kLeaderTimeout = absl::Seconds(30);

}  // namespace

absl::StatusOr<std::unique_ptr<NatsCluster>> NatsCluster::Start(int nodes) {
  absl::Status last;
  for (int attempt = 0; attempt < kAttempts; ++attempt) {
    ASSIGN_OR_RETURN(TempDir dir, TempDir::Create("nats-cluster"));
    std::unique_ptr<NatsCluster> cluster(new NatsCluster(std::move(dir)));
    last = cluster->Launch(nodes);
    if (last.ok()) return cluster;
    // A route port taken meanwhile by someone else: try again with new ports.
  }
  return last;
}

absl::Status NatsCluster::Launch(int nodes) {
  // Route ports must be known before any node starts; client ports are picked per node.
  ASSIGN_OR_RETURN(std::vector<int> route_ports, PickFreePorts(nodes));
  std::vector<std::string> routes;
  for (int port : route_ports) routes.push_back(absl::StrCat("nats-route://127.0.0.1:", port));
  for (int i = 0; i < nodes; ++i) {
    const std::string name = absl::StrCat("n", i);
    const std::string conf = absl::StrCat(dir_.path(), "/", name, ".conf");
    std::ofstream(conf) << "server_name: " << name << "\n"
                        << "jetstream { store_dir: \"" << dir_.path() << "/" << name << "\" }\n"
                        << "cluster {\n  name: granary_test\n  listen: 127.0.0.1:"
                        << route_ports[i] << "\n  routes: [" << absl::StrJoin(routes, ", ")
                        << "]\n}\n";
    BackendSpec spec{
        .name = absl::StrCat("nats-server ", name),
        .argv = [conf](int port) -> std::vector<std::string> {
          return {"nats-server", "-c", conf, "-a", "127.0.0.1", "-p", std::to_string(port)};
        },
        .ready_line = "Server is ready",
        .port_taken_line = "address already in use",
        .stop_signal = SIGTERM,
        .log_path = absl::StrCat(dir_.path(), "/", name, ".log"),
    };
    nodes_.push_back(std::make_unique<BackendProcess>(std::move(spec)));
    RETURN_IF_ERROR(nodes_.back()->StartOnFreePort());
  }
  for (auto& node : nodes_) RETURN_IF_ERROR(node->WaitForOutput(kLeaderLine, kLeaderTimeout));
  return absl::OkStatus();
}

std::string NatsCluster::url(int node) const {
  return absl::StrCat("nats://127.0.0.1:", nodes_[node]->port());
}

std::string NatsCluster::urls() const {
  std::vector<std::string> out;
  for (int i = 0; i < size(); ++i) out.push_back(url(i));
  return absl::StrJoin(out, ",");
}

}  // namespace granary::testing
