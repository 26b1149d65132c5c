#include "libs/server/service_runtime.h"

#include <unistd.h>

#include <atomic>
#include <exception>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "grpcpp/ext/health_check_service_server_builder_option.h"
#include "grpcpp/ext/proto_server_reflection_plugin.h"
#include "grpcpp/grpcpp.h"
#include "grpcpp/health_check_service_interface.h"
#include "prometheus/gauge.h"

#include "libs/base/log.h"
#include "libs/base/status_macros.h"
#include "libs/base/thread_name.h"
#include "libs/base/version.h"
#include "libs/server/grpc_metrics.h"
#include "libs/server/metrics_endpoint.h"
#include "libs/server/queue_event.h"
#include "libs/server/queue_health.h"
#include "libs/trace/grpc_server_tracing.h"
#include "libs/trace/otlp_exporter.h"

namespace granary::server {

struct ServiceRuntime::Gauges {
  prometheus::Gauge* serving;
  std::atomic<bool> is_serving{false};
};

ServiceRuntime::ServiceRuntime(const std::string& service_name, const ServerConfig& config)
    : service_name_(service_name),
      config_(config),
      metrics_(std::make_shared<prometheus::Registry>()),
      gauges_(std::make_unique<Gauges>()) {}

namespace {

// "serving" on host h, pid 42: service.name "granary-serving", instance "h-42".
std::unique_ptr<trace::Tracer> MakeTracer(const std::string& service_name,
                                          const trace::TracingConfig& config,
                                          prometheus::Registry& metrics) {
  std::unique_ptr<trace::SpanExporter> exporter;
  if (!config.otlp_endpoint.empty()) {
    char host[256] = {};
    gethostname(host, sizeof(host) - 1);
    exporter = trace::OtlpGrpcExporter::ForConfig(
        config, trace::ResourceInfo{.service_name = absl::StrCat("granary-", service_name),
                                    .service_version = base::kVersion,
                                    .instance_id = absl::StrCat(host, "-", getpid())});
  }
  return std::make_unique<trace::Tracer>(config, std::move(exporter), &metrics);
}

thread_local bool queue_was_idle = false;

// Runs each event of `queue` until it is shut down and drained. An event ready at once is run
// as one with others behind it; only when none is does the thread wait (QueueWasIdle()).
void RunQueue(grpc::ServerCompletionQueue* queue) {
  base::NameThisThread("grpc-queue");
  void* tag;
  bool ok;
  for (;;) {
    grpc::CompletionQueue::NextStatus next =
        queue->AsyncNext(&tag, &ok, gpr_time_0(GPR_CLOCK_MONOTONIC));
    if (next == grpc::CompletionQueue::SHUTDOWN) break;
    queue_was_idle = next == grpc::CompletionQueue::TIMEOUT;
    if (queue_was_idle && !queue->Next(&tag, &ok)) break;
    static_cast<QueueEvent*>(tag)->Run(ok);
  }
  queue_was_idle = false;
}

}  // namespace

bool QueueWasIdle() { return queue_was_idle; }

absl::StatusOr<std::unique_ptr<ServiceRuntime>> ServiceRuntime::Start(
    const std::string& service_name, const ServerConfig& config, const BuildFn& build) {
  auto rt = std::unique_ptr<ServiceRuntime>(new ServiceRuntime(service_name, config));

  prometheus::BuildGauge()
      .Name("granary_build_info")
      .Help("Always 1; labels say which service and version this process is.")
      .Register(*rt->metrics_)
      .Add({{"service", service_name}, {"version", base::kVersion}})
      .Set(1);
  rt->gauges_->serving = &prometheus::BuildGauge()
                              .Name("granary_serving")
                              .Help("1 while health says SERVING, else 0.")
                              .Register(*rt->metrics_)
                              .Add({});
  prometheus::BuildGauge()
      .Name("process_start_time_seconds")
      .Help("Start time of the process since the Unix epoch, in seconds.")
      .Register(*rt->metrics_)
      .Add({})
      .Set(absl::ToDoubleSeconds(absl::Now() - absl::UnixEpoch()));

  ASSIGN_OR_RETURN(rt->metrics_endpoint_,
                   MetricsEndpoint::Start(config.metrics_address, rt->metrics_));
  rt->metrics_port_ = rt->metrics_endpoint_->port();

  rt->tracer_ = MakeTracer(service_name, config.tracing, *rt->metrics_);
  rt->host_ = std::make_unique<ServiceHost>(
      service_name, rt->metrics_, CallerCheck(config.gateway_signature),
      rpc::ServiceCaller{.service = service_name, .secret = config.gateway_signature.secret},
      rt->tracer_.get());
  absl::Status built = build(*rt->host_);
  if (!built.ok()) {
    return absl::Status(built.code(),
                        absl::StrCat("building ", service_name, ": ", built.message()));
  }

  for (auto& hook : rt->host_->on_scrape_) rt->metrics_endpoint_->AddScrapeHook(hook);
  for (auto& c : rt->host_->collectables_) rt->metrics_endpoint_->AddCollectable(c);

  if (rt->host_->queue_threads_ <= 0 &&
      (!rt->host_->async_services_.empty() || rt->host_->async_generic_service_ != nullptr)) {
    return absl::InternalError(
        absl::StrCat("building ", service_name, ": async services need UseQueues"));
  }
  grpc::EnableDefaultHealthCheckService(true);
  grpc::reflection::InitProtoReflectionServerBuilderPlugin();
  rt->grpc_metrics_ = std::make_unique<GrpcMetrics>(*rt->metrics_);
  rt->metrics_endpoint_->AddCollectable(rt->grpc_metrics_->latency_histograms());
  grpc::ServerBuilder builder;
  builder.AddListeningPort(config.grpc_address, grpc::InsecureServerCredentials(), &rt->grpc_port_);
  // Without this, gRPC sets SO_REUSEPORT and a second instance on the same port would silently
  // share its traffic.
  builder.AddChannelArgument(GRPC_ARG_ALLOW_REUSEPORT, 0);
  // A client that vanished without closing its connection (a host gone, a dropped NAT entry)
  // is noticed within about a minute and a half instead of TCP's hours: its calls end and
  // whatever they hold (an ingestion stream's slot among max_streams) is given back.
  builder.AddChannelArgument(GRPC_ARG_KEEPALIVE_TIME_MS, 60'000);
  builder.AddChannelArgument(GRPC_ARG_KEEPALIVE_TIMEOUT_MS, 20'000);
  builder.AddChannelArgument(GRPC_ARG_HTTP2_MAX_PINGS_WITHOUT_DATA, 0);
  builder.SetMaxReceiveMessageSize(config.max_message_bytes);
  builder.SetMaxSendMessageSize(config.max_message_bytes);
  if (config.grpc_memory_limit > 0) {
    grpc::ResourceQuota quota(absl::StrCat(service_name, "-grpc"));
    quota.Resize(static_cast<size_t>(config.grpc_memory_limit));
    builder.SetResourceQuota(quota);
    // Bandwidth-delay probing grows each connection's receive window to megabytes, so every
    // producer could park that much in the server's buffers before a handler reads it (about
    // 2 MiB per producer in the ingest benchmark). Without it a stream buffers about one message
    // beyond the 64 KiB window.
    builder.AddChannelArgument(GRPC_ARG_HTTP2_BDP_PROBE, 0);
  }
  if (rt->host_->generic_service_ != nullptr) {
    builder.RegisterCallbackGenericService(rt->host_->generic_service_.get());
  }
  if (rt->host_->async_generic_service_ != nullptr) {
    builder.RegisterAsyncGenericService(rt->host_->async_generic_service_.get());
  }
  for (const std::string& name : rt->host_->generic_counted_as_) {
    rt->grpc_metrics_->AddService(name);
  }
  for (auto& [service, name] : rt->host_->services_) {
    builder.RegisterService(service.get());
    rt->grpc_metrics_->AddService(name);
  }
  std::vector<grpc::ServerCompletionQueue*> queues;
  if (rt->host_->queue_threads_ > 0) {
    // gRPC's own health service is callback-based: this server has none, and serves health
    // on its queues.
    builder.SetOption(std::make_unique<grpc::HealthCheckServiceServerBuilderOption>(nullptr));
    rt->queue_health_ = std::make_unique<QueueHealth>();
    builder.RegisterService(rt->queue_health_->service());
    for (auto& [service, name] : rt->host_->async_services_) {
      builder.RegisterService(service.get());
      if (!name.empty()) rt->grpc_metrics_->AddService(name);
    }
    for (int i = 0; i < rt->host_->queue_threads_; ++i) {
      rt->queues_.push_back(builder.AddCompletionQueue());
      queues.push_back(rt->queues_.back().get());
    }
  }
  std::vector<std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>> creators;
  creators.push_back(rt->grpc_metrics_->InterceptorFactory());
  // After the metrics: it sees the status they may have turned from UNKNOWN into INTERNAL.
  creators.push_back(trace::ServerTracing(
      rt->tracer_.get(), [metrics = rt->grpc_metrics_.get()](absl::string_view path) {
        return metrics->Knows(path);
      }));
  builder.experimental().SetInterceptorCreators(std::move(creators));
  rt->server_ = builder.BuildAndStart();
  if (rt->server_ == nullptr || rt->grpc_port_ == 0) {
    return absl::UnavailableError(
        absl::StrCat("cannot serve gRPC on ", config.grpc_address, " (address taken?)"));
  }

  // Health says NOT_SERVING until every dependency has answered.
  rt->SetServing(false);
  ServiceRuntime* self = rt.get();
  rt->monitor_ = std::make_unique<DependencyMonitor>(
      rt->host_->dependencies_,
      DependencyMonitor::Options{.interval = config.dependency_check_interval},
      [self](bool healthy) { self->SetServing(healthy); }, *rt->metrics_);
  rt->monitor_->Start();
  if (rt->queue_health_ != nullptr) {
    rt->queue_health_->Start(queues);
    if (rt->host_->on_queues_) rt->host_->on_queues_(queues);
    for (grpc::ServerCompletionQueue* queue : queues) {
      rt->queue_threads_.emplace_back([queue] { RunQueue(queue); });
    }
  }
  for (auto& fn : rt->host_->on_start_) fn();

  size_t colon = config.grpc_address.rfind(':');
  base::LogInfo("started")
      .With("version", base::kVersion)
      .With("grpc", absl::StrCat(config.grpc_address.substr(0, colon), ":", rt->grpc_port_))
      .With("metrics",
            absl::StrCat(config.metrics_address.substr(0, config.metrics_address.rfind(':')), ":",
                         rt->metrics_port_))
      .With("serving", rt->serving())
      .With("gateway_signature_required", config.gateway_signature.required)
      .With("otlp_endpoint", config.tracing.otlp_endpoint)
      .With("trace_sample_ratio", config.tracing.sample_ratio);
  return rt;
}

void ServiceRuntime::SetServing(bool serving) {
  absl::MutexLock lock(&health_mu_);
  if (shut_down_ || server_ == nullptr) return;
  grpc::HealthCheckServiceInterface* health = server_->GetHealthCheckService();
  if (health == nullptr && queue_health_ == nullptr) return;
  // Our own view first, so that whoever learns the news from health finds it here too.
  gauges_->is_serving.store(serving);
  gauges_->serving->Set(serving ? 1 : 0);
  // The overall status ("") and each service's own, for clients that check by service name.
  std::vector<std::string> names = {""};
  for (const auto& [service, name] : host_->services_) names.push_back(name);
  for (const auto& [service, name] : host_->async_services_) {
    if (!name.empty()) names.push_back(name);
  }
  for (const std::string& name : names) {
    if (queue_health_ != nullptr) {
      queue_health_->Set(name, serving);
    } else {
      health->SetServingStatus(name, serving);
    }
  }
  base::LogInfo(serving ? "serving" : "not serving");
}

bool ServiceRuntime::serving() const { return gauges_->is_serving.load(); }

void ServiceRuntime::Shutdown() {
  {
    absl::MutexLock lock(&health_mu_);
    if (shut_down_) return;
    shut_down_ = true;
    if (server_ == nullptr) return;
    // Health watchers (load balancers, the gateway) learn first; calls are still served.
    if (auto* health = server_->GetHealthCheckService()) health->Shutdown();
    if (queue_health_ != nullptr) queue_health_->Shutdown();
    gauges_->is_serving.store(false);
    gauges_->serving->Set(0);
  }
  base::LogInfo("draining")
      .With("delay", config_.drain_delay)
      .With("timeout", config_.drain_timeout);
  absl::Time start = absl::Now();
  if (config_.drain_delay > absl::ZeroDuration()) absl::SleepFor(config_.drain_delay);
  // Watch streams never end by themselves: the server's shutdown would wait its whole timeout.
  if (queue_health_ != nullptr) queue_health_->EndWatches();
  server_->Shutdown(absl::ToChronoTime(absl::Now() + config_.drain_timeout));
  // The monitor goes before the hooks: a check must not reconnect a client a hook just closed.
  if (monitor_ != nullptr) monitor_->Stop();
  for (auto it = host_->on_stop_.rbegin(); it != host_->on_stop_.rend(); ++it) (*it)();
  // The hooks waited for the services' calls on the queues; health's next, then the queues
  // can go.
  if (queue_health_ != nullptr) queue_health_->Quiesce();
  for (auto& queue : queues_) queue->Shutdown();
  for (std::thread& thread : queue_threads_) thread.join();
  server_->Wait();
  // The last calls' spans, before the process goes.
  tracer_->Shutdown();
  base::LogInfo("stopped").With("drain", absl::Now() - start);
}

ServiceRuntime::~ServiceRuntime() {
  Shutdown();
  // Idempotent for queues their service already shut down and drained.
  for (auto& queue : queues_) {
    queue->Shutdown();
    void* tag;
    bool ok;
    while (queue->Next(&tag, &ok)) {
    }
  }
}

}  // namespace granary::server
