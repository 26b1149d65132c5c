#include "services/serving/entity_keys.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"

#include "libs/keys/entity_key.h"
#include "libs/testing/status_matchers.h"
#include "libs/testing/values.h"
#include "services/serving/test_catalog.h"

namespace granary::serving {
namespace {

using ::granary::testing::Int32;
using ::granary::testing::Int64;
using ::granary::testing::StatusIs;
using ::granary::testing::Str;
using ::testing::HasSubstr;
using types::v1::Value;

std::shared_ptr<const ReadPlan> PlanFor(std::vector<std::string> refs) {
  static auto catalog = testing::TestCatalog("shop");
  v1::GetOnlineFeaturesRequest r;
  for (auto& ref : refs) r.mutable_features()->add_val(ref);
  auto plan = BuildReadPlan(*catalog, *FeatureSelection::FromRequest(r));
  EXPECT_OK(plan);
  return *plan;
}

EntityColumns Columns(std::vector<std::pair<std::string, std::vector<Value>>> columns) {
  EntityColumns out;
  for (auto& [name, values] : columns) {
    types::v1::RepeatedValue& column = out[name];
    for (auto& v : values) *column.add_val() = v;
  }
  return out;
}

std::string Key(std::vector<std::pair<std::string, Value>> join_keys) {
  auto key = keys::RedisKey(std::move(join_keys), "shop");
  EXPECT_OK(key);
  return *key;
}

TEST(EntityKeysTest, OneKeyPerRowAndGroupInFeastsLayout) {
  auto plan =
      PlanFor({"driver_customer:orders", "driver_stats:trips", "global_stats:active_drivers"});
  EntityKeys keys;
  // The keys point into the request's columns: they outlive the keys, as in a request.
  EntityColumns columns =
      Columns({{"driver_id", {Int64(1), Int64(2)}}, {"customer_id", {Str("c1"), Str("c2")}}});
  ASSERT_OK(keys.Build(*plan, columns, 100));
  ASSERT_EQ(keys.rows(), 2u);
  ASSERT_EQ(keys.gets().size(), 6u);
  EXPECT_EQ(keys.gets()[0].key, Key({{"driver_id", Int64(1)}, {"customer_id", Str("c1")}}));
  EXPECT_EQ(keys.gets()[1].key, Key({{"driver_id", Int64(1)}}));
  EXPECT_EQ(keys.gets()[2].key, Key({{keys::kDummyJoinKey, Str("")}}));
  EXPECT_EQ(keys.gets()[3].key, Key({{"driver_id", Int64(2)}, {"customer_id", Str("c2")}}));
  EXPECT_EQ(keys.gets()[5].key, Key({{keys::kDummyJoinKey, Str("")}}));
  EXPECT_EQ(keys.gets()[4].fields, &plan->groups[1].fields);
  // The request's columns, in plan order.
  ASSERT_EQ(keys.columns().size(), 2u);
  EXPECT_EQ(keys.columns()[0]->val(1).string_val(), "c2");
}

TEST(EntityKeysTest, SameNumberInAnotherIntegerWidthIsTheSameEntity) {
  auto drivers = PlanFor({"driver_stats:trips"});
  EntityKeys keys;
  ASSERT_OK(keys.Build(*drivers, Columns({{"driver_id", {Int32(7)}}}), 10));
  EXPECT_EQ(keys.gets()[0].key, Key({{"driver_id", Int64(7)}}));
  auto zones = PlanFor({"zone_demand:demand"});
  ASSERT_OK(keys.Build(*zones, Columns({{"zone_id", {Int64(12)}}}), 10));
  EXPECT_EQ(keys.gets()[0].key, Key({{"zone_id", Int32(12)}}));
  EXPECT_THAT(keys.Build(*zones, Columns({{"zone_id", {Int64(1), Int64(int64_t{1} << 40)}}}), 10),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("entities.zone_id[1]")));
}

TEST(EntityKeysTest, EntityLessViewsReadOneRow) {
  auto plan = PlanFor({"global_stats:active_drivers"});
  EntityKeys keys;
  ASSERT_OK(keys.Build(*plan, EntityColumns(), 10));
  EXPECT_EQ(keys.rows(), 1u);
  EXPECT_EQ(keys.gets()[0].key, Key({{keys::kDummyJoinKey, Str("")}}));
}

TEST(EntityKeysTest, BadRowsAreNamed) {
  auto plan = PlanFor({"driver_customer:orders"});
  EntityKeys keys;
  EXPECT_THAT(
      keys.Build(*plan, Columns({{"driver_id", {Int64(1)}}}), 10),
      StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("missing join key 'customer_id'")));
  EXPECT_THAT(
      keys.Build(*plan, Columns({{"driver_id", {Int64(1), Int64(2)}}, {"customer_id", {Str("c")}}}),
                 10),
      StatusIs(absl::StatusCode::kInvalidArgument,
               HasSubstr("entities.driver_id: 2 values, but entities.customer_id has 1")));
  EXPECT_THAT(keys.Build(*plan,
                         Columns({{"driver_id", {Int64(1), Str("two")}},
                                  {"customer_id", {Str("a"), Str("b")}}}),
                         10),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("entities.driver_id[1]: entity 'driver' has INT64 keys; got a "
                                 "STRING value")));
  EXPECT_THAT(keys.Build(*plan,
                         Columns({{"driver_id", {Int64(1)}},
                                  {"customer_id", {Str("a")}},
                                  {"typo_id", {Int64(1)}}}),
                         10),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("entities.typo_id")));
  EXPECT_THAT(keys.Build(*plan, Columns({{"driver_id", {}}, {"customer_id", {}}}), 10),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("no entity rows")));
  EXPECT_THAT(keys.Build(*plan,
                         Columns({{"driver_id", {Int64(1), Int64(2), Int64(3)}},
                                  {"customer_id", {Str("a"), Str("b"), Str("c")}}}),
                         2),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("limit of 2")));
  Value null_value;
  null_value.set_null_val(types::v1::NULL_);
  EXPECT_THAT(
      keys.Build(*plan, Columns({{"driver_id", {null_value}}, {"customer_id", {Str("a")}}}), 10),
      StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("got a null")));
}

}  // namespace
}  // namespace granary::serving
