// What a service's build function gets: the place to register its gRPC services, the backends
// it depends on, start/stop hooks for background workers, and the metrics registry.
//
//   absl::Status Build(const ServingConfig& config, ServiceHost& host) {
//     auto redis = std::make_shared<redis::Client>(config.redis);
//     host.AddDependency("redis", [redis] { return redis->Ping(); });
//     host.AddGrpcService(std::make_unique<RegistryGrpc>(..., host.callers()),
//                         RegistryService::service_full_name());
//     auto registry_channel = rpc::ServiceChannel(address, host.service_caller());  // signed
//     return absl::OkStatus();
//   }
#ifndef GRANARY_LIBS_SERVER_SERVICE_HOST_H_
#define GRANARY_LIBS_SERVER_SERVICE_HOST_H_

#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/string_view.h"
#include "grpcpp/completion_queue.h"
#include "grpcpp/generic/async_generic_service.h"
#include "grpcpp/impl/service_type.h"
#include "prometheus/collectable.h"
#include "prometheus/registry.h"

#include "libs/rpc/service_channel.h"
#include "libs/server/caller_check.h"
#include "libs/server/dependency_monitor.h"
#include "libs/trace/tracer.h"

namespace granary::server {

class ServiceHost {
 public:
  ServiceHost(std::string service_name, std::shared_ptr<prometheus::Registry> metrics,
              CallerCheck callers = CallerCheck(), rpc::ServiceCaller service_caller = {},
              trace::Tracer* tracer = nullptr)
      : service_name_(std::move(service_name)),
        metrics_(std::move(metrics)),
        callers_(std::move(callers)),
        service_caller_(std::move(service_caller)),
        tracer_(tracer) {}

  // Serves `service` (owned from now on) under its full protobuf name, which also names it in
  // health checks and metrics.
  void AddGrpcService(std::unique_ptr<grpc::Service> service, absl::string_view full_name) {
    services_.emplace_back(std::move(service), std::string(full_name));
  }
  // Answers every method no registered service has (the gateway's proxy). At most one.
  // `counted_as` names the services (full protobuf names) whose methods it answers, so that
  // the gRPC metrics give them series of their own.
  void SetGenericService(std::unique_ptr<grpc::CallbackGenericService> service,
                         std::vector<std::string> counted_as = {}) {
    generic_service_ = std::move(service);
    generic_counted_as_ = std::move(counted_as);
  }
  // Serve on `threads` completion queues the runtime drives, one thread each, instead of
  // gRPC's callback threads: the services are async ones (AddAsyncService,
  // SetAsyncGenericService) and health is served on the queues too (queue_health.h). Every
  // tag posted to the queues must be a QueueEvent (queue_event.h). On two cores the callback
  // API's threads, taking turns at polling, doubled the CPU per call (tools/bench/README.md).
  // `start` gets the queues once the server listens; the service's OnStop hooks must wait
  // until its calls have ended (they run once the server stopped taking calls), after which
  // the runtime shuts the queues down.
  void UseQueues(int threads,
                 std::function<void(const std::vector<grpc::ServerCompletionQueue*>&)> start) {
    queue_threads_ = threads;
    on_queues_ = std::move(start);
  }
  // A service whose methods are async (completion-queue) ones: with UseQueues only. With a
  // `full_name`, health and the gRPC metrics name it as for AddGrpcService; without, its
  // methods are counted under the names a generic service was given (the gateway's).
  void AddAsyncService(std::unique_ptr<grpc::Service> service, std::string full_name = "") {
    async_services_.emplace_back(std::move(service), std::move(full_name));
  }
  // Answers every method no registered service has, on the queues (the gateway's proxy).
  // `counted_as`: as for SetGenericService.
  void SetAsyncGenericService(std::unique_ptr<grpc::AsyncGenericService> service,
                              std::vector<std::string> counted_as = {}) {
    async_generic_service_ = std::move(service);
    generic_counted_as_ = std::move(counted_as);
  }
  // A backend the service cannot work without: health is SERVING only while every check passes.
  void AddDependency(std::string name, std::function<absl::Status()> check) {
    dependencies_.push_back({std::move(name), std::move(check), /*required=*/true});
  }
  // A backend worth watching (logs, granary_dependency_up) that health does not depend on.
  void AddOptionalDependency(std::string name, std::function<absl::Status()> check) {
    dependencies_.push_back({std::move(name), std::move(check), /*required=*/false});
  }
  // Runs once the server listens (start background workers here).
  void OnStart(std::function<void()> fn) { on_start_.push_back(std::move(fn)); }
  // Runs during drain, after the server stopped taking calls, in reverse order of registration
  // (stop background workers here).
  void OnStop(std::function<void()> fn) { on_stop_.push_back(std::move(fn)); }

  // Runs before each /metrics scrape: for gauges computed from state (a snapshot's age).
  void OnScrape(std::function<void()> fn) { on_scrape_.push_back(std::move(fn)); }
  // Metrics kept outside the registry (libs/metrics histograms), exported with it.
  void AddCollectable(std::shared_ptr<prometheus::Collectable> collectable) {
    collectables_.push_back(std::move(collectable));
  }

  prometheus::Registry& metrics() { return *metrics_; }
  const std::string& service_name() const { return service_name_; }
  // Whom calls come from (server.gateway_signature): every handler of a service checks first.
  const CallerCheck& callers() const { return callers_; }
  // This service when it calls another one: signed with server.gateway_signature's secret when
  // there is one (libs/rpc/service_channel.h), so backends that require the gateway's
  // signature answer it. Every channel to another Granary service is made with it.
  const rpc::ServiceCaller& service_caller() const { return service_caller_; }
  // The process's tracer (server.tracing), for spans of work that is not a gRPC call served
  // (those get theirs from the runtime): HTTP routes, NATS messages processed. Null only in
  // hosts built by hand in tests; it outlives every OnStop hook.
  trace::Tracer* tracer() const { return tracer_; }

 private:
  friend class ServiceRuntime;

  std::string service_name_;
  std::shared_ptr<prometheus::Registry> metrics_;
  CallerCheck callers_;
  rpc::ServiceCaller service_caller_;
  trace::Tracer* tracer_;
  std::vector<std::pair<std::unique_ptr<grpc::Service>, std::string>> services_;
  int queue_threads_ = 0;
  std::function<void(const std::vector<grpc::ServerCompletionQueue*>&)> on_queues_;
  std::vector<std::pair<std::unique_ptr<grpc::Service>, std::string>> async_services_;
  std::unique_ptr<grpc::AsyncGenericService> async_generic_service_;
  std::unique_ptr<grpc::CallbackGenericService> generic_service_;
  std::vector<std::string> generic_counted_as_;
  std::vector<Dependency> dependencies_;
  std::vector<std::function<void()>> on_start_;
  std::vector<std::function<void()>> on_stop_;
  std::vector<std::function<void()>> on_scrape_;
  std::vector<std::shared_ptr<prometheus::Collectable>> collectables_;
};

}  // namespace granary::server

#endif  // GRANARY_LIBS_SERVER_SERVICE_HOST_H_
