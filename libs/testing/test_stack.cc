#include "libs/testing/test_stack.h"

#include <filesystem>
#include <fstream>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "granary/registry/v1/registry_service.grpc.pb.h"
#include "grpcpp/grpcpp.h"

#include "libs/base/grpc_status.h"
#include "libs/base/status_macros.h"
#include "libs/testing/grpc_probes.h"
#include "libs/testing/ports.h"
#include "services/registry/registry_service.h"
#include "tools/cli/repo_loader.h"

namespace granary::testing {
namespace {

constexpr absl::Duration kStartTimeout = absl::Seconds(60);

// Which shared sections each service reads (a section it does not know is a config error).
struct Reads {
  bool registry, nats, jetstream, redis, offline_store;
};

Reads ReadsOf(const std::string& service) {
  if (service == "serving") return {true, true, false, true, false};
  if (service == "ingestion") return {true, true, true, false, false};
  if (service == "materializer") return {true, true, true, true, true};
  if (service == "gateway") return {true, true, false, false, false};
  return {true, true, true, false, false};  // the registry, and whatever else uses JetStream
}

absl::StatusOr<std::string> ReadFile(const std::string& path) {
  std::ifstream in(path);
  if (!in) return absl::NotFoundError(absl::StrCat("cannot read ", path));
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

}  // namespace

std::string TestService::address() const { return absl::StrCat("127.0.0.1:", grpc_port_); }

absl::Status TestService::Launch() {
  ASSIGN_OR_RETURN(process_,
                   Subprocess::Start({.argv = argv_, .env = env_, .log_path = log_path_}));
  // Health answers once the server listens (whatever its log level); SERVING once its
  // backends do.
  absl::Status ready;
  if (wait_serving_) {
    ready =
        WaitForHealth(channel_, "", grpc::health::v1::HealthCheckResponse::SERVING, kStartTimeout);
  } else {
    ready = absl::DeadlineExceededError("health never answered");
    for (absl::Time give_up = absl::Now() + kStartTimeout; absl::Now() < give_up;) {
      if (CheckHealth(channel_).ok()) {
        ready = absl::OkStatus();
        break;
      }
      if (!process_->Running()) break;
      absl::SleepFor(absl::Milliseconds(20));  // asking again until the server listens
    }
  }
  if (!ready.ok()) {
    return absl::Status(ready.code(), absl::StrCat(name_, " did not start: ", ready.message(), "\n",
                                                   process_->RecentOutput()));
  }
  return absl::OkStatus();
}

absl::Status TestService::Restart() {
  if (process_ != nullptr && process_->Running()) RETURN_IF_ERROR(process_->Stop());
  return Launch();
}

double TestService::Metric(const std::string& series) const {
  return ScrapeMetric(metrics_port_, series);
}

absl::StatusOr<std::unique_ptr<TestStack>> TestStack::Start(TestStackOptions options) {
  std::unique_ptr<TestStack> stack(new TestStack(std::move(options)));
  RETURN_IF_ERROR(stack->Init());
  return stack;
}

TestStack::~TestStack() {
  for (auto& service : services_) {
    if (service->process_ != nullptr) (void)service->process_->Stop();
  }
  services_.clear();
  if (registry_ != nullptr) registry_->Shutdown();
}

absl::Status TestStack::Init() {
  ASSIGN_OR_RETURN(TempDir dir, TempDir::Create("stack"));
  dir_ = std::make_unique<TempDir>(std::move(dir));
  ASSIGN_OR_RETURN(pg_, PostgresServer::Start());
  RETURN_IF_ERROR(pg_->CreateDatabase("granary"));
  if (options_.nats_nodes > 1) {
    ASSIGN_OR_RETURN(cluster_, NatsCluster::Start(options_.nats_nodes));
  } else {
    ASSIGN_OR_RETURN(nats_, NatsServer::Start());
  }
  ASSIGN_OR_RETURN(redis_, RedisServer::Start({.config_lines = options_.redis_config}));

  std::vector<std::string> sql = options_.offline_sql;
  if (options_.repo.has_value()) {
    repo_ = *options_.repo;
  } else {
    ASSIGN_OR_RETURN(cli::LoadedRepo loaded, cli::LoadRepo(options_.repo_dir));
    repo_ = std::move(loaded.repo);
    const std::string tables = options_.repo_dir + "/offline_tables.sql";
    if (std::filesystem::exists(tables)) {
      ASSIGN_OR_RETURN(std::string text, ReadFile(tables));
      sql.insert(sql.begin(), text);
    }
  }
  for (const std::string& statement : sql) RETURN_IF_ERROR(pg_->Execute(statement, "granary"));

  if (!options_.gateway_signature_secret_file.empty()) {
    ASSIGN_OR_RETURN(caller_.secret,
                     config::Secret::FromFile(options_.gateway_signature_secret_file));
  }
  const std::string signature = SignatureKeys();
  ASSIGN_OR_RETURN(registry_,
                   server::StartInProcess(
                       registry::Definition(),
                       absl::StrCat("server: {log_level: warning, grpc_address: '127.0.0.1:0', "
                                    "metrics_address: '127.0.0.1:0'",
                                    signature.empty() ? "" : ", ", signature,
                                    "}\npostgres: {address: 127.0.0.1:", pg_->port(),
                                    ", user: postgres, database: granary, sslmode: disable}\n",
                                    "nats: {url: '", nats_url(), "', reconnect_wait: 50ms}\n",
                                    "jetstream: ", options_.jetstream, "\n")));
  RETURN_IF_ERROR(Apply(repo_).status());
  for (const registry::v1::FeatureRepo& more : options_.more_repos) {
    RETURN_IF_ERROR(Apply(more).status());
  }
  return absl::OkStatus();
}

std::string TestStack::nats_url() const {
  return cluster_ != nullptr ? cluster_->urls() : nats_->url();
}

void TestStack::StopRegistry() {
  if (registry_ != nullptr) registry_->Shutdown();
}

std::string TestStack::registry_address() const {
  return absl::StrCat("127.0.0.1:", registry_->grpc_port());
}

std::shared_ptr<grpc::Channel> TestStack::registry_channel() const {
  return ChannelTo(registry_address());
}

std::shared_ptr<grpc::Channel> TestStack::ChannelTo(const std::string& address) const {
  if (caller_.secret.empty()) {
    return grpc::CreateChannel(address, grpc::InsecureChannelCredentials());
  }
  return rpc::ServiceChannel(address, caller_);
}

std::string TestStack::SignatureKeys() const {
  if (options_.gateway_signature_secret_file.empty()) return "";
  return absl::StrCat("gateway_signature: {required: true, secret_file: '",
                      options_.gateway_signature_secret_file, "'}");
}

absl::StatusOr<int64_t> TestStack::Apply(const registry::v1::FeatureRepo& repo,
                                         bool allow_breaking) {
  registry::v1::ApplyRequest request;
  *request.mutable_repo() = repo;
  request.set_allow_breaking(allow_breaking);
  registry::v1::ApplyResponse response;
  grpc::ClientContext ctx;
  ctx.set_deadline(absl::ToChronoTime(absl::Now() + kStartTimeout));
  RETURN_IF_ERROR(base::FromGrpcStatus(
      registry::v1::RegistryService::NewStub(registry_channel())->Apply(&ctx, request, &response)));
  return response.version();
}

std::string TestStack::SharedConfig(const std::string& service) const {
  const Reads reads = ReadsOf(service);
  std::string out;
  if (reads.registry) absl::StrAppend(&out, "registry: {address: '", registry_address(), "'}\n");
  if (reads.nats) absl::StrAppend(&out, "nats: {url: '", nats_url(), "', reconnect_wait: 50ms}\n");
  if (reads.jetstream) absl::StrAppend(&out, "jetstream: ", options_.jetstream, "\n");
  if (reads.redis) absl::StrAppend(&out, "redis: {address: '", redis_->address(), "'}\n");
  if (reads.offline_store) {
    absl::StrAppend(&out, "offline_store: {address: 127.0.0.1:", pg_->port(),
                    ", user: postgres, database: granary, sslmode: disable}\n");
  }
  return out;
}

std::string TestStack::Binary(const std::string& service) const {
  const std::string path = absl::StrCat("services/", service, "/", service);
  if (!options_.bin_dir.empty()) return absl::StrCat(options_.bin_dir, "/", path);
  const char* srcdir = std::getenv("TEST_SRCDIR");
  const char* workspace = std::getenv("TEST_WORKSPACE");
  if (srcdir != nullptr && workspace != nullptr) {
    return absl::StrCat(srcdir, "/", workspace, "/", path);
  }
  return absl::StrCat("bazel-bin/", path);
}

absl::StatusOr<TestService*> TestStack::Spawn(const std::string& service, ServiceOptions options) {
  auto spawned = std::make_unique<TestService>();
  const std::string label = absl::StrCat(service, "-", services_.size());
  spawned->name_ = label;
  ASSIGN_OR_RETURN(std::vector<int> ports, PickFreePorts(2));
  spawned->grpc_port_ = ports[0];
  spawned->metrics_port_ = ports[1];
  std::string server_keys = options.server;
  if (const std::string signature = SignatureKeys(); !signature.empty()) {
    server_keys = server_keys.empty() ? signature : absl::StrCat(server_keys, ", ", signature);
  }
  std::string own = options.section;
  if (service == "serving" || service == "ingestion") {
    own = own.empty() ? absl::StrCat("project: ", project())
                      : absl::StrCat("project: ", project(), ", ", own);
  }
  const std::string config = absl::StrCat(dir_->path(), "/", label, ".yaml");
  std::ofstream(config) << "server: {grpc_address: '127.0.0.1:" << ports[0]
                        << "', metrics_address: '127.0.0.1:" << ports[1]
                        << "', dependency_check_interval: 100ms"
                        << (server_keys.empty() ? "" : ", ") << server_keys << "}\n"
                        << (own.empty() ? "" : absl::StrCat(service, ": {", own, "}\n"))
                        << SharedConfig(service);
  spawned->argv_ = {Binary(service), "--config", config};
  spawned->env_ = options.env;
  spawned->log_path_ = absl::StrCat(dir_->path(), "/", label, ".log");
  spawned->wait_serving_ = options.wait_serving;
  spawned->channel_ = ChannelTo(spawned->address());
  RETURN_IF_ERROR(spawned->Launch());
  services_.push_back(std::move(spawned));
  return services_.back().get();
}

}  // namespace granary::testing
