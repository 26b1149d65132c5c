#include "tests/integration/ingestion_stack.h"

#include <fstream>

#include "absl/strings/str_cat.h"
#include "google/protobuf/text_format.h"
#include "granary/registry/v1/registry_service.grpc.pb.h"
#include "grpcpp/grpcpp.h"
#include "pqxx/pqxx"

#include "libs/base/grpc_status.h"
#include "libs/base/status_macros.h"
#include "libs/testing/grpc_probes.h"
#include "services/ingestion/ingestion_service.h"
#include "services/registry/registry_service.h"
#include "services/serving/serving_service.h"

namespace granary::integration {
namespace {

constexpr absl::Duration kStartTimeout = absl::Seconds(20);

constexpr char kRepo[] = R"pb(
  project { name: "shop" }
  entities { name: "driver" join_key: "driver_id" value_type: INT64 }
  data_sources {
    name: "stats_table"
    timestamp_field: "ts"
    created_timestamp_column: "created"
    postgres { table: "stats" }
  }
  data_sources {
    name: "stats_push"
    push { batch_source: "stats_table" }
  }
  feature_views {
    name: "driver_stats"
    entities: "driver"
    schema { name: "trips" dtype: INT64 }
    schema { name: "rate" dtype: DOUBLE }
    batch_source: "stats_table"
    stream_source: "stats_push"
  }
)pb";

std::string MaterializerBinary() {
  const char* dir = std::getenv("TEST_SRCDIR");
  const char* ws = std::getenv("TEST_WORKSPACE");
  if (dir == nullptr || ws == nullptr) return "services/materializer/materializer";
  return absl::StrCat(dir, "/", ws, "/services/materializer/materializer");
}

}  // namespace

absl::StatusOr<std::unique_ptr<IngestionStack>> IngestionStack::Start(int materializers) {
  std::unique_ptr<IngestionStack> stack(new IngestionStack());
  RETURN_IF_ERROR(stack->Init(materializers));
  return stack;
}

IngestionStack::~IngestionStack() {
  for (auto& m : materializers_) (void)m->Stop();
}

absl::Status IngestionStack::Init(int materializers) {
  ASSIGN_OR_RETURN(testing::TempDir dir, testing::TempDir::Create("ingestion-it"));
  dir_ = std::make_unique<testing::TempDir>(std::move(dir));
  ASSIGN_OR_RETURN(pg_, testing::PostgresServer::Start());
  RETURN_IF_ERROR(pg_->CreateDatabase("granary"));
  RETURN_IF_ERROR(
      pg_->Execute("CREATE TABLE stats (driver_id bigint NOT NULL, ts timestamptz NOT NULL, "
                   "created timestamptz, trips bigint, rate double precision)",
                   "granary"));
  ASSIGN_OR_RETURN(nats_, testing::NatsServer::Start());
  ASSIGN_OR_RETURN(redis_, testing::RedisServer::Start());
  const std::string pg = absl::StrCat("{address: 127.0.0.1:", pg_->port(),
                                      ", user: postgres, database: granary, sslmode: disable}");
  const std::string nats = absl::StrCat("{url: '", nats_->url(), "', reconnect_wait: 50ms}");
  ASSIGN_OR_RETURN(registry_,
                   server::StartInProcess(registry::Definition(),
                                          absl::StrCat("postgres: ", pg, "\nnats: ", nats, "\n")));
  registry::v1::ApplyRequest apply;
  if (!google::protobuf::TextFormat::ParseFromString(kRepo, apply.mutable_repo())) {
    return absl::InternalError("test repo does not parse");
  }
  registry::v1::ApplyResponse applied;
  grpc::ClientContext ctx;
  RETURN_IF_ERROR(base::FromGrpcStatus(
      registry::v1::RegistryService::NewStub(
          grpc::CreateChannel(absl::StrCat("127.0.0.1:", registry_->grpc_port()),
                              grpc::InsecureChannelCredentials()))
          ->Apply(&ctx, apply, &applied)));
  const std::string registry = absl::StrCat("{address: '127.0.0.1:", registry_->grpc_port(), "'}");
  ASSIGN_OR_RETURN(ingestion_, server::StartInProcess(
                                   ingestion::Definition(),
                                   absl::StrCat("server: {dependency_check_interval: 50ms}\n",
                                                "ingestion: {project: shop, publish_timeout: 2s}\n",
                                                "registry: ", registry, "\nnats: ", nats, "\n")));
  ASSIGN_OR_RETURN(
      serving_, server::StartInProcess(
                    serving::Definition(),
                    absl::StrCat("serving: {project: shop}\nregistry: ", registry, "\nnats: ", nats,
                                 "\nredis: {address: '", redis_->address(), "'}\n")));
  ingestion_channel_ = grpc::CreateChannel(absl::StrCat("127.0.0.1:", ingestion_->grpc_port()),
                                           grpc::InsecureChannelCredentials());
  serving_channel_ = grpc::CreateChannel(absl::StrCat("127.0.0.1:", serving_->grpc_port()),
                                         grpc::InsecureChannelCredentials());
  // SERVING once the GRANARY_PUSH stream is declared.
  RETURN_IF_ERROR(testing::WaitForHealth(
      ingestion_channel_, "", grpc::health::v1::HealthCheckResponse::SERVING, kStartTimeout));
  std::ofstream(dir_->path() + "/materializer.yaml")
      << "server: {grpc_address: '127.0.0.1:0', metrics_address: '127.0.0.1:0'}\n"
      << "materializer: {max_deliveries: 2, min_backoff: 10ms, max_backoff: 200ms, ack_wait: 2s}\n"
      << "registry: " << registry << "\nnats: " << nats << "\nredis: {address: '"
      << redis_->address() << "'}\noffline_store: " << pg << "\n";
  for (int i = 0; i < materializers; ++i) RETURN_IF_ERROR(StartMaterializer());
  return absl::OkStatus();
}

absl::Status IngestionStack::StartMaterializer() {
  ASSIGN_OR_RETURN(
      auto m, testing::Subprocess::Start(
                  {.argv = {MaterializerBinary(), "--config", dir_->path() + "/materializer.yaml"},
                   .log_path = absl::StrCat(dir_->path(), "/materializer-", materializers_.size(),
                                            ".log")}));
  RETURN_IF_ERROR(m->WaitForOutput("msg=started", kStartTimeout));
  materializers_.push_back(std::move(m));
  return absl::OkStatus();
}

ingestion::v1::PushRequest IngestionStack::Request(const std::string& batch_id,
                                                   const std::vector<Row>& rows,
                                                   ingestion::v1::PushTarget to) const {
  ingestion::v1::PushRequest req;
  req.set_push_source_name("stats_push");
  req.set_batch_id(batch_id);
  req.set_to(to);
  auto& columns = *req.mutable_columns();
  for (const Row& r : rows) {
    columns["driver_id"].add_val()->set_int64_val(r.driver);
    columns["ts"].add_val()->set_unix_timestamp_val(r.event_seconds);
    columns["trips"].add_val()->set_int64_val(r.trips);
  }
  return req;
}

grpc::Status IngestionStack::Push(const ingestion::v1::PushRequest& request,
                                  ingestion::v1::PushResponse* response) const {
  grpc::ClientContext ctx;
  ctx.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(10)));
  return ingestion::v1::IngestionService::NewStub(ingestion_channel_)
      ->Push(&ctx, request, response);
}

absl::StatusOr<Served> IngestionStack::Read(int64_t driver) const {
  serving::v1::GetOnlineFeaturesRequest req;
  req.mutable_features()->add_val("driver_stats:trips");
  (*req.mutable_entities())["driver_id"].add_val()->set_int64_val(driver);
  serving::v1::GetOnlineFeaturesResponse resp;
  grpc::ClientContext ctx;
  ctx.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(5)));
  RETURN_IF_ERROR(base::FromGrpcStatus(
      serving::v1::ServingService::NewStub(serving_channel_)->GetOnlineFeatures(&ctx, req, &resp)));
  const auto& column = resp.results(1);
  return Served{.status = column.statuses(0),
                .trips = column.values(0).int64_val(),
                .event_seconds = column.event_timestamps(0).seconds()};
}

absl::StatusOr<int64_t> IngestionStack::Count(const std::string& sql) const {
  try {
    pqxx::connection conn(pg_->ConnInfo("granary"));
    pqxx::nontransaction tx(conn);
    return tx.exec1(sql)[0].as<int64_t>();
  } catch (const std::exception& e) {
    return absl::UnavailableError(e.what());
  }
}

bool IngestionStack::Eventually(const std::function<bool()>& done, absl::Duration timeout) {
  for (absl::Time give_up = absl::Now() + timeout; absl::Now() < give_up;) {
    if (done()) return true;
    absl::SleepFor(absl::Milliseconds(10));  // polling: nothing outside signals completion
  }
  return done();
}

}  // namespace granary::integration
