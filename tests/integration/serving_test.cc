// Serving with its real neighbours: the registry (with PostgreSQL and NATS) for the catalog and
// Redis, with serving reading as a read-only ACL user. An apply reaches serving within a
// second; serving keeps answering from its last catalog while the registry is down; both
// service names answer; the catalog gauges follow; a stop answers the reads in flight.
#include <signal.h>

#include <atomic>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "feast/serving/serving_service.grpc.pb.h"
#include "gmock/gmock.h"
#include "granary/registry/v1/registry_service.grpc.pb.h"
#include "granary/serving/v1/serving.grpc.pb.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"

#include "libs/base/proto_time.h"
#include "libs/keys/entity_key.h"
#include "libs/keys/hash_field.h"
#include "libs/onlinestore/redis_online_store.h"
#include "libs/testing/grpc_probes.h"
#include "libs/testing/nats_server.h"
#include "libs/testing/postgres_server.h"
#include "libs/testing/redis_server.h"
#include "libs/testing/status_matchers.h"
#include "libs/testing/temp_dir.h"
#include "services/registry/registry_service.h"
#include "services/serving/serving_service.h"
#include "services/serving/test_catalog.h"

namespace granary {
namespace {

using serving::v1::GetOnlineFeaturesRequest;
using serving::v1::GetOnlineFeaturesResponse;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

class ServingIntegrationTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_OK_AND_ASSIGN(pg_, testing::PostgresServer::Start());
    ASSERT_OK(pg_->CreateDatabase("granary"));
    ASSERT_OK_AND_ASSIGN(nats_, testing::NatsServer::Start());
    ASSERT_OK_AND_ASSIGN(redis_, testing::RedisServer::Start({.config_lines = {
                                                                  "user reader on >s3cret ~* "
                                                                  "+@read +ping",
                                                              }}));
    ASSERT_OK_AND_ASSIGN(
        registry_,
        server::StartInProcess(registry::Definition(),
                               absl::StrCat("postgres: {address: 127.0.0.1:", pg_->port(),
                                            ", user: postgres, database: granary, sslmode: "
                                            "disable}\nnats: {url: '",
                                            nats_->url(), "'}\n")));
    registry_stub_ = registry::v1::RegistryService::NewStub(grpc::CreateChannel(
        absl::StrCat("127.0.0.1:", registry_->grpc_port()), grpc::InsecureChannelCredentials()));
    ASSERT_OK_AND_ASSIGN(testing::TempDir dir, testing::TempDir::Create("serving-it"));
    dir_ = std::make_unique<testing::TempDir>(std::move(dir));
    std::string password = dir_->path() + "/redis-password";
    std::ofstream(password) << "s3cret\n";
    ASSERT_OK_AND_ASSIGN(
        serving_, server::StartInProcess(
                      serving::Definition(),
                      absl::StrCat("server: {", ServerKeys(), "}\n", "serving: {project: shop",
                                   ServingKeys(), "}\nregistry: {address: '127.0.0.1:",
                                   registry_->grpc_port(), "', poll_interval: 1h}\nnats: {url: '",
                                   nats_->url(), "'}\nredis: {address: '", redis_->address(),
                                   "', user: reader, password: {file: '", password, "'}}\n")));
    channel_ = grpc::CreateChannel(absl::StrCat("127.0.0.1:", serving_->grpc_port()),
                                   grpc::InsecureChannelCredentials());
  }

  // More of serving's config, for fixtures that need it.
  virtual std::string ServerKeys() const { return "dependency_check_interval: 50ms"; }
  virtual std::string ServingKeys() const { return ""; }

  int64_t Apply(const registry::v1::FeatureRepo& repo) {
    registry::v1::ApplyRequest req;
    *req.mutable_repo() = repo;
    req.set_allow_breaking(true);
    registry::v1::ApplyResponse resp;
    grpc::ClientContext ctx;
    grpc::Status s = registry_stub_->Apply(&ctx, req, &resp);
    EXPECT_TRUE(s.ok()) << s.error_message();
    return resp.version();
  }

  void WriteTrips(int64_t driver, int64_t trips) {
    redis::RedisOptions options;
    options.host = redis_->host();
    options.port = redis_->port();
    onlinestore::RedisOnlineStore store(options);
    types::v1::Value id, value;
    id.set_int64_val(driver);
    value.set_int64_val(trips);
    absl::StatusOr<std::string> key = keys::RedisKey({{"driver_id", id}}, "shop");
    ASSERT_OK(key);
    absl::Time now = absl::Now();
    onlinestore::ViewWrite write{"driver_stats",
                                 {keys::FeatureField("driver_stats", "trips")},
                                 /*view_version=*/0,
                                 absl::ZeroDuration(),
                                 {{*key, now, now, {value.SerializeAsString()}}}};
    ASSERT_OK(store.NewSession()->WriteNewer(write, absl::Now() + absl::Seconds(10)).status());
  }

  grpc::Status Read(const std::vector<std::string>& refs, GetOnlineFeaturesResponse* resp,
                    bool feast_name = false) {
    GetOnlineFeaturesRequest req;
    for (const auto& ref : refs) req.mutable_features()->add_val(ref);
    (*req.mutable_entities())["driver_id"].add_val()->set_int64_val(7);
    grpc::ClientContext ctx;
    ctx.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(5)));
    if (feast_name) {
      return feast::serving::ServingService::NewStub(channel_)->GetOnlineFeatures(&ctx, req, resp);
    }
    return serving::v1::ServingService::NewStub(channel_)->GetOnlineFeatures(&ctx, req, resp);
  }

  // Read, again and again for up to a minute, until served: a project's first catalog reaches
  // serving by event, which a test cannot wait on from outside.
  grpc::Status ReadOnceServed(const std::vector<std::string>& refs,
                              GetOnlineFeaturesResponse* resp) {
    grpc::Status s;
    for (absl::Time give_up = absl::Now() + absl::Seconds(60); absl::Now() < give_up;) {
      s = Read(refs, resp);
      if (s.ok()) break;
      absl::SleepFor(absl::Milliseconds(5));  // polling, as above
    }
    return s;
  }

  std::unique_ptr<testing::PostgresServer> pg_;
  std::unique_ptr<testing::NatsServer> nats_;
  std::unique_ptr<testing::RedisServer> redis_;
  std::unique_ptr<server::ServiceRuntime> registry_;
  std::unique_ptr<registry::v1::RegistryService::Stub> registry_stub_;
  std::unique_ptr<testing::TempDir> dir_;
  std::unique_ptr<server::ServiceRuntime> serving_;
  std::shared_ptr<grpc::Channel> channel_;
};

TEST_F(ServingIntegrationTest, AppliesReachServingAndOutagesKeepTheLastCatalog) {
  ASSERT_OK(testing::WaitForHealth(channel_, "", grpc::health::v1::HealthCheckResponse::SERVING,
                                   absl::Seconds(10)));
  WriteTrips(7, 42);
  registry::v1::FeatureRepo repo = serving::testing::TestRepo("shop");
  Apply(repo);
  GetOnlineFeaturesResponse resp;
  grpc::Status s;
  // The first catalog: serving started before the project existed, and learns of it by event.
  s = ReadOnceServed({"driver_stats:trips"}, &resp);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(resp.results(1).values(0).int64_val(), 42);
  EXPECT_EQ(resp.results(1).statuses(0), serving::v1::PRESENT);
  ASSERT_TRUE(Read({"driver_stats:trips"}, &resp, /*feast_name=*/true).ok());
  EXPECT_EQ(resp.results(1).values(0).int64_val(), 42);

  // A new feature: unknown, then served once the change has reached serving (how fast:
  // tools/bench/run registry, propagation).
  s = Read({"driver_stats:surge"}, &resp);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_THAT(s.error_message(), HasSubstr("no feature 'surge'"));
  auto* field = repo.mutable_feature_views(0)->add_schema();
  field->set_name("surge");
  field->set_dtype(types::v1::ValueType::DOUBLE);
  int64_t version = Apply(repo);
  absl::Time give_up = absl::Now() + absl::Seconds(60);
  for (s = Read({"driver_stats:surge"}, &resp); !s.ok() && absl::Now() < give_up;
       s = Read({"driver_stats:surge"}, &resp)) {
    absl::SleepFor(absl::Milliseconds(5));  // polling, as above
  }
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(resp.results(1).statuses(0), serving::v1::NOT_FOUND);  // never written

  ASSERT_OK_AND_ASSIGN(std::string metrics,
                       testing::HttpGet("127.0.0.1", serving_->metrics_port(), "/metrics"));
  EXPECT_THAT(metrics, HasSubstr(absl::StrCat("granary_serving_catalog_version{project=\"shop\"} ",
                                              version)));
  EXPECT_THAT(metrics, HasSubstr("granary_serving_values_total{status=\"PRESENT\"} 2"));
  EXPECT_THAT(metrics, HasSubstr("granary_serving_redis_round_trip_seconds_count"));

  // The registry goes away: serving keeps answering from what it holds.
  registry_->Shutdown();
  registry_.reset();
  ASSERT_TRUE(Read({"driver_stats:trips", "driver_stats:surge"}, &resp).ok());
  EXPECT_THAT(resp.metadata().feature_names().val(), ElementsAre("driver_id", "trips", "surge"));
  EXPECT_EQ(resp.results(1).values(0).int64_val(), 42);
}

// Bytes sent to the local TCP port `port` that its process has not read yet (the receive
// queues of its established connections, from /proc/net/tcp).
int64_t UnreadBytes(int port) {
  int64_t unread = 0;
  std::ifstream table("/proc/net/tcp");
  std::string line;
  std::getline(table, line);  // the header
  while (std::getline(table, line)) {
    std::istringstream fields(line);
    std::string slot, local, remote, state, queues;
    fields >> slot >> local >> remote >> state >> queues;
    unsigned local_port = 0;
    unsigned long long tx = 0, rx = 0;
    if (std::sscanf(local.c_str(), "%*x:%x", &local_port) != 1 || state != "01" ||
        std::sscanf(queues.c_str(), "%llx:%llx", &tx, &rx) != 2) {
      continue;
    }
    if (static_cast<int>(local_port) == port) unread += static_cast<int64_t>(rx);
  }
  return unread;
}

// Stops while a read waits on a frozen Redis. Serving's own checks of Redis are 5 minutes apart
// here (the first at start), so the bytes unread in Redis's sockets are the read's; the read may
// take 5 s, so the online store's command timeout (1 s) is what ends it.
class ServingStopTest : public ServingIntegrationTest,
                        public ::testing::WithParamInterface<absl::Duration> {
 protected:
  std::string ServerKeys() const override {
    return absl::StrCat("dependency_check_interval: 5m, drain_timeout: ",
                        absl::FormatDuration(GetParam()));
  }
  // Reads go to the online store's I/O thread: a read on the queue thread would hold the stop
  // by itself (the runtime joins that thread), whether or not serving drains its calls.
  std::string ServingKeys() const override {
    return ", max_request_time: 5s, read_on_request_thread: false";
  }
};

TEST_P(ServingStopTest, AStopWaitsForTheReadsInFlight) {
  WriteTrips(7, 42);
  Apply(serving::testing::TestRepo("shop"));
  GetOnlineFeaturesResponse resp;
  grpc::Status s = ReadOnceServed({"driver_stats:trips"}, &resp);
  ASSERT_TRUE(s.ok()) << s.error_message();

  ASSERT_EQ(kill(redis_->pid(), SIGSTOP), 0);
  grpc::Status in_flight;
  std::atomic<bool> answered{false};
  std::thread reader([&] {
    in_flight = Read({"driver_stats:trips"}, &resp);
    answered.store(true);
  });
  // The precondition: serving's HMGET sits unread in frozen Redis's socket.
  bool sent = false;
  for (absl::Time give_up = absl::Now() + absl::Seconds(30); !sent && absl::Now() < give_up;) {
    sent = UnreadBytes(redis_->port()) > 0;
    if (!sent) absl::SleepFor(absl::Milliseconds(5));  // polling the kernel's queue, as above
  }
  const bool stopped_mid_read = sent && !answered.load();
  absl::Duration stop_took;
  if (stopped_mid_read) {
    const absl::Time stop_began = absl::Now();
    serving_->Shutdown();  // returns once the drain is over
    stop_took = absl::Now() - stop_began;
  }
  reader.join();
  ASSERT_EQ(kill(redis_->pid(), SIGCONT), 0);
  ASSERT_TRUE(sent) << "the read never reached Redis";
  ASSERT_TRUE(stopped_mid_read) << "the read ended before the stop began";
  // However little drain time was left, the stop returned only once the read was over: it
  // had been waiting on Redis since before the stop, for up to the 1 s command timeout.
  EXPECT_GE(stop_took, absl::Milliseconds(500));
  if (GetParam() > absl::ZeroDuration()) {
    // With time to drain, the caller got the read's own answer.
    EXPECT_EQ(in_flight.error_code(), grpc::StatusCode::UNAVAILABLE) << in_flight.error_message();
    EXPECT_THAT(in_flight.error_message(),
                HasSubstr(absl::StrCat("redis at ", redis_->address(), " did not answer")));
  } else {
    // Without, gRPC ended the call at once (its own UNAVAILABLE), and serving still freed it
    // only after the read.
    EXPECT_EQ(in_flight.error_code(), grpc::StatusCode::UNAVAILABLE) << in_flight.error_message();
    EXPECT_THAT(in_flight.error_message(), HasSubstr("Cancelling all calls"));
  }
}

INSTANTIATE_TEST_SUITE_P(DrainTimeouts, ServingStopTest,
                         ::testing::Values(absl::Seconds(10), absl::ZeroDuration()));

}  // namespace
}  // namespace granary
