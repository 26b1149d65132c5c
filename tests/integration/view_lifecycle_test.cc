// What happens to pushed data when its feature view goes, on the shared stack: batches in the
// stream for a view deleted meanwhile are dead-lettered with the reason (nothing written); a
// view deleted and created again under the same name never serves the old incarnation's
// values, even before they are removed; and the removal that follows deletes them from Redis
// (only that project's, only that incarnation's), as does deleting the whole project.
#include <vector>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "granary/registry/v1/registry_service.grpc.pb.h"
#include "granary/registry/v1/repo.pb.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"

#include "libs/bus/streams.h"
#include "libs/keys/entity_key.h"
#include "libs/keys/hash_field.h"
#include "libs/redis/client.h"
#include "libs/testing/eventually.h"
#include "libs/testing/status_matchers.h"
#include "tests/integration/ingestion_harness.h"

namespace granary::integration {
namespace {

using ingestion::v1::ONLINE_AND_OFFLINE;
using testing::Eventually;
using ::testing::HasSubstr;

constexpr absl::Duration kWait = absl::Seconds(60);

// The example repo without driver_hourly_stats (and the feature service that uses it).
registry::v1::FeatureRepo WithoutTheView(registry::v1::FeatureRepo repo) {
  repo.clear_feature_views();
  repo.clear_feature_services();
  repo.clear_on_demand_feature_views();  // they read the view
  return repo;
}

std::string Key(int64_t driver, const std::string& project) {
  types::v1::Value id;
  id.set_int64_val(driver);
  return *keys::RedisKey({{"driver_id", id}}, project);
}

TEST(ViewLifecycleTest, BatchesForAViewDeletedMeanwhileAreDeadLetteredWithTheReason) {
  ASSERT_OK_AND_ASSIGN(auto h, IngestionHarness::Start({.materializers = 0}));
  for (int b = 0; b < 3; ++b) {
    ASSERT_TRUE(
        h->Push(h->Request(absl::StrCat("d", b), {{b, h->Now(), b}}, ONLINE_AND_OFFLINE)).ok());
  }
  // The precondition: the batches wait in the stream, written nowhere.
  EXPECT_EQ(h->StreamMessages(bus::kPushStream), 3);
  EXPECT_EQ(h->Count("SELECT count(*) FROM driver_stats"), 0);
  ASSERT_OK(h->stack().Apply(WithoutTheView(h->stack().repo())).status());
  ASSERT_OK(h->StartMaterializer().status());
  ASSERT_TRUE(Eventually(
      [&] {
        absl::StatusOr<std::vector<events::v1::DeadLetter>> letters = h->DeadLetters();
        return letters.ok() && letters->size() == 6;  // three batches, two writers
      },
      kWait));
  ASSERT_OK_AND_ASSIGN(std::vector<events::v1::DeadLetter> letters, h->DeadLetters());
  for (const auto& letter : letters) {
    EXPECT_THAT(letter.reason(), HasSubstr("feature view driver_hourly_stats is no longer in "
                                           "project driver_stats"));
    EXPECT_EQ(letter.subject(), "granary.push.driver_stats.driver_hourly_stats");
    events::v1::PushBatch batch;
    EXPECT_TRUE(batch.ParseFromString(letter.payload()));  // kept whole, for a replay
  }
  EXPECT_EQ(h->Count("SELECT count(*) FROM driver_stats"), 0);
}

TEST(ViewLifecycleTest, AViewCreatedAgainNeverServesTheOldValuesWhichAreThenRemoved) {
  ASSERT_OK_AND_ASSIGN(auto h, IngestionHarness::Start());
  const registry::v1::FeatureRepo original = h->stack().repo();
  constexpr int kDrivers = 50;
  std::vector<DriverRow> rows;
  std::vector<int64_t> drivers;
  for (int d = 0; d < kDrivers; ++d) {
    rows.push_back({d, h->Now(), 100 + d});
    drivers.push_back(d);
  }
  ASSERT_TRUE(h->Push(h->Request("old", rows, ONLINE_AND_OFFLINE)).ok());
  ASSERT_TRUE(Eventually(
      [&] {
        auto served = h->ReadAll(drivers);
        if (!served.ok()) return false;
        for (const auto& [d, s] : *served) {
          if (s.status != serving::v1::PRESENT) return false;
        }
        return true;
      },
      kWait));
  // A project whose name ends the same way, with a row under the same view and key.
  redis::RedisOptions options;
  options.host = h->stack().redis().host();
  options.port = h->stack().redis().port();
  redis::Client raw(options);
  const std::string ts_field = keys::TimestampField(kView);
  ASSERT_OK(raw.Command({"HSET", Key(1, "other_driver_stats"), ts_field, "x"}));

  // No worker runs while the view is deleted and created again: nothing removes the old rows.
  ASSERT_OK(h->materializer(0).Stop());
  ASSERT_OK(h->stack().Apply(WithoutTheView(original)).status());
  ASSERT_OK(h->stack().Apply(original).status());
  // The precondition: the old rows are all still in Redis.
  for (int d = 0; d < kDrivers; ++d) {
    ASSERT_OK_AND_ASSIGN(redis::Reply held,
                         raw.Command({"HEXISTS", Key(d, "driver_stats"), ts_field}));
    ASSERT_EQ(held.integer, 1) << d;
  }
  // Serving never answers the new view with them.
  ASSERT_TRUE(Eventually(
      [&] {
        auto served = h->ReadAll(drivers);
        if (!served.ok()) return false;
        for (const auto& [d, s] : *served) {
          if (s.status != serving::v1::NOT_FOUND) return false;
        }
        return true;
      },
      kWait));

  // A worker again: the removal runs, and a row pushed for the new view is served.
  ASSERT_OK(h->materializer(0).Restart());
  ASSERT_TRUE(Eventually(
      [&] {
        return h->Push(h->Request("new", {{7, h->Now(), 7}}, ONLINE_AND_OFFLINE)).ok();
      },
      kWait));
  ASSERT_TRUE(Eventually(
      [&] {
        for (int d = 0; d < kDrivers; ++d) {
          if (d == 7) continue;
          absl::StatusOr<redis::Reply> held = raw.Command({"EXISTS", Key(d, "driver_stats")});
          if (!held.ok() || held->integer != 0) return false;
        }
        return true;
      },
      kWait));
  ASSERT_TRUE(Eventually(
      [&] {
        absl::StatusOr<Served> s = h->Read(7);
        return s.ok() && s->status == serving::v1::PRESENT && s->trips == 7;
      },
      kWait));
  ASSERT_OK_AND_ASSIGN(redis::Reply untouched,
                       raw.Command({"HEXISTS", Key(1, "other_driver_stats"), ts_field}));
  EXPECT_EQ(untouched.integer, 1);
}

TEST(ViewLifecycleTest, DeletingAProjectRemovesItsOnlineDataAndOnlyItsOwn) {
  ASSERT_OK_AND_ASSIGN(auto h, IngestionHarness::Start());
  constexpr int kDrivers = 20;
  std::vector<DriverRow> rows;
  for (int d = 0; d < kDrivers; ++d) rows.push_back({d, h->Now(), d});
  ASSERT_TRUE(h->Push(h->Request("p", rows, ONLINE_AND_OFFLINE)).ok());
  redis::RedisOptions options;
  options.host = h->stack().redis().host();
  options.port = h->stack().redis().port();
  redis::Client raw(options);
  const std::string ts_field = keys::TimestampField(kView);
  // The precondition: every row is in Redis.
  ASSERT_TRUE(Eventually(
      [&] {
        for (int d = 0; d < kDrivers; ++d) {
          absl::StatusOr<redis::Reply> held =
              raw.Command({"HEXISTS", Key(d, "driver_stats"), ts_field});
          if (!held.ok() || held->integer != 1) return false;
        }
        return true;
      },
      kWait));
  // A project whose name ends the same way, with a row under the same view and key.
  ASSERT_OK(raw.Command({"HSET", Key(1, "other_driver_stats"), ts_field, "x"}));

  auto registry = registry::v1::RegistryService::NewStub(h->stack().registry_channel());
  registry::v1::DeleteProjectRequest req;
  req.set_project("driver_stats");
  req.set_allow_breaking(true);
  registry::v1::DeleteProjectResponse resp;
  grpc::ClientContext ctx;
  grpc::Status deleted = registry->DeleteProject(&ctx, req, &resp);
  ASSERT_TRUE(deleted.ok()) << deleted.error_message();

  ASSERT_TRUE(Eventually(
      [&] {
        for (int d = 0; d < kDrivers; ++d) {
          absl::StatusOr<redis::Reply> held = raw.Command({"EXISTS", Key(d, "driver_stats")});
          if (!held.ok() || held->integer != 0) return false;
        }
        return true;
      },
      kWait));
  ASSERT_OK_AND_ASSIGN(redis::Reply untouched,
                       raw.Command({"HEXISTS", Key(1, "other_driver_stats"), ts_field}));
  EXPECT_EQ(untouched.integer, 1);
}

}  // namespace
}  // namespace granary::integration
