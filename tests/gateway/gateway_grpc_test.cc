// The gateway's gRPC door, attacked and used through the real gateway process: every kind of
// bad credential is refused UNAUTHENTICATED, every missing permission PERMISSION_DENIED naming
// the action and object, each decision leaves an audit line, backends refuse what does not
// carry the gateway's signature, and the happy paths (unary and streaming) work per role.
#include "tests/gateway/gateway_grpc_fixture.h"

namespace granary::testing {
namespace {

using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::SizeIs;
namespace serving_v1 = serving::v1;
namespace reg = registry::v1;
namespace mat = materialization::v1;

TEST_F(GatewayGrpcTest, EveryBadCredentialIsRefusedUnauthenticatedWithAnAuditLine) {
  const std::string reader = "ana";
  nlohmann::json expired = GatewayStack::GoodClaims(reader, {"reader"});
  expired["exp"] = absl::ToUnixSeconds(absl::Now()) - 600;
  nlohmann::json early = GatewayStack::GoodClaims(reader, {"reader"});
  early["nbf"] = absl::ToUnixSeconds(absl::Now()) + 600;
  nlohmann::json wrong_issuer = GatewayStack::GoodClaims(reader, {"reader"});
  wrong_issuer["iss"] = "someone-else";
  nlohmann::json wrong_audience = GatewayStack::GoodClaims(reader, {"reader"});
  wrong_audience["aud"] = "another-service";
  std::string good = stack().Token(reader, {"reader"});
  std::string bad_signature = good;
  bad_signature[bad_signature.size() - 3] =
      bad_signature[bad_signature.size() - 3] == 'A' ? 'B' : 'A';
  std::string payload = GatewayStack::GoodClaims(reader, {"writer"}).dump();
  auto hmac_with_public_key =
      auth::test::SignToken("HS256", stack().rsa_key().public_pem, payload, "rsa-1");
  ASSERT_OK(hmac_with_public_key.status());
  ASSERT_OK_AND_ASSIGN(auth::test::TestKey stranger, auth::test::GenerateRsaKey("unknown-kid"));
  auto unknown_kid = auth::test::SignToken("RS256", stranger.private_pem, payload, "unknown-kid");
  ASSERT_OK(unknown_kid.status());
  auto other_key_same_kid = auth::test::SignToken("RS256", stranger.private_pem, payload, "rsa-1");
  ASSERT_OK(other_key_same_kid.status());

  const std::vector<std::pair<std::string, std::string>> cases = {
      {"no-token", ""},
      {"malformed", "not.a.token"},
      {"garbage", "Zm9v"},
      {"alg-none", auth::test::AssembleToken(R"({"alg":"none","typ":"JWT"})", payload, "")},
      {"hs256-with-rsa-public-key", *hmac_with_public_key},
      {"expired", stack().Hs256(expired)},
      {"not-yet-valid", stack().Hs256(early)},
      {"wrong-issuer", stack().Hs256(wrong_issuer)},
      {"wrong-audience", stack().Hs256(wrong_audience)},
      {"bad-signature", bad_signature},
      {"unknown-kid", *unknown_kid},
      {"rsa-signed-by-another-key", *other_key_same_kid},
  };
  for (const auto& [name, token] : cases) {
    std::string trace = absl::StrCat("unauth-", name);
    grpc::Status status = ReadOnline(token, Read({"driver_hourly_stats:conv_rate"}), trace);
    EXPECT_EQ(status.error_code(), grpc::StatusCode::UNAUTHENTICATED)
        << name << ": " << status.error_message();
    std::vector<nlohmann::json> lines = stack().AuditLines(trace);
    ASSERT_THAT(lines, SizeIs(1)) << name;
    EXPECT_EQ(lines[0]["decision"], "unauthenticated") << name;
    EXPECT_EQ(lines[0]["status"], "UNAUTHENTICATED") << name;
    EXPECT_EQ(lines[0]["method"], "/granary.serving.v1.ServingService/GetOnlineFeatures");
    // The audit never holds a token.
    if (token.size() > 8) {
      EXPECT_THAT(stack().AuditText(), ::testing::Not(HasSubstr(token)));
    }
  }
  // The same token, well formed, is accepted: the refusals above were about the token.
  EXPECT_GRPC_OK(ReadOnline(good, Read({"driver_hourly_stats:conv_rate"})));
}

TEST_F(GatewayGrpcTest, ReaderReadsOnlineAndIsDeniedWritesNamingActionAndObject) {
  std::string reader = stack().Token("ana", {"reader"});
  serving_v1::GetOnlineFeaturesResponse response;
  ASSERT_GRPC_OK(
      ReadOnline(reader, Read({"driver_hourly_stats:conv_rate"}), "reader-read", &response));
  EXPECT_THAT(response.metadata().feature_names().val(),
              ::testing::ElementsAre("driver_id", "conv_rate"));
  std::vector<nlohmann::json> lines = stack().AuditLines("reader-read");
  ASSERT_THAT(lines, SizeIs(1));
  EXPECT_EQ(lines[0]["user"], "ana");
  EXPECT_EQ(lines[0]["roles"], nlohmann::json::array({"reader"}));
  EXPECT_EQ(lines[0]["decision"], "allow");
  EXPECT_EQ(lines[0]["status"], "OK");
  EXPECT_THAT(
      lines[0]["resources"].dump(),
      HasSubstr("READ_ONLINE feature view 'driver_hourly_stats' in project 'driver_stats'"));

  grpc::Status push = Push(reader, PushRow(1001, 0.1f), "reader-push");
  EXPECT_EQ(push.error_code(), grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_THAT(push.error_message(),
              HasSubstr("may not WRITE_ONLINE feature view 'driver_hourly_stats'"));
  lines = stack().AuditLines("reader-push");
  ASSERT_THAT(lines, SizeIs(1));
  EXPECT_EQ(lines[0]["decision"], "deny");
  EXPECT_EQ(lines[0]["status"], "PERMISSION_DENIED");

  // Apply with a changed description: UPDATE on the view, which readers lack.
  reg::ApplyRequest apply;
  *apply.mutable_repo() = stack().stack().repo();
  apply.mutable_repo()->mutable_feature_views(0)->set_description("changed by a reader");
  grpc::ClientContext ctx;
  GatewayStack::Authorize(ctx, reader);
  reg::ApplyResponse applied;
  grpc::Status status =
      reg::RegistryService::NewStub(stack().channel())->Apply(&ctx, apply, &applied);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_THAT(status.error_message(), HasSubstr("may not UPDATE+DESCRIBE feature view"));

  grpc::ClientContext materialize_ctx;
  GatewayStack::Authorize(materialize_ctx, reader);
  mat::MaterializeRequest materialize;
  materialize.add_feature_views("driver_hourly_stats");
  *materialize.mutable_start_time() = base::ToProtoTime(absl::Now() - absl::Hours(1));
  *materialize.mutable_end_time() = base::ToProtoTime(absl::Now());
  mat::Job job;
  status = mat::MaterializationService::NewStub(stack().channel())
               ->Materialize(&materialize_ctx, materialize, &job);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_THAT(status.error_message(), HasSubstr("WRITE_ONLINE feature view 'driver_hourly_stats'"));
}

TEST_F(GatewayGrpcTest, ApplyChecksOnlyWhatReallyChanges) {
  // The repo as the CLI reads it (defaults left implicit) with only the project's description
  // changed: one UPDATE on the project, nothing on the objects the registry would not change.
  reg::ApplyRequest apply;
  *apply.mutable_repo() = stack().repo();
  apply.mutable_repo()->mutable_project()->set_description("changed by a reader");
  grpc::ClientContext ctx;
  GatewayStack::Authorize(ctx, stack().Token("ana", {"reader"}));
  ctx.AddMetadata("x-request-id", "apply-project-only");
  reg::ApplyResponse applied;
  grpc::Status status =
      reg::RegistryService::NewStub(stack().channel())->Apply(&ctx, apply, &applied);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::PERMISSION_DENIED);
  std::vector<nlohmann::json> lines = stack().AuditLines("apply-project-only");
  ASSERT_THAT(lines, SizeIs(1));
  EXPECT_EQ(lines[0]["resources"],
            nlohmann::json::array({"UPDATE+DESCRIBE project 'driver_stats'"}))
      << lines[0].dump();
}

TEST_F(GatewayGrpcTest, ARoleNoPermissionGrantsIsDenied) {
  grpc::Status status =
      ReadOnline(stack().Token("eve", {"visitor"}), Read({"driver_hourly_stats:conv_rate"}));
  EXPECT_EQ(status.error_code(), grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_THAT(status.error_message(),
              HasSubstr("'eve' may not READ_ONLINE feature view 'driver_hourly_stats'"));
}

TEST_F(GatewayGrpcTest, NamePatternsAndRequiredTagsDecide) {
  std::string pattern_reader = stack().Token("pat", {"pattern_reader"});
  EXPECT_GRPC_OK(ReadOnline(pattern_reader, Read({"driver_hourly_stats:conv_rate"})));
  serving_v1::GetOnlineFeaturesRequest on_demand =
      Read({"transformed_conv_rate:conv_rate_plus_val1"});
  (*on_demand.mutable_request_context())["val_to_add"].add_val()->set_int64_val(1);
  (*on_demand.mutable_request_context())["val_to_add"].add_val()->set_int64_val(2);
  (*on_demand.mutable_request_context())["val_to_add_2"].add_val()->set_int64_val(1);
  (*on_demand.mutable_request_context())["val_to_add_2"].add_val()->set_int64_val(2);
  grpc::Status status = ReadOnline(pattern_reader, on_demand);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::PERMISSION_DENIED) << status.error_message();
  EXPECT_THAT(status.error_message(), HasSubstr("on demand feature view 'transformed_conv_rate'"));

  // Groups: the view is tagged team=driver_performance.
  EXPECT_GRPC_OK(ReadOnline(stack().Token("dt", {}, {"driver-team"}),
                            Read({"driver_hourly_stats:conv_rate"})));
  status = ReadOnline(stack().Token("pt", {}, {"pricing-team"}),
                      Read({"driver_hourly_stats:conv_rate"}));
  EXPECT_EQ(status.error_code(), grpc::StatusCode::PERMISSION_DENIED);
}

TEST_F(GatewayGrpcTest, ListsShowOnlyWhatTheCallerMayDescribe) {
  auto list = [](const std::string& token) {
    grpc::ClientContext ctx;
    GatewayStack::Authorize(ctx, token);
    reg::ListObjectsRequest request;
    request.set_project("driver_stats");
    reg::ListPermissionsResponse response;
    grpc::Status status =
        reg::RegistryService::NewStub(stack().channel())->ListPermissions(&ctx, request, &response);
    EXPECT_TRUE(status.ok()) << status.error_message();
    std::vector<std::string> names;
    for (const auto& p : response.permissions()) names.push_back(p.name());
    return names;
  };
  // Readers may not DESCRIBE permissions; writers may DESCRIBE everything.
  EXPECT_THAT(list(stack().Token("ana", {"reader"})), IsEmpty());
  EXPECT_THAT(
      list(stack().Token("wes", {"writer"})),
      ::testing::IsSupersetOf({"readers", "writers", "driver_prefixed_readers",
                               "driver_team_readers", "other_team_readers", "limited_readers"}));

  grpc::ClientContext ctx;
  GatewayStack::Authorize(ctx, stack().Token("ana", {"reader"}));
  reg::GetObjectRequest get;
  get.set_project("driver_stats");
  get.set_name("writers");
  reg::Permission permission;
  grpc::Status status =
      reg::RegistryService::NewStub(stack().channel())->GetPermission(&ctx, get, &permission);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::PERMISSION_DENIED);
}

TEST_F(GatewayGrpcTest, PlanShowsOnlyChangesToObjectsTheCallerMayDescribe) {
  // Planning the repo without its permissions would delete them: a reader, who may not
  // DESCRIBE permissions, sees none of those changes (they carry the old values).
  reg::PlanRequest plan;
  *plan.mutable_repo() = stack().stack().repo();
  plan.mutable_repo()->clear_permissions();
  plan.mutable_repo()->mutable_feature_views(0)->set_description("planned by a reader");
  auto changes = [&](const std::string& token) {
    grpc::ClientContext ctx;
    GatewayStack::Authorize(ctx, token);
    reg::PlanResponse response;
    grpc::Status status =
        reg::RegistryService::NewStub(stack().channel())->Plan(&ctx, plan, &response);
    EXPECT_TRUE(status.ok()) << status.error_message();
    std::map<int, int> by_kind;
    for (const auto& change : response.diff().changes()) ++by_kind[change.kind()];
    return by_kind;
  };
  std::map<int, int> reader = changes(stack().Token("ana", {"reader"}));
  std::map<int, int> writer = changes(stack().Token("wes", {"writer"}));
  EXPECT_GE(writer[reg::PERMISSION], 2);
  EXPECT_EQ(reader.count(reg::PERMISSION), 0u);
  EXPECT_EQ(reader[reg::FEATURE_VIEW], writer[reg::FEATURE_VIEW]);
}

TEST_F(GatewayGrpcTest, ANewProjectIsPlannedAndCreatedThroughTheGateway) {
  reg::FeatureRepo repo;
  repo.mutable_project()->set_name("gateway_new_project");
  repo.add_entities()->set_name("rider");
  repo.mutable_entities(0)->set_join_key("rider_id");
  repo.mutable_entities(0)->set_value_type(types::v1::ValueType::INT64);
  std::string token = stack().Token("nina", {"someone"});
  auto registry = reg::RegistryService::NewStub(stack().channel());
  {
    grpc::ClientContext ctx;
    GatewayStack::Authorize(ctx, token);
    reg::PlanRequest plan;
    *plan.mutable_repo() = repo;
    reg::PlanResponse planned;
    ASSERT_GRPC_OK(registry->Plan(&ctx, plan, &planned));
    EXPECT_GE(planned.diff().changes_size(), 1);  // the caller's own objects, all shown
  }
  grpc::ClientContext ctx;
  GatewayStack::Authorize(ctx, token);
  reg::ApplyRequest apply;
  *apply.mutable_repo() = repo;
  reg::ApplyResponse applied;
  ASSERT_GRPC_OK(registry->Apply(&ctx, apply, &applied));
  EXPECT_EQ(applied.version(), 1);
  // Once it exists it is governed by its permissions (none: open), no longer "missing".
  reg::GetObjectRequest get;
  get.set_project("gateway_new_project");
  get.set_name("rider");
  reg::Entity entity;
  EXPECT_TRUE(Eventually(
      [&] {
        grpc::ClientContext c;
        GatewayStack::Authorize(c, token);
        return registry->GetEntity(&c, get, &entity).ok();
      },
      absl::Seconds(30)));
}

TEST_F(GatewayGrpcTest, BackendsRefuseForgedOrReplayedIdentities) {
  // A channel of our own: the stack's channels sign their calls as a service.
  auto serving = serving_v1::ServingService::NewStub(
      grpc::CreateChannel(stack().serving().address(), grpc::InsecureChannelCredentials()));
  const std::string method = "/granary.serving.v1.ServingService/GetOnlineFeatures";
  auto call = [&](const std::string& header) {
    grpc::ClientContext ctx;
    if (!header.empty()) ctx.AddMetadata(auth::kCallerSignatureHeader, header);
    serving_v1::GetOnlineFeaturesResponse response;
    return serving->GetOnlineFeatures(&ctx, Read({"driver_hourly_stats:conv_rate"}), &response);
  };
  auth::Identity admin{"mallory", {"writer"}, {}};
  auth::CallerSigner forger(config::Secret::FromValue("a-secret-the-backends-do-not-share"),
                            absl::Seconds(60));
  auth::CallerSigner gateway(config::Secret::FromValue(stack().signature_secret()),
                             absl::Seconds(60));
  EXPECT_EQ(call("").error_code(), grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_EQ(call(R"({"user":"mallory","roles":["writer"]})").error_code(),
            grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_EQ(call(forger.Sign(admin, method, absl::Now())).error_code(),
            grpc::StatusCode::UNAUTHENTICATED);
  // A signature the gateway made, replayed after it expired.
  grpc::Status replayed = call(gateway.Sign(admin, method, absl::Now() - absl::Minutes(10)));
  EXPECT_EQ(replayed.error_code(), grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_THAT(replayed.error_message(), HasSubstr("expired"));
  // ... or replayed on another method.
  EXPECT_EQ(call(gateway.Sign(admin, "/granary.ingestion.v1.IngestionService/Push", absl::Now()))
                .error_code(),
            grpc::StatusCode::UNAUTHENTICATED);
  // The real thing passes: the refusals were about the signature.
  EXPECT_GRPC_OK(call(gateway.Sign(admin, method, absl::Now())));

  // The registry, reached directly, refuses an unsigned Apply (and every other method).
  auto registry = reg::RegistryService::NewStub(
      grpc::CreateChannel(stack().stack().registry_address(), grpc::InsecureChannelCredentials()));
  grpc::ClientContext ctx;
  ctx.AddMetadata("x-granary-caller", "mallory");
  reg::ApplyRequest apply;
  *apply.mutable_repo() = stack().stack().repo();
  reg::ApplyResponse applied;
  EXPECT_EQ(registry->Apply(&ctx, apply, &applied).error_code(), grpc::StatusCode::UNAUTHENTICATED);
}

TEST_F(GatewayGrpcTest, PastItsRateLimitACallerIsToldWhenToRetry) {
  std::string limited = stack().Token("lim", {"limited"});
  EXPECT_GRPC_OK(ReadOnline(limited, Read({"driver_hourly_stats:conv_rate"})));
  grpc::ClientContext ctx;
  GatewayStack::Authorize(ctx, limited);
  ctx.AddMetadata("x-request-id", "rate-limited");
  serving_v1::GetOnlineFeaturesResponse response;
  grpc::Status status =
      serving_v1::ServingService::NewStub(stack().channel())
          ->GetOnlineFeatures(&ctx, Read({"driver_hourly_stats:conv_rate"}), &response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED);
  auto retry = ctx.GetServerTrailingMetadata().find("retry-after");
  ASSERT_NE(retry, ctx.GetServerTrailingMetadata().end());
  int seconds = std::stoi(std::string(retry->second.data(), retry->second.size()));
  EXPECT_GT(seconds, 0);
  std::vector<nlohmann::json> lines = stack().AuditLines("rate-limited");
  ASSERT_THAT(lines, SizeIs(1));
  EXPECT_EQ(lines[0]["decision"], "rate_limited");
}

}  // namespace
}  // namespace granary::testing
