#include "tools/bench/serving_stack.h"

#include <fstream>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "granary/registry/v1/registry_service.grpc.pb.h"
#include "granary/serving/v1/serving.grpc.pb.h"
#include "grpcpp/grpcpp.h"
#include <hiredis/hiredis.h>

#include "libs/base/proto_time.h"
#include "libs/base/status_macros.h"
#include "libs/keys/entity_key.h"
#include "libs/keys/hash_field.h"
#include "libs/redis/connection.h"
#include "libs/testing/grpc_probes.h"
#include "libs/testing/ports.h"
#include "services/registry/registry_service.h"

namespace granary::bench {
namespace {

namespace reg = registry::v1;

constexpr int kRowsPerPipeline = 500;

std::string FeatureName(int i) { return absl::StrFormat("f%03d", i); }

reg::FeatureRepo BenchRepo(const std::vector<BenchView>& views) {
  reg::FeatureRepo repo;
  repo.mutable_project()->set_name(kBenchProject);
  auto* source = repo.add_data_sources();
  source->set_name("events");
  source->mutable_postgres()->set_table("events");
  source->set_timestamp_field("event_timestamp");
  for (const BenchView& v : views) {
    auto* entity = repo.add_entities();
    entity->set_name(v.name + "_entity");
    entity->set_join_key(v.join_key);
    entity->set_value_type(types::v1::ValueType::INT64);
    auto* view = repo.add_feature_views();
    view->set_name(v.name);
    view->add_entities(entity->name());
    view->set_batch_source("events");
    view->mutable_ttl()->set_seconds(86400);
    for (int i = 0; i < v.features; ++i) {
      auto* field = view->add_schema();
      field->set_name(FeatureName(i));
      field->set_dtype(types::v1::ValueType::DOUBLE);
    }
  }
  return repo;
}

// Appends one HSET of key and (field, value) pairs.
absl::Status AppendHset(redis::Connection& conn, const std::string& key,
                        const std::vector<std::string>& fields,
                        const std::vector<std::string>& values) {
  std::vector<const char*> argv = {"HSET", key.data()};
  std::vector<size_t> lens = {4, key.size()};
  for (size_t i = 0; i < fields.size(); ++i) {
    argv.push_back(fields[i].data());
    lens.push_back(fields[i].size());
    argv.push_back(values[i].data());
    lens.push_back(values[i].size());
  }
  return conn.Append(static_cast<int>(argv.size()), argv.data(), lens.data());
}

}  // namespace

absl::StatusOr<std::unique_ptr<ServingStack>> ServingStack::Start(
    const ServingStackOptions& options) {
  auto stack = std::unique_ptr<ServingStack>(new ServingStack());
  ASSIGN_OR_RETURN(stack->pg_, testing::PostgresServer::Start());
  RETURN_IF_ERROR(stack->pg_->CreateDatabase("granary"));
  ASSIGN_OR_RETURN(stack->nats_, testing::NatsServer::Start());
  ASSIGN_OR_RETURN(stack->redis_, testing::RedisServer::Start());
  ASSIGN_OR_RETURN(
      stack->registry_,
      server::StartInProcess(
          registry::Definition(),
          absl::StrCat("server: {log_level: warning, grpc_address: '127.0.0.1:0', "
                       "metrics_address: '127.0.0.1:0'}\npostgres: {address: 127.0.0.1:",
                       stack->pg_->port(),
                       ", user: postgres, database: granary, sslmode: disable}\n", "nats: {url: '",
                       stack->nats_->url(), "'}\n")));
  auto registry = reg::RegistryService::NewStub(
      grpc::CreateChannel(absl::StrCat("127.0.0.1:", stack->registry_->grpc_port()),
                          grpc::InsecureChannelCredentials()));
  reg::ApplyRequest apply;
  *apply.mutable_repo() = BenchRepo(options.views);
  reg::ApplyResponse applied;
  grpc::ClientContext ctx;
  grpc::Status s = registry->Apply(&ctx, apply, &applied);
  if (!s.ok()) return absl::InternalError("apply: " + s.error_message());
  RETURN_IF_ERROR(stack->StartServing(options));
  return stack;
}

ServingStack::~ServingStack() {
  if (serving_ != nullptr) (void)serving_->Stop();
}

absl::Status ServingStack::StartServing(const ServingStackOptions& options) {
  ASSIGN_OR_RETURN(testing::TempDir dir, testing::TempDir::Create("serving-bench"));
  dir_ = std::make_unique<testing::TempDir>(std::move(dir));
  ASSIGN_OR_RETURN(std::vector<int> ports, testing::PickFreePorts(2));
  int port = ports[0];
  serving_metrics_port_ = ports[1];
  std::string config = absl::StrCat(dir_->path(), "/serving.yaml");
  std::ofstream(config) << "server: {grpc_address: '127.0.0.1:" << port
                        << "', metrics_address: '127.0.0.1:" << serving_metrics_port_
                        << "', log_level: warning}\n"
                        << "serving: {project: " << kBenchProject << ", max_entity_rows: 1000}\n"
                        << "registry: {address: '127.0.0.1:" << registry_->grpc_port() << "'}\n"
                        << "nats: {url: '" << nats_->url() << "'}\n"
                        << "redis: {address: '" << redis_->address() << "'}\n";
  ASSIGN_OR_RETURN(serving_,
                   testing::Subprocess::Start({.argv = {options.serving_binary, "--config", config},
                                               .env = options.serving_env}));
  serving_address_ = absl::StrCat("127.0.0.1:", port);
  auto channel = grpc::CreateChannel(serving_address_, grpc::InsecureChannelCredentials());
  RETURN_IF_ERROR(testing::WaitForHealth(
      channel, "", grpc::health::v1::HealthCheckResponse::SERVING, absl::Seconds(30)));
  // Healthy is Redis reachable; ready is the catalog loaded too.
  auto stub = serving::v1::ServingService::NewStub(channel);
  for (absl::Time give_up = absl::Now() + absl::Seconds(30); absl::Now() < give_up;) {
    serving::v1::GetOnlineFeaturesRequest req;
    req.set_feature_service("none");
    serving::v1::GetOnlineFeaturesResponse resp;
    grpc::ClientContext ctx;
    grpc::Status status = stub->GetOnlineFeatures(&ctx, req, &resp);
    if (status.error_code() == grpc::StatusCode::NOT_FOUND) return absl::OkStatus();
    absl::SleepFor(absl::Milliseconds(50));
  }
  return absl::DeadlineExceededError("serving did not load the catalog:\n" +
                                     serving_->RecentOutput());
}

double ServingStack::ServingMetric(const std::string& series) const {
  return ScrapeMetric(serving_metrics_port_, series);
}

absl::Status ServingStack::Populate(const BenchView& view, int entities) {
  redis::RedisOptions options;
  options.host = redis_->host();
  options.port = redis_->port();
  options.command_timeout = absl::Seconds(60);
  ASSIGN_OR_RETURN(auto conn, redis::Connection::Open(options));
  std::vector<std::string> fields = {keys::TimestampField(view.name)};
  std::vector<std::string> raw_fields = {FeatureName(view.features)};
  for (int i = 0; i < view.features; ++i) {
    fields.push_back(keys::FeatureField(view.name, FeatureName(i)));
    raw_fields.push_back(FeatureName(i));
  }
  const std::string timestamp = base::ToProtoTime(absl::Now()).SerializeAsString();
  std::vector<std::string> values(fields.size());
  for (int first = 0; first < entities; first += kRowsPerPipeline) {
    int last = std::min(entities, first + kRowsPerPipeline);
    for (int id = first; id < last; ++id) {
      types::v1::Value key_value;
      key_value.set_int64_val(id);
      ASSIGN_OR_RETURN(std::string key,
                       keys::RedisKey({{view.join_key, key_value}}, kBenchProject));
      values[0] = timestamp;
      for (int i = 0; i < view.features; ++i) {
        types::v1::Value v;
        v.set_double_val(id + i / 1000.0);
        values[i + 1] = v.SerializeAsString();
      }
      RETURN_IF_ERROR(AppendHset(*conn, key, fields, values));
      // The raw twin: as many fields, values of the same sizes.
      RETURN_IF_ERROR(
          AppendHset(*conn, absl::StrFormat("raw%d:%012d", fields.size(), id), raw_fields, values));
    }
    for (int i = 0; i < 2 * (last - first); ++i) {
      bool failed = false;
      RETURN_IF_ERROR(
          conn->ReadRaw([&](const redisReply& r) { failed = r.type == REDIS_REPLY_ERROR; }));
      if (failed) return absl::InternalError("HSET failed while populating");
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<RawFigures> ServingStack::RedisBenchmark(int fields, int entities, int clients,
                                                        int pipeline, int requests) const {
  std::vector<std::string> args = {"-c",    absl::StrCat(clients),
                                   "-n",    absl::StrCat(requests),
                                   "-r",    absl::StrCat(entities),
                                   "-P",    absl::StrCat(pipeline),
                                   "HMGET", absl::StrFormat("raw%d:__rand_int__", fields)};
  for (int i = 0; i < fields; ++i) args.push_back(FeatureName(i));
  return RunRedisBenchmark(redis_->port(), args);
}

}  // namespace granary::bench
