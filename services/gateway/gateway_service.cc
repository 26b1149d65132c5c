#include "services/gateway/gateway_service.h"

#include "grpcpp/channel.h"
#include "grpcpp/generic/generic_stub.h"

#include "libs/base/log.h"
#include "libs/base/status_macros.h"
#include "libs/bus/connection.h"
#include "libs/rpc/health.h"
#include "services/gateway/authenticators.h"
#include "services/gateway/generic_proxy.h"
#include "services/gateway/http_api.h"
#include "services/gateway/proxy.h"
#include "services/gateway/queue_calls.h"
#include "services/gateway/registry_catalogs.h"
#include "services/gateway/unary_fast_path.h"

namespace granary::gateway {
namespace {

constexpr absl::Duration kUpstreamCheckTimeout = absl::Seconds(1);

std::function<absl::Status()> UpstreamCheck(const std::string& name,
                                            std::shared_ptr<grpc::Channel> channel) {
  return [channel, name] { return rpc::RequireServing(channel, name, kUpstreamCheckTimeout); };
}

// What the proxy's calls share, owned together so that it outlives every call.
struct State {
  std::shared_ptr<registry_client::RegistryClient> registry;
  std::unique_ptr<RegistryCatalogs> catalogs;
  std::unique_ptr<Authorizer> authorizer;
  std::unique_ptr<auth::Authenticator> authenticator;
  std::unique_ptr<auth::CallerSigner> signer;
  std::unique_ptr<RateLimiter> limiter;
  std::unique_ptr<AuditLog> audit;
};

absl::Status Build(const GatewayConfig& config, server::ServiceHost& host) {
  std::shared_ptr<bus::Connection> nats;
  if (config.nats.has_value()) {
    ASSIGN_OR_RETURN(nats, bus::Connection::Open(*config.nats));
    host.AddOptionalDependency("nats", [nats] { return nats->Ping(); });
  }
  auto state = std::make_shared<State>();
  // The gateway's own catalog reads are signed like a service's: the registry may require it.
  registry_client::RegistryClientOptions registry_options = config.registry;
  registry_options.caller = {.service = "gateway", .secret = config.signature_secret};
  state->registry = std::make_shared<registry_client::RegistryClient>(registry_options, nats);
  RETURN_IF_ERROR(state->registry->Start());
  for (const std::string& project : config.projects.projects) state->registry->Watch(project);
  host.OnStop([registry = state->registry] { registry->Stop(); });
  state->catalogs = std::make_unique<RegistryCatalogs>(state->registry, config.projects,
                                                       config.registry.rpc_timeout);
  state->authorizer = std::make_unique<Authorizer>(*state->catalogs);
  ASSIGN_OR_RETURN(state->authenticator, MakeAuthenticator(config.auth));
  state->signer =
      std::make_unique<auth::CallerSigner>(config.signature_secret, config.signature_ttl);
  state->limiter = std::make_unique<RateLimiter>(config.rate_limits, base::Clock::Real());
  ASSIGN_OR_RETURN(state->audit, AuditLog::Open(config.audit_path));

  auto deps = std::shared_ptr<ProxyDeps>(state, new ProxyDeps());
  deps->authenticator = state->authenticator.get();
  deps->authorizer = state->authorizer.get();
  deps->signer = state->signer.get();
  deps->limiter = state->limiter.get();
  deps->audit = state->audit.get();
  deps->tracer = host.tracer();
  const std::pair<Upstream, std::string> upstreams[] = {
      {Upstream::kRegistry, config.upstreams.registry},
      {Upstream::kServing, config.upstreams.serving},
      {Upstream::kIngestion, config.upstreams.ingestion},
      {Upstream::kMaterializer, config.upstreams.materializer}};
  std::shared_ptr<grpc::Channel> channels[4];
  for (const auto& [upstream, address] : upstreams) {
    channels[static_cast<int>(upstream)] = rpc::InsecureChannel(address);
    deps->stubs[static_cast<int>(upstream)] =
        std::make_unique<grpc::GenericStub>(channels[static_cast<int>(upstream)]);
  }
  // Every call on completion queues the runtime drives (no callback thread of gRPC's in this
  // process): the data plane's unary methods as raw methods, the rest through the generic
  // proxy.
  auto calls = std::make_shared<QueueCalls>(deps);
  auto fast_path = std::make_shared<UnaryFastPath>(calls);
  auto proxy = std::make_shared<GenericProxy>(calls);
  host.AddAsyncService(fast_path->TakeService());
  host.SetAsyncGenericService(
      proxy->TakeService(),
      {"granary.registry.v1.RegistryService", "granary.serving.v1.ServingService",
       "feast.serving.ServingService", "granary.ingestion.v1.IngestionService",
       "granary.materialization.v1.MaterializationService",
       "granary.deadletter.v1.DeadLetterService"});
  auto backend = std::make_shared<BackendCall>(deps);
  host.UseQueues(config.grpc_threads, [fast_path, proxy, backend, calls](
                                          const std::vector<grpc::ServerCompletionQueue*>& queues) {
    fast_path->Start(queues);
    proxy->Start(queues);
    backend->UseQueue(queues.front(), calls);
  });
  host.OnStop([calls] { calls->Drain(); });

  if (!config.http.address.empty()) {
    auto api = std::make_shared<HttpApi>(backend, config.http_timeout);
    if (config.ui.enabled) {
      ASSIGN_OR_RETURN(std::shared_ptr<const UiFiles> ui,
                       UiFiles::Load(config.ui, config.auth.type));
      api->ServeUi(std::move(ui));
    }
    if (!config.ui.metrics_urls.empty()) {
      api->ReadHealthFrom(
          std::make_shared<ViewHealth>(config.ui.metrics_urls, config.ui.metrics_timeout));
    }
    ASSIGN_OR_RETURN(
        std::shared_ptr<HttpServer> http,
        StartHttpServer(config.http_library, config.http,
                        [api](const HttpRequest& request) { return api->Handle(request); }));
    base::LogInfo("http listening").With("port", http->port());
    host.OnStop([http] { http->Stop(); });
    if (config.ui.enabled && !config.ui.address.empty()) {
      HttpServerOptions browsers = config.http;
      browsers.address = config.ui.address;
      ASSIGN_OR_RETURN(
          std::shared_ptr<HttpServer> ui,
          StartHttpServer(config.http_library, browsers,
                          [api](const HttpRequest& request) { return api->Handle(request); }));
      base::LogInfo("ui listening").With("port", ui->port());
      host.OnStop([ui] { ui->Stop(); });
    }
  }

  // Nothing can be authorized without the registry's permissions, so it gates health. The
  // others are watched only: reads keep flowing while, say, the materializer restarts.
  host.AddDependency("registry", UpstreamCheck("registry", channels[0]));
  host.AddOptionalDependency("serving", UpstreamCheck("serving", channels[1]));
  host.AddOptionalDependency("ingestion", UpstreamCheck("ingestion", channels[2]));
  host.AddOptionalDependency("materializer", UpstreamCheck("materializer", channels[3]));
  return absl::OkStatus();
}

}  // namespace

server::ServiceDefinition<GatewayConfig> Definition() {
  return {.name = "gateway",
          .defaults = {.grpc_address = "0.0.0.0:6565", .metrics_address = "0.0.0.0:9565"},
          .read_config = ReadGatewayConfig,
          .build = Build};
}

}  // namespace granary::gateway
