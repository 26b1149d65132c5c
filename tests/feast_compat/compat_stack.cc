#include "tests/feast_compat/compat_stack.h"

#include <fstream>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "feast/types/Value.pb.h"
#include "google/protobuf/text_format.h"
#include "granary/registry/v1/registry_service.grpc.pb.h"
#include "granary/types/v1/value.pb.h"
#include "grpcpp/grpcpp.h"

#include "libs/base/proto_time.h"
#include "libs/base/status_macros.h"
#include "libs/keys/entity_key.h"
#include "libs/keys/hash_field.h"
#include "libs/onlinestore/redis_online_store.h"
#include "libs/testing/grpc_probes.h"
#include "services/registry/registry_service.h"

namespace granary::feast_compat {
namespace {

constexpr absl::Duration kStartTimeout = absl::Seconds(30);

// Feast's driver example, cut down to what serving reads.
constexpr char kRepo[] = R"pb(
  project { name: "feature_repo" }
  entities { name: "driver" join_key: "driver_id" value_type: INT64 }
  data_sources {
    name: "driver_stats_source"
    postgres { table: "driver_stats" }
    timestamp_field: "event_timestamp"
  }
  feature_views {
    name: "driver_hourly_stats"
    entities: "driver"
    schema { name: "conv_rate" dtype: FLOAT }
    schema { name: "acc_rate" dtype: FLOAT }
    schema { name: "avg_daily_trips" dtype: INT64 }
    ttl { seconds: 86400 }
    batch_source: "driver_stats_source"
  }
  feature_services {
    name: "driver_activity"
    features {
      feature_view: "driver_hourly_stats"
      features: "conv_rate"
      features: "avg_daily_trips"
    }
  }
)pb";

// Microsecond precision, so that what is written and what comes back compare exactly.
absl::Time Micros(absl::Time t) { return absl::FromUnixMicros(absl::ToUnixMicros(t)); }

// A value serialized as a Feast writer stores it: feast.types.Value.
std::string FeastFloat(float v) {
  ::feast::types::Value value;
  value.set_float_val(v);
  return value.SerializeAsString();
}

std::string FeastInt64(int64_t v) {
  ::feast::types::Value value;
  value.set_int64_val(v);
  return value.SerializeAsString();
}

std::string FeastNull() {
  ::feast::types::Value value;
  value.set_null_val(::feast::types::NULL_);
  return value.SerializeAsString();
}

// The port in the "grpc=host:port" of the service's "started" log line.
absl::StatusOr<int> StartedPort(const std::string& output) {
  for (absl::string_view line : absl::StrSplit(output, '\n')) {
    if (!absl::StrContains(line, "msg=started")) continue;
    for (absl::string_view field : absl::StrSplit(line, ' ')) {
      if (!absl::ConsumePrefix(&field, "grpc=")) continue;
      field = absl::StripSuffix(absl::StripPrefix(field, "\""), "\"");
      int port = 0;
      size_t colon = field.rfind(':');
      if (colon != absl::string_view::npos && absl::SimpleAtoi(field.substr(colon + 1), &port) &&
          port > 0) {
        return port;
      }
    }
  }
  return absl::InternalError("no grpc=host:port in serving's \"started\" line:\n" + output);
}

}  // namespace

absl::StatusOr<std::unique_ptr<CompatStack>> CompatStack::Start(const std::string& serving_binary) {
  auto stack = std::unique_ptr<CompatStack>(new CompatStack());
  ASSIGN_OR_RETURN(stack->pg_, testing::PostgresServer::Start());
  RETURN_IF_ERROR(stack->pg_->CreateDatabase("granary"));
  ASSIGN_OR_RETURN(stack->nats_, testing::NatsServer::Start());
  ASSIGN_OR_RETURN(stack->redis_, testing::RedisServer::Start());
  ASSIGN_OR_RETURN(stack->registry_,
                   server::StartInProcess(
                       registry::Definition(),
                       absl::StrCat("server: {log_level: warning, grpc_address: '127.0.0.1:0', "
                                    "metrics_address: '127.0.0.1:0'}\n"
                                    "postgres: {address: 127.0.0.1:",
                                    stack->pg_->port(),
                                    ", user: postgres, database: granary, sslmode: disable}\n"
                                    "nats: {url: '",
                                    stack->nats_->url(), "'}\n")));
  RETURN_IF_ERROR(stack->ApplyRepo());
  RETURN_IF_ERROR(stack->WriteRows());
  RETURN_IF_ERROR(stack->StartServing(serving_binary));
  return stack;
}

CompatStack::~CompatStack() {
  if (serving_ != nullptr) (void)serving_->Stop();
  if (registry_ != nullptr) registry_->Shutdown();
}

absl::Status CompatStack::ApplyRepo() {
  registry::v1::ApplyRequest request;
  if (!google::protobuf::TextFormat::ParseFromString(kRepo, request.mutable_repo())) {
    return absl::InternalError("the test repo does not parse");
  }
  auto stub = registry::v1::RegistryService::NewStub(grpc::CreateChannel(
      absl::StrCat("127.0.0.1:", registry_->grpc_port()), grpc::InsecureChannelCredentials()));
  registry::v1::ApplyResponse response;
  grpc::ClientContext ctx;
  ctx.set_deadline(absl::ToChronoTime(absl::Now() + kStartTimeout));
  grpc::Status s = stub->Apply(&ctx, request, &response);
  if (!s.ok()) return absl::InternalError("apply: " + s.error_message());
  return absl::OkStatus();
}

absl::Status CompatStack::WriteRows() {
  const absl::Time now = Micros(absl::Now());
  rows_ = {
      {1001, now - absl::Minutes(10), 0.5f, 0.75f, false, 42},
      {1002, now - absl::Minutes(20), 0.25f, 0.f, true, 7},
      {1003, now - absl::Hours(48), 0.125f, 0.5f, false, 3},  // past the one-day TTL
  };
  onlinestore::ViewWrite write;
  write.view = kView;
  write.feature_fields = {keys::FeatureField(kView, "conv_rate"),
                          keys::FeatureField(kView, "acc_rate"),
                          keys::FeatureField(kView, "avg_daily_trips")};
  for (const DriverRow& row : rows_) {
    types::v1::Value id;
    id.set_int64_val(row.driver_id);
    ASSIGN_OR_RETURN(std::string key, keys::RedisKey({{"driver_id", id}}, kProject));
    write.rows.push_back(
        {key,
         row.event_time,
         /*created_time=*/row.event_time,
         {FeastFloat(row.conv_rate), row.acc_rate_null ? FeastNull() : FeastFloat(row.acc_rate),
          FeastInt64(row.avg_daily_trips)}});
  }
  redis::RedisOptions options;
  options.host = redis_->host();
  options.port = redis_->port();
  onlinestore::RedisOnlineStore store(options);
  ASSIGN_OR_RETURN(onlinestore::WriteResult written,
                   store.NewSession()->WriteNewer(write, absl::Now() + kStartTimeout));
  if (written.written != static_cast<int64_t>(rows_.size())) {
    return absl::InternalError(absl::StrCat("wrote ", written.written, " rows of ", rows_.size()));
  }
  return absl::OkStatus();
}

absl::Status CompatStack::StartServing(const std::string& serving_binary) {
  ASSIGN_OR_RETURN(testing::TempDir dir, testing::TempDir::Create("feast-compat"));
  dir_ = std::make_unique<testing::TempDir>(std::move(dir));
  const std::string config = dir_->path() + "/serving.yaml";
  std::ofstream(config) << "server: {grpc_address: '127.0.0.1:0', metrics_address: '127.0.0.1:0'}\n"
                        << "serving: {project: " << kProject << "}\n"
                        << "registry: {address: '127.0.0.1:" << registry_->grpc_port() << "'}\n"
                        << "nats: {url: '" << nats_->url() << "'}\n"
                        << "redis: {address: '" << redis_->address() << "'}\n";
  ASSIGN_OR_RETURN(serving_,
                   testing::Subprocess::Start({.argv = {serving_binary, "--config", config}}));
  // Port 0: the service says where it listens once it does.
  RETURN_IF_ERROR(serving_->WaitForOutput("msg=started", kStartTimeout));
  ASSIGN_OR_RETURN(int port, StartedPort(serving_->Output()));
  serving_address_ = absl::StrCat("127.0.0.1:", port);
  // SERVING is Redis reachable; the catalog is loaded once the registry client says so.
  auto channel = grpc::CreateChannel(serving_address_, grpc::InsecureChannelCredentials());
  RETURN_IF_ERROR(testing::WaitForHealth(
      channel, "", grpc::health::v1::HealthCheckResponse::SERVING, kStartTimeout));
  return serving_->WaitForOutput("catalog updated", kStartTimeout);
}

}  // namespace granary::feast_compat
