// A running service: the gRPC server with health and reflection, the Prometheus endpoint, the
// dependency monitor that drives health, and a graceful drain. RunService wraps it for main();
// tests start one in-process on port 0.
//
//   ASSIGN_OR_RETURN(auto runtime, ServiceRuntime::Start("serving", server_config, build));
//   Connect(absl::StrCat("127.0.0.1:", runtime->grpc_port()));
//   runtime->Shutdown();
#ifndef GRANARY_LIBS_SERVER_SERVICE_RUNTIME_H_
#define GRANARY_LIBS_SERVER_SERVICE_RUNTIME_H_

#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"

#include "libs/server/server_config.h"
#include "libs/server/service_host.h"
#include "libs/trace/tracer.h"

namespace grpc {
class Server;
}

namespace granary::server {

class GrpcMetrics;
class QueueHealth;
class MetricsEndpoint;

using BuildFn = std::function<absl::Status(ServiceHost&)>;

class ServiceRuntime {
 public:
  // Builds the service and starts serving. Health starts NOT_SERVING and turns SERVING once
  // every dependency answers. Fails (without serving) when build fails or an address is taken.
  static absl::StatusOr<std::unique_ptr<ServiceRuntime>> Start(const std::string& service_name,
                                                               const ServerConfig& config,
                                                               const BuildFn& build);
  ~ServiceRuntime();

  int grpc_port() const { return grpc_port_; }
  int metrics_port() const { return metrics_port_; }
  // Whether health currently says SERVING.
  bool serving() const;

  // Drain: health NOT_SERVING; keep serving for the drain delay (load balancers move away);
  // stop taking calls and let in-flight ones finish within the drain timeout (then cancel
  // them); stop the dependency monitor; run the OnStop hooks. Idempotent.
  void Shutdown();

 private:
  ServiceRuntime(const std::string& service_name, const ServerConfig& config);
  void SetServing(bool serving);

  std::string service_name_;
  ServerConfig config_;
  std::shared_ptr<prometheus::Registry> metrics_;
  std::unique_ptr<MetricsEndpoint> metrics_endpoint_;
  std::unique_ptr<GrpcMetrics> grpc_metrics_;
  // Before host_: what the service built may hold it until it is destroyed.
  std::unique_ptr<trace::Tracer> tracer_;
  std::unique_ptr<ServiceHost> host_;
  // Before server_: a completion queue must outlive the server that posts to it.
  std::vector<std::unique_ptr<grpc::ServerCompletionQueue>> queues_;
  std::vector<std::thread> queue_threads_;
  std::unique_ptr<QueueHealth> queue_health_;
  std::unique_ptr<grpc::Server> server_;
  std::unique_ptr<DependencyMonitor> monitor_;
  int grpc_port_ = 0;
  int metrics_port_ = 0;
  // Orders health changes from the monitor thread against the drain.
  absl::Mutex health_mu_;
  bool shut_down_ ABSL_GUARDED_BY(health_mu_) = false;
  struct Gauges;
  std::unique_ptr<Gauges> gauges_;
};

}  // namespace granary::server

#endif  // GRANARY_LIBS_SERVER_SERVICE_RUNTIME_H_
