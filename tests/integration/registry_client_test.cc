// libs/registry_client against a real registry (in-process) with real PostgreSQL and NATS:
// an apply reaches the client within a second through the change event, the poll covers NATS
// being down, the last catalog keeps serving while the registry is down, and a deleted
// project goes away; a registry that requires the gateway's signature answers a client that
// signs with the same secret and refuses, with the reason the client reports, one that signs
// with none or another. Waits are on the client's own change signal, bounded; only a failed
// refresh, which nothing signals, is asked about again until it shows.
#include "libs/registry_client/registry_client.h"

#include <optional>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "granary/registry/v1/registry_service.grpc.pb.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"

#include "libs/config/secret.h"
#include "libs/rpc/service_channel.h"
#include "libs/testing/eventually.h"
#include "libs/testing/nats_server.h"
#include "libs/testing/postgres_server.h"
#include "libs/testing/status_matchers.h"
#include "libs/testing/test_gateway.h"
#include "services/registry/registry_service.h"
#include "services/registry/test_repo.h"

namespace granary {
namespace {

using registry::v1::ApplyRequest;
using registry::v1::ApplyResponse;
using registry::v1::RegistryService;
using registry_client::Catalog;
using registry_client::RegistryClient;
using testing::NatsServer;
using testing::PostgresServer;

// How long a test waits for a change to arrive: generous (a loaded 2-core machine is slow),
// not a speed bound (propagation time is measured by tools/bench/run registry), and far
// below the hour-long poll of the clients that must learn of changes through NATS alone.
constexpr absl::Duration kArrives = absl::Seconds(60);

class RegistryClientTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_OK_AND_ASSIGN(pg_, PostgresServer::Start());
    ASSERT_OK(pg_->CreateDatabase("granary"));
    ASSERT_OK_AND_ASSIGN(nats_, NatsServer::Start());
    registry_config_ = absl::StrCat("server: {", ServerKeys(), "}\n",
                                    "postgres: {address: 127.0.0.1:", pg_->port(),
                                    ", user: postgres, database: granary, sslmode: disable}\n",
                                    "nats: {url: '", nats_->url(), "', reconnect_wait: 50ms}\n");
    ASSERT_OK_AND_ASSIGN(registry_,
                         server::StartInProcess(registry::Definition(), registry_config_));
    address_ = absl::StrCat("127.0.0.1:", registry_->grpc_port());
    stub_ =
        RegistryService::NewStub(grpc::CreateChannel(address_, grpc::InsecureChannelCredentials()));
  }

  // Keys of the registry's `server:` section.
  virtual std::string ServerKeys() { return ""; }
  // Signs a call of the test's own, when the registry requires it.
  virtual void Sign(grpc::ClientContext& /*ctx*/, const std::string& /*method*/) {}

  int64_t Apply(const std::string& description) {
    ApplyRequest req;
    *req.mutable_repo() = registry::testing::DriverRepo("drivers");
    req.mutable_repo()->mutable_project()->set_description(description);
    ApplyResponse resp;
    grpc::ClientContext ctx;
    Sign(ctx, "/granary.registry.v1.RegistryService/Apply");
    grpc::Status s = stub_->Apply(&ctx, req, &resp);
    EXPECT_TRUE(s.ok()) << s.error_message();
    return resp.version();
  }

  std::unique_ptr<RegistryClient> Client(absl::Duration poll, std::shared_ptr<bus::Connection> nats,
                                         rpc::ServiceCaller caller = {}) {
    auto client = std::make_unique<RegistryClient>(
        registry_client::RegistryClientOptions{.address = address_,
                                               .poll_interval = poll,
                                               .retry_delay = absl::Milliseconds(100),
                                               .caller = std::move(caller)},
        std::move(nats));
    EXPECT_OK(client->Start());
    client->Watch("drivers");
    return client;
  }

  std::shared_ptr<bus::Connection> Nats() {
    absl::StatusOr<std::shared_ptr<bus::Connection>> nats =
        bus::Connection::Open({.url = nats_->url(), .reconnect_wait = absl::Milliseconds(50)});
    EXPECT_OK(nats);
    EXPECT_OK((*nats)->Ping());
    return *nats;
  }

  std::unique_ptr<PostgresServer> pg_;
  std::unique_ptr<NatsServer> nats_;
  std::string registry_config_;
  std::unique_ptr<server::ServiceRuntime> registry_;
  std::string address_;
  std::unique_ptr<RegistryService::Stub> stub_;
};

TEST_F(RegistryClientTest, SeesEachApplyThroughItsChangeEvent) {
  // An hour-long poll: only the change event can bring the updates in time.
  std::unique_ptr<RegistryClient> client = Client(absl::Hours(1), Nats());
  EXPECT_EQ(client->Get("drivers"), nullptr);
  EXPECT_FALSE(client->Ready().ok());
  for (int i = 1; i <= 5; ++i) {
    int64_t version = Apply(absl::StrCat("apply ", i));
    ASSERT_EQ(version, i);
    ASSERT_TRUE(client->WaitForVersion("drivers", version, kArrives)) << "version " << version;
  }
  std::shared_ptr<const Catalog> catalog = client->Get("drivers");
  ASSERT_NE(catalog, nullptr);
  EXPECT_EQ(catalog->version(), 5);
  EXPECT_EQ(catalog->repo().project().description(), "apply 5");
  ASSERT_NE(catalog->FindFeatureView("driver_hourly_stats"), nullptr);
  EXPECT_EQ(catalog->FindEntity("driver")->join_key(), "driver_id");
  EXPECT_NE(catalog->FindFeatureService("driver_activity"), nullptr);
  EXPECT_EQ(catalog->FindFeatureView("nope"), nullptr);
  EXPECT_OK(client->Ready());
}

TEST_F(RegistryClientTest, ThePollCoversMissedEvents) {
  // No NATS at all for this client: it learns of changes from the poll only.
  std::unique_ptr<RegistryClient> client = Client(absl::Milliseconds(200), nullptr);
  int64_t version = Apply("polled");
  ASSERT_TRUE(client->WaitForVersion("drivers", version, absl::Seconds(5)));
}

TEST_F(RegistryClientTest, KeepsTheLastCatalogWhileTheRegistryIsDown) {
  std::unique_ptr<RegistryClient> client = Client(absl::Milliseconds(100), Nats());
  int64_t version = Apply("before the outage");
  ASSERT_TRUE(client->WaitForVersion("drivers", version, kArrives));
  registry_->Shutdown();
  registry_.reset();
  // Refreshes fail now; a catalog stays, whatever else happens.
  EXPECT_FALSE(client->WaitUntil(
      "drivers", [](const Catalog* c) { return c == nullptr; }, absl::Milliseconds(500)));
  ASSERT_NE(client->Get("drivers"), nullptr);
  EXPECT_EQ(client->Get("drivers")->version(), version);
}

TEST_F(RegistryClientTest, AChangeMissedDuringANatsOutageArrivesOnReconnect) {
  // An hour-long poll: only the reconnect can bring the change in time.
  std::unique_ptr<RegistryClient> client = Client(absl::Hours(1), Nats());
  ASSERT_TRUE(client->WaitForVersion("drivers", Apply("before"), kArrives));
  ASSERT_OK(nats_->Stop());
  int64_t missed = Apply("during the outage");  // its announcement goes nowhere
  ASSERT_OK(nats_->Restart());
  EXPECT_TRUE(client->WaitForVersion("drivers", missed, absl::Seconds(10)));
}

TEST_F(RegistryClientTest, ADeletedProjectGoesAway) {
  std::unique_ptr<RegistryClient> client = Client(absl::Hours(1), Nats());
  ASSERT_TRUE(client->WaitForVersion("drivers", Apply("doomed"), kArrives));
  registry::v1::DeleteProjectRequest req;
  req.set_project("drivers");
  req.set_allow_breaking(true);  // it has a feature service
  registry::v1::DeleteProjectResponse resp;
  grpc::ClientContext ctx;
  ASSERT_TRUE(stub_->DeleteProject(&ctx, req, &resp).ok());
  EXPECT_TRUE(client->WaitUntil(
      "drivers", [](const Catalog* c) { return c == nullptr; }, kArrives));
  EXPECT_THAT(client->Lookup("drivers"), testing::StatusIs(absl::StatusCode::kNotFound));
}

TEST_F(RegistryClientTest, LookupSaysWhyThereIsNoCatalog) {
  std::unique_ptr<RegistryClient> client = Client(absl::Hours(1), Nats());
  ASSERT_TRUE(client->WaitForVersion("drivers", Apply("here"), kArrives));
  ASSERT_OK_AND_ASSIGN(std::shared_ptr<const Catalog> catalog, client->Lookup("drivers"));
  EXPECT_EQ(catalog->project(), "drivers");
  // A project the registry does not know: NOT_FOUND once asked.
  client->Watch("nobody");
  absl::Status nobody;
  for (absl::Time give_up = absl::Now() + absl::Seconds(5); absl::Now() < give_up;) {
    nobody = client->Lookup("nobody").status();
    if (nobody.code() == absl::StatusCode::kNotFound) break;
    absl::SleepFor(absl::Milliseconds(10));  // polling for the first answer, bounded
  }
  EXPECT_THAT(nobody, testing::StatusIs(absl::StatusCode::kNotFound));
  // No registry to ask: UNAVAILABLE.
  registry_->Shutdown();
  registry_.reset();
  client->Watch("later");
  EXPECT_THAT(client->Lookup("later"), testing::StatusIs(absl::StatusCode::kUnavailable));
}

// The registry requires the gateway's signature (server.gateway_signature.required), as it
// does when only the gateway may reach it; services sign their own calls with the same secret.
class SignedRegistryClientTest : public RegistryClientTest {
 protected:
  void SetUp() override {
    ASSERT_OK_AND_ASSIGN(gateway_, testing::TestGateway::Create());
    RegistryClientTest::SetUp();
  }
  std::string ServerKeys() override { return gateway_->RequiredConfig(); }
  void Sign(grpc::ClientContext& ctx, const std::string& method) override {
    gateway_->Authorize(ctx, "admin", method);
  }
  rpc::ServiceCaller Caller(const std::string& secret) {
    return {.service = "serving", .secret = config::Secret::FromValue(secret)};
  }
  std::string Secret() {
    absl::StatusOr<config::Secret> secret = config::Secret::FromFile(gateway_->secret_file());
    EXPECT_OK(secret);
    return secret.ok() ? secret->value() : "";
  }

  std::optional<testing::TestGateway> gateway_;
};

TEST_F(SignedRegistryClientTest, AClientSigningWithTheSharedSecretLoadsTheCatalog) {
  std::unique_ptr<RegistryClient> client = Client(absl::Hours(1), Nats(), Caller(Secret()));
  for (int i = 1; i <= 2; ++i) {
    int64_t version = Apply(absl::StrCat("apply ", i));
    ASSERT_EQ(version, i);
    ASSERT_TRUE(client->WaitForVersion("drivers", version, kArrives)) << "version " << version;
  }
  EXPECT_EQ(client->Get("drivers")->repo().project().description(), "apply 2");
  EXPECT_OK(client->Ready());
}

TEST_F(SignedRegistryClientTest, AClientWithoutTheSecretIsRefusedAndSaysSo) {
  ASSERT_EQ(Apply("here"), 1);
  // Unsigned (no secret), and signed with a secret the registry does not share.
  std::vector<std::unique_ptr<RegistryClient>> clients;
  clients.push_back(Client(absl::Hours(1), Nats()));
  clients.push_back(
      Client(absl::Hours(1), Nats(), Caller("another-secret-of-at-least-32-bytes-0123456789")));
  for (size_t i = 0; i < clients.size(); ++i) {
    RegistryClient& client = *clients[i];
    // The first refresh's answer, whenever it comes (nothing signals a failed refresh).
    ASSERT_TRUE(testing::Eventually(
        [&] {
          return absl::StrContains(client.Lookup("drivers").status().message(), "UNAUTHENTICATED");
        },
        kArrives))
        << "client " << i << ": " << client.Lookup("drivers").status();
    EXPECT_THAT(client.Lookup("drivers"),
                testing::StatusIs(absl::StatusCode::kUnavailable,
                                  ::testing::HasSubstr("gateway signature")));
    EXPECT_THAT(client.Ready(), testing::StatusIs(absl::StatusCode::kUnavailable,
                                                  ::testing::HasSubstr("UNAUTHENTICATED")));
    EXPECT_EQ(client.Get("drivers"), nullptr);
  }
}

}  // namespace
}  // namespace granary
