// The one stack tests and benchmarks run Granary on: PostgreSQL, NATS (one server or a
// cluster) and Redis on free loopback ports, the registry in this process with a feature
// repository applied (examples/driver_stats by default, read as the CLI reads it), and the
// service binaries spawned as in production, each with its config written from the stack's
// addresses. Everything stops with the stack. With a gateway signature secret, the registry
// and every service require the gateway's signature, as behind a gateway in production: the
// services then sign their own calls (libs/rpc/service_channel.h), and so do the stack's
// channels (as "service:test-stack").
//
//   ASSERT_OK_AND_ASSIGN(auto stack, TestStack::Start({}));
//   ASSERT_OK_AND_ASSIGN(TestService * ingestion, stack->Spawn("ingestion"));
//   ASSERT_OK_AND_ASSIGN(TestService * worker, stack->Spawn("materializer",
//                                                           {.section = "max_deliveries: 2"}));
//   auto stub = ingestion::v1::IngestionService::NewStub(ingestion->channel());
//   ASSERT_OK(worker->Kill());  // SIGKILL
#ifndef GRANARY_LIBS_TESTING_TEST_STACK_H_
#define GRANARY_LIBS_TESTING_TEST_STACK_H_

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "granary/registry/v1/repo.pb.h"

#include "libs/rpc/service_channel.h"
#include "libs/server/service_runtime.h"
#include "libs/testing/nats_cluster.h"
#include "libs/testing/nats_server.h"
#include "libs/testing/postgres_server.h"
#include "libs/testing/redis_server.h"
#include "libs/testing/subprocess.h"
#include "libs/testing/temp_dir.h"

namespace grpc {
class Channel;
}

namespace granary::testing {

struct TestStackOptions {
  // A feature repository folder (granary.yaml and definitions), read with the CLI's loader;
  // its offline_tables.sql, when there is one, is run on the offline database.
  std::string repo_dir = "examples/driver_stats";
  // Instead of the folder: a repository built by the caller (benchmarks generate theirs).
  std::optional<registry::v1::FeatureRepo> repo;
  // Other projects applied as well.
  std::vector<registry::v1::FeatureRepo> more_repos;
  // SQL run on the offline database ("granary") after the repository's own.
  std::vector<std::string> offline_sql;
  // 1: one nats-server; 3: a cluster (streams then get 3 replicas).
  int nats_nodes = 1;
  // Extra redis.conf lines ("notify-keyspace-events Kh").
  std::vector<std::string> redis_config;
  // The `jetstream:` section the services share (libs/bus/streams.h), as YAML.
  std::string jetstream = "{}";
  // Where service binaries are: <bin_dir>/services/<name>/<name>. Empty: the test's runfiles
  // (a test lists the binaries it spawns in `data`), else bazel-bin.
  std::string bin_dir;
  // A file with the secret the gateway signs with (32 bytes or more; it must stay while the
  // stack runs). When set, the registry and every spawned service get
  // `server.gateway_signature: {required: true, secret_file: ...}` (a ServiceOptions::server
  // must not set gateway_signature then), and registry_channel() and TestService::channel()
  // sign every call.
  std::string gateway_signature_secret_file;
};

struct ServiceOptions {
  // Keys of the service's own section ("max_deliveries: 2, min_backoff: 10ms"); serving and
  // ingestion get the stack's project besides.
  std::string section;
  // More keys of the `server:` section ("log_level: warning").
  std::string server;
  // NAME=VALUE entries for the process.
  std::vector<std::string> env;
  // Return once health says SERVING (else once the service printed its start).
  bool wait_serving = true;
};

// A spawned service binary, on loopback ports of its own kept across restarts.
class TestService {
 public:
  const std::string& name() const { return name_; }
  std::string address() const;
  int grpc_port() const { return grpc_port_; }
  int metrics_port() const { return metrics_port_; }
  // Signed when the stack requires the gateway's signature.
  std::shared_ptr<grpc::Channel> channel() const { return channel_; }
  Subprocess& process() { return *process_; }
  pid_t pid() const { return process_->pid(); }

  // SIGKILL, as a crash.
  absl::Status Kill() { return process_->Kill(); }
  // SIGTERM, and the drain.
  absl::Status Stop() { return process_->Stop(); }
  // Started again with the same config and ports; waits as Spawn did.
  absl::Status Restart();
  // A series of its /metrics exactly as printed (name and labels), summed; 0 when absent.
  double Metric(const std::string& series) const;

 private:
  friend class TestStack;
  absl::Status Launch();

  std::string name_;
  std::vector<std::string> argv_;
  std::vector<std::string> env_;
  std::string log_path_;
  bool wait_serving_ = true;
  int grpc_port_ = 0;
  int metrics_port_ = 0;
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<Subprocess> process_;
};

class TestStack {
 public:
  static absl::StatusOr<std::unique_ptr<TestStack>> Start(TestStackOptions options);
  // Spawned services first, then the registry, then the backends.
  ~TestStack();

  // "serving", "ingestion", "materializer" (or any service binary), configured for this stack.
  absl::StatusOr<TestService*> Spawn(const std::string& service, ServiceOptions options = {});

  const std::string& project() const { return repo_.project().name(); }
  // The repository as applied (the main one).
  const registry::v1::FeatureRepo& repo() const { return repo_; }
  // Applies a repository (a new version of a project, or another project); its new version.
  absl::StatusOr<int64_t> Apply(const registry::v1::FeatureRepo& repo, bool allow_breaking = true);
  std::string registry_address() const;
  // Stops the registry of this process (services keep the catalogs they hold). A benchmark's
  // load generator then shares gRPC's pollers with no server in its process: a server's
  // threads would take the generator's socket events and hand them over, a wake-up each.
  void StopRegistry();
  // Signed when the stack requires the gateway's signature.
  std::shared_ptr<grpc::Channel> registry_channel() const;

  PostgresServer& postgres() { return *pg_; }
  RedisServer& redis() { return *redis_; }
  // One of these, by options.nats_nodes.
  NatsServer* nats() { return nats_.get(); }
  NatsCluster* nats_cluster() { return cluster_.get(); }
  std::string nats_url() const;
  // libpq connection string of the offline database.
  std::string offline_conninfo() const { return pg_->ConnInfo("granary"); }
  const std::string& dir() const { return dir_->path(); }

  // The config sections a service shares with the others, as YAML lines: registry, nats,
  // jetstream, redis, offline_store, for the services that read them.
  std::string SharedConfig(const std::string& service) const;

 private:
  explicit TestStack(TestStackOptions options) : options_(std::move(options)) {}
  absl::Status Init();
  std::string Binary(const std::string& service) const;
  // A channel for the stack's own calls to `address`: signed when signatures are required.
  std::shared_ptr<grpc::Channel> ChannelTo(const std::string& address) const;
  // "gateway_signature: {...}" for a `server:` mapping; empty when none is required.
  std::string SignatureKeys() const;

  const TestStackOptions options_;
  std::unique_ptr<TempDir> dir_;
  std::unique_ptr<PostgresServer> pg_;
  std::unique_ptr<NatsServer> nats_;
  std::unique_ptr<NatsCluster> cluster_;
  std::unique_ptr<RedisServer> redis_;
  std::unique_ptr<server::ServiceRuntime> registry_;
  registry::v1::FeatureRepo repo_;
  std::vector<std::unique_ptr<TestService>> services_;
  // Signs the stack's own calls (when options_.gateway_signature_secret_file is set).
  rpc::ServiceCaller caller_{.service = "test-stack"};
};

}  // namespace granary::testing

#endif  // GRANARY_LIBS_TESTING_TEST_STACK_H_
