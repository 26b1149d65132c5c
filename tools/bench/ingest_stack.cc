#include "tools/bench/ingest_stack.h"

#include <fstream>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "granary/registry/v1/registry_service.grpc.pb.h"
#include "grpcpp/grpcpp.h"

#include "libs/base/grpc_status.h"
#include "libs/base/status_macros.h"
#include "libs/testing/grpc_probes.h"
#include "libs/testing/ports.h"
#include "services/registry/registry_service.h"
#include "tools/bench/raw_tools.h"

namespace granary::bench {
namespace {

namespace reg = registry::v1;

reg::FeatureRepo IngestRepo() {
  reg::FeatureRepo repo;
  repo.mutable_project()->set_name(kIngestProject);
  auto* entity = repo.add_entities();
  entity->set_name("device");
  entity->set_join_key("device_id");
  entity->set_value_type(types::v1::ValueType::INT64);
  auto* table = repo.add_data_sources();
  table->set_name("pushed_table");
  table->mutable_postgres()->set_table("pushed_rows");
  table->set_timestamp_field("event_timestamp");
  auto* push = repo.add_data_sources();
  push->set_name(kIngestSource);
  push->mutable_push()->set_batch_source("pushed_table");
  auto* view = repo.add_feature_views();
  view->set_name(kIngestView);
  view->add_entities("device");
  view->set_batch_source("pushed_table");
  view->set_stream_source(kIngestSource);
  for (int i = 0; i < kIngestFeatures; ++i) {
    auto* field = view->add_schema();
    field->set_name(absl::StrFormat("f%02d", i));
    field->set_dtype(types::v1::ValueType::DOUBLE);
  }
  return repo;
}

}  // namespace

absl::StatusOr<std::unique_ptr<IngestStack>> IngestStack::Start(const IngestStackOptions& options) {
  auto stack = std::unique_ptr<IngestStack>(new IngestStack());
  ASSIGN_OR_RETURN(testing::TempDir dir, testing::TempDir::Create("ingest-bench"));
  stack->dir_ = std::make_unique<testing::TempDir>(std::move(dir));
  ASSIGN_OR_RETURN(stack->pg_, testing::PostgresServer::Start());
  RETURN_IF_ERROR(stack->pg_->CreateDatabase("granary"));
  ASSIGN_OR_RETURN(stack->nats_, testing::NatsServer::Start());
  // Keyspace events for hashes: the benchmark learns when each row lands.
  ASSIGN_OR_RETURN(stack->redis_,
                   testing::RedisServer::Start({.config_lines = {"notify-keyspace-events Kh"}}));
  const std::string pg = absl::StrCat("{address: 127.0.0.1:", stack->pg_->port(),
                                      ", user: postgres, database: granary, sslmode: disable}");
  const std::string nats = absl::StrCat("{url: '", stack->nats_->url(), "'}");
  ASSIGN_OR_RETURN(stack->registry_,
                   server::StartInProcess(
                       registry::Definition(),
                       absl::StrCat("server: {log_level: warning, grpc_address: '127.0.0.1:0', "
                                    "metrics_address: '127.0.0.1:0'}\npostgres: ",
                                    pg, "\nnats: ", nats, "\n")));
  reg::ApplyRequest apply;
  *apply.mutable_repo() = IngestRepo();
  reg::ApplyResponse applied;
  grpc::ClientContext ctx;
  const std::string registry_address = absl::StrCat("127.0.0.1:", stack->registry_->grpc_port());
  RETURN_IF_ERROR(base::FromGrpcStatus(
      reg::RegistryService::NewStub(
          grpc::CreateChannel(registry_address, grpc::InsecureChannelCredentials()))
          ->Apply(&ctx, apply, &applied)));
  const std::string common =
      absl::StrCat("registry: {address: '", registry_address, "'}\nnats: ", nats, "\n");
  ASSIGN_OR_RETURN(
      int ingestion_port,
      stack->StartService(
          absl::StrCat(options.bin_dir, "/services/ingestion/ingestion"),
          absl::StrCat("ingestion: {project: ", kIngestProject, ", max_in_flight: 1024}\n", common),
          "ingestion"));
  stack->ingestion_address_ = absl::StrCat("127.0.0.1:", ingestion_port);
  for (int i = 0; i < options.workers; ++i) {
    ASSIGN_OR_RETURN(
        int metrics_port,
        stack->StartService(absl::StrCat(options.bin_dir, "/services/materializer/materializer"),
                            absl::StrCat(common, "redis: {address: '", stack->redis_->address(),
                                         "'}\noffline_store: ", pg, "\n"),
                            absl::StrCat("materializer-", i)));
    stack->worker_metrics_ports_.push_back(metrics_port);
  }
  return stack;
}

IngestStack::~IngestStack() {
  for (auto& p : processes_) (void)p->Stop();
}

absl::StatusOr<int> IngestStack::StartService(const std::string& binary,
                                              const std::string& config_text,
                                              const std::string& name) {
  ASSIGN_OR_RETURN(std::vector<int> ports, testing::PickFreePorts(2));
  const std::string config = absl::StrCat(dir_->path(), "/", name, ".yaml");
  std::ofstream(config) << "server: {log_level: warning, grpc_address: '127.0.0.1:" << ports[0]
                        << "', metrics_address: '127.0.0.1:" << ports[1] << "'}\n"
                        << config_text;
  ASSIGN_OR_RETURN(auto process, testing::Subprocess::Start(
                                     {.argv = {binary, "--config", config},
                                      .log_path = absl::StrCat(dir_->path(), "/", name, ".log")}));
  processes_.push_back(std::move(process));
  auto channel =
      grpc::CreateChannel(absl::StrCat("127.0.0.1:", ports[0]), grpc::InsecureChannelCredentials());
  RETURN_IF_ERROR(testing::WaitForHealth(
      channel, "", grpc::health::v1::HealthCheckResponse::SERVING, absl::Seconds(30)));
  return name == "ingestion" ? ports[0] : ports[1];
}

double IngestStack::RowsWrittenOnline() const {
  double sum = 0;
  for (int port : worker_metrics_ports_) {
    sum +=
        ScrapeMetric(port, "granary_materializer_rows_written_total{consumer=\"online-writer\"}");
  }
  return sum;
}

std::vector<pid_t> IngestStack::pids() const {
  std::vector<pid_t> out;
  for (const auto& p : processes_) out.push_back(p->pid());
  return out;
}

}  // namespace granary::bench
