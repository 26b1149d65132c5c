#include "services/serving/read_plan.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"

#include "libs/keys/entity_key.h"
#include "libs/keys/hash_field.h"
#include "libs/testing/status_matchers.h"
#include "services/serving/test_catalog.h"

namespace granary::serving {
namespace {

using ::granary::testing::StatusIs;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

v1::GetOnlineFeaturesRequest Refs(std::vector<std::string> refs, bool full = false) {
  v1::GetOnlineFeaturesRequest r;
  for (auto& ref : refs) r.mutable_features()->add_val(ref);
  r.set_full_feature_names(full);
  return r;
}

v1::GetOnlineFeaturesRequest Service(const std::string& name, bool full = false) {
  v1::GetOnlineFeaturesRequest r;
  r.set_feature_service(name);
  r.set_full_feature_names(full);
  return r;
}

absl::StatusOr<std::shared_ptr<const ReadPlan>> Plan(const v1::GetOnlineFeaturesRequest& r,
                                                     const ReadPlanOptions& options = {}) {
  static auto catalog = testing::TestCatalog("shop");
  absl::StatusOr<FeatureSelection> s = FeatureSelection::FromRequest(r);
  if (!s.ok()) return s.status();
  return BuildReadPlan(*catalog, *s, options);
}

TEST(ReadPlanTest, ViewsOfOneEntityShareOneGroupWithTimestampsFirst) {
  ASSERT_OK_AND_ASSIGN(
      auto plan,
      Plan(Refs({"driver_stats:conv_rate", "driver_profile:name", "driver_stats:trips"})));
  EXPECT_EQ(plan->project, "shop");
  ASSERT_EQ(plan->join_keys.size(), 1u);
  EXPECT_EQ(plan->join_keys[0].name, "driver_id");
  EXPECT_EQ(plan->join_keys[0].type, types::v1::ValueType::INT64);
  EXPECT_THAT(plan->feature_names, ElementsAre("conv_rate", "name", "trips"));
  ASSERT_EQ(plan->groups.size(), 1u);
  const KeyGroup& g = plan->groups[0];
  EXPECT_EQ(g.key_prefix, keys::JoinKeysPrefix({"driver_id"}));
  ASSERT_EQ(g.views.size(), 2u);
  EXPECT_EQ(g.views[0].name, "driver_stats");
  EXPECT_EQ(g.views[0].ttl, absl::Hours(1));
  EXPECT_EQ(g.views[1].ttl, absl::ZeroDuration());
  EXPECT_THAT(
      g.fields,
      ElementsAre(keys::TimestampField("driver_stats"), keys::TimestampField("driver_profile"),
                  keys::CreatedField("driver_stats"), keys::CreatedField("driver_profile"),
                  keys::FeatureField("driver_stats", "conv_rate"),
                  keys::FeatureField("driver_profile", "name"),
                  keys::FeatureField("driver_stats", "trips")));
  ASSERT_EQ(g.features.size(), 3u);
  EXPECT_EQ(g.features[1].view, 1);
  EXPECT_THAT(g.features[1].columns, ElementsAre(1));
}

TEST(ReadPlanTest, DifferentKeysMakeDifferentGroups) {
  ASSERT_OK_AND_ASSIGN(
      auto plan, Plan(Refs({"driver_customer:orders", "driver_stats:trips", "zone_demand:demand",
                            "global_stats:active_drivers"})));
  // Join keys in order of first use; the composite group's keys in name order.
  ASSERT_EQ(plan->join_keys.size(), 3u);
  EXPECT_EQ(plan->join_keys[0].name, "customer_id");
  EXPECT_EQ(plan->join_keys[1].name, "driver_id");
  EXPECT_EQ(plan->join_keys[2].name, "zone_id");
  ASSERT_EQ(plan->groups.size(), 4u);
  EXPECT_THAT(plan->groups[0].join_keys, ElementsAre(0, 1));
  EXPECT_EQ(plan->groups[0].key_prefix, keys::JoinKeysPrefix({"customer_id", "driver_id"}));
  EXPECT_THAT(plan->groups[1].join_keys, ElementsAre(1));
  EXPECT_THAT(plan->groups[2].join_keys, ElementsAre(2));
  EXPECT_TRUE(plan->groups[3].join_keys.empty());
  EXPECT_EQ(plan->groups[3].key_prefix, keys::JoinKeysPrefix({keys::kDummyJoinKey}));
}

TEST(ReadPlanTest, FeatureServicesUseAliasesInFullNames) {
  ASSERT_OK_AND_ASSIGN(auto plan, Plan(Service("ranking", /*full=*/true)));
  EXPECT_THAT(plan->feature_names, ElementsAre("driver_stats__conv_rate", "driver_stats__acc_rate",
                                               "profile__name", "profile__rating"));
  // The stored fields are the view's, whatever the alias.
  EXPECT_EQ(plan->groups[0].fields[6], keys::FeatureField("driver_profile", "name"));
}

TEST(ReadPlanTest, OneFieldCanFillTwoColumns) {
  ASSERT_OK_AND_ASSIGN(auto plan, Plan(Service("twice", /*full=*/true)));
  EXPECT_THAT(plan->feature_names, ElementsAre("a__conv_rate", "b__conv_rate"));
  ASSERT_EQ(plan->groups[0].features.size(), 1u);
  EXPECT_THAT(plan->groups[0].features[0].columns, ElementsAre(0, 1));
}

TEST(ReadPlanTest, ClashingNamesNeedFullNames) {
  EXPECT_THAT(Plan(Service("twice")),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("full feature names")));
  EXPECT_THAT(Plan(Refs({"driver_stats:trips", "driver_stats:trips"})),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("'trips'")));
  EXPECT_OK(Plan(Refs({"driver_stats:trips", "driver_customer:orders"})));
}

TEST(ReadPlanTest, UnknownThingsAreNotFoundByName) {
  EXPECT_THAT(Plan(Refs({"driver_stats:trips", "nope:x"})),
              StatusIs(absl::StatusCode::kNotFound,
                       HasSubstr("features.val[1]: feature view 'nope' not found")));
  EXPECT_THAT(Plan(Refs({"driver_stats:nope"})),
              StatusIs(absl::StatusCode::kNotFound, HasSubstr("has no feature 'nope'")));
  EXPECT_THAT(Plan(Service("nope")),
              StatusIs(absl::StatusCode::kNotFound, HasSubstr("feature service 'nope'")));
}

TEST(ReadPlanTest, WhatCannotBeServedSaysWhy) {
  EXPECT_THAT(Plan(Refs({"offline_only:history"})),
              StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("online: false")));
}

TEST(ReadPlanTest, AnOnDemandViewReadsItsSourcesInTheSameRoundTripWithoutReturningThem) {
  ASSERT_OK_AND_ASSIGN(auto plan, Plan(Refs({"conv_plus:conv_rate_plus"})));
  EXPECT_THAT(plan->feature_names, ElementsAre("conv_rate_plus"));
  // conv_rate is read into a hidden column after the response's.
  EXPECT_EQ(plan->hidden_columns, 1u);
  ASSERT_EQ(plan->on_demand.size(), 1u);
  const PlannedOnDemand& od = plan->on_demand[0];
  EXPECT_EQ(od.view, "conv_plus");
  ASSERT_EQ(od.inputs.size(), 1u);
  EXPECT_EQ(od.inputs[0].column, 1);
  EXPECT_THAT(od.outputs, ElementsAre(ElementsAre(0)));
  ASSERT_EQ(plan->groups.size(), 1u);
  EXPECT_THAT(plan->groups[0].fields,
              ::testing::Contains(keys::FeatureField("driver_stats", "conv_rate")));
  ASSERT_NE(plan->repo, nullptr);

  // Asked for as well, the source fills its own column, read once.
  ASSERT_OK_AND_ASSIGN(plan, Plan(Refs({"driver_stats:conv_rate", "conv_plus:conv_rate_plus"})));
  EXPECT_EQ(plan->hidden_columns, 0u);
  EXPECT_EQ(plan->on_demand[0].inputs[0].column, 0);
  EXPECT_OK(Plan(Service("with_odfv")));
}

TEST(ReadPlanTest, MalformedRequestsAreInvalid) {
  EXPECT_THAT(Plan(Refs({"driver_stats:trips", "no_colon"})),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("features.val[1]")));
  EXPECT_THAT(Plan(Refs({":x"})), StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(Plan(Refs({"v:"})), StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(Plan(Refs({})), StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(Plan(v1::GetOnlineFeaturesRequest()),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("feature_service")));
  EXPECT_THAT(Plan(Service("")), StatusIs(absl::StatusCode::kInvalidArgument));
}

TEST(ReadPlanTest, ConflictingJoinKeyTypesAreRefused) {
  registry::v1::FeatureRepo repo = testing::TestRepo("shop");
  auto* other = repo.add_entities();
  other->set_name("driver_as_text");
  other->set_join_key("driver_id");
  other->set_value_type(types::v1::ValueType::STRING);
  auto* view = repo.add_feature_views();
  view->set_name("text_keyed");
  view->add_entities("driver_as_text");
  auto* field = view->add_schema();
  field->set_name("x");
  field->set_dtype(types::v1::ValueType::INT64);
  auto catalog = testing::CatalogOf(repo);
  ASSERT_OK_AND_ASSIGN(auto selection,
                       FeatureSelection::FromRequest(Refs({"driver_stats:trips", "text_keyed:x"})));
  EXPECT_THAT(BuildReadPlan(*catalog, selection),
              StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("join key 'driver_id'")));
}

// The catalog stores 9 fields under driver_id (driver_stats: 2 + 3 features, driver_profile:
// 2 + 2; offline_only is not online) and 3 under no key (global_stats).
TEST(ReadPlanTest, AGroupAskingForMostOfItsHashReadsItWhole) {
  // 7 of 9 is 0.778: whole at a share of 0.77, by field at 0.78 (12 stored, counting the
  // offline view, would be by field at both).
  ASSERT_OK_AND_ASSIGN(
      auto most, Plan(Refs({"driver_stats:conv_rate", "driver_profile:name", "driver_stats:trips"}),
                      {.whole_hash_share = 0.77}));
  const KeyGroup& g = most->groups[0];
  ASSERT_EQ(g.fields.size(), 7u);
  EXPECT_TRUE(g.read_whole);
  ASSERT_EQ(g.positions.size(), g.fields.size());
  for (size_t i = 0; i < g.fields.size(); ++i) {
    auto it = g.positions.find(g.fields[i]);
    ASSERT_NE(it, g.positions.end());
    EXPECT_EQ(it->second, i);
  }
  ASSERT_OK_AND_ASSIGN(auto keyless, Plan(Refs({"global_stats:active_drivers"})));
  EXPECT_TRUE(keyless->groups[0].read_whole);  // 3 of 3, under the dummy key
}

TEST(ReadPlanTest, AGroupAskingForLessThanTheShareReadsByField) {
  ASSERT_OK_AND_ASSIGN(auto few, Plan(Refs({"driver_stats:conv_rate"}), {0.34}));  // 3 of 9
  EXPECT_FALSE(few->groups[0].read_whole);
  EXPECT_TRUE(few->groups[0].positions.empty());
  const auto most = Refs({"driver_stats:conv_rate", "driver_profile:name", "driver_stats:trips"});
  ASSERT_OK_AND_ASSIGN(auto strict, Plan(most, {.whole_hash_share = 0.78}));  // 7 of 9
  EXPECT_FALSE(strict->groups[0].read_whole);
  ASSERT_OK_AND_ASSIGN(auto never, Plan(most, {.whole_hash_share = 0}));
  EXPECT_FALSE(never->groups[0].read_whole);
  ASSERT_OK_AND_ASSIGN(auto keyless, Plan(Refs({"global_stats:active_drivers"}), {0}));
  EXPECT_FALSE(keyless->groups[0].read_whole);
}

TEST(ReadPlanTest, TheDefaultShareIsThreeQuarters) {
  EXPECT_EQ(ReadPlanOptions().whole_hash_share, 0.75);
  // 7 of 9 (0.78) is read whole, 6 of 9 (0.67) by field.
  ASSERT_OK_AND_ASSIGN(
      auto seven,
      Plan(Refs({"driver_stats:conv_rate", "driver_profile:name", "driver_stats:trips"})));
  EXPECT_TRUE(seven->groups[0].read_whole);
  ASSERT_OK_AND_ASSIGN(auto six, Plan(Refs({"driver_stats:conv_rate", "driver_profile:name"})));
  ASSERT_EQ(six->groups[0].fields.size(), 6u);
  EXPECT_FALSE(six->groups[0].read_whole);
}

}  // namespace
}  // namespace granary::serving
