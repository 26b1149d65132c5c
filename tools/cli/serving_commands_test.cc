#include "tools/cli/serving_commands.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"

#include "libs/testing/status_matchers.h"

namespace granary::cli {
namespace {

using ::granary::testing::StatusIs;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using types::v1::ValueType;

TEST(BuildOnlineRequestTest, TypesEntityValuesByTheRegistrysEntities) {
  OnlineQuery q{.project = "p",
                .features = {"v:a,v:b", " w:c"},
                .entities = {"driver_id=1001,1002", "user_id=007,abc"},
                .full_feature_names = true};
  ASSERT_OK_AND_ASSIGN(auto req, BuildOnlineRequest(q, {{"driver_id", ValueType::INT64},
                                                        {"user_id", ValueType::STRING}}));
  EXPECT_EQ(req.project(), "p");
  EXPECT_TRUE(req.full_feature_names());
  EXPECT_THAT(req.features().val(), ElementsAre("v:a", "v:b", "w:c"));
  EXPECT_EQ(req.entities().at("driver_id").val(1).int64_val(), 1002);
  EXPECT_EQ(req.entities().at("user_id").val(0).string_val(), "007");  // a string, as declared
  EXPECT_EQ(req.entities().at("user_id").val(1).string_val(), "abc");
}

TEST(BuildOnlineRequestTest, GuessesWithoutTheRegistry) {
  OnlineQuery q{.feature_service = "svc", .entities = {"id=12,13"}};
  ASSERT_OK_AND_ASSIGN(auto req, BuildOnlineRequest(q, {}));
  EXPECT_EQ(req.feature_service(), "svc");
  EXPECT_EQ(req.entities().at("id").val(0).int64_val(), 12);
  EXPECT_EQ(req.entities().at("id").val(1).int64_val(), 13);
}

TEST(BuildOnlineRequestTest, BadInputNamesTheFlag) {
  EXPECT_THAT(BuildOnlineRequest({.entities = {"a=1"}}, {}),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("--feature-service")));
  EXPECT_THAT(BuildOnlineRequest({.features = {"v:a"}, .feature_service = "s"}, {}),
              StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(BuildOnlineRequest({.features = {"v:a"}, .entities = {"1001"}}, {}),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("join_key=value")));
  EXPECT_THAT(BuildOnlineRequest({.features = {"v:a"}, .entities = {"id=1", "id=2"}}, {}),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("given twice")));
  EXPECT_THAT(
      BuildOnlineRequest({.features = {"v:a"}, .entities = {"id=1,x"}}, {{"id", ValueType::INT64}}),
      StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("--entity id[1]")));
  EXPECT_THAT(BuildOnlineRequest({.features = {","}, .entities = {"id=1"}}, {}),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("no feature references")));
}

TEST(BuildOnlineRequestTest, WithoutTheRegistryEachColumnIsTypedAsPushGuessesIt) {
  ASSERT_OK_AND_ASSIGN(auto ints,
                       BuildOnlineRequest({.features = {"v:a"}, .entities = {"id=1,2"}}, {}));
  EXPECT_EQ(ints.entities().at("id").val(1).int64_val(), 2);
  // One value that is not an integer makes the whole column STRING, the first value too.
  ASSERT_OK_AND_ASSIGN(auto mixed,
                       BuildOnlineRequest({.features = {"v:a"}, .entities = {"id=007,x"}}, {}));
  EXPECT_EQ(mixed.entities().at("id").val(0).string_val(), "007");
  EXPECT_EQ(mixed.entities().at("id").val(1).string_val(), "x");
}

TEST(BuildOnlineRequestTest, RequestColumnsAreTypedLikeEntities) {
  ASSERT_OK_AND_ASSIGN(
      auto req,
      BuildOnlineRequest({.features = {"transformed_conv_rate:conv_rate_plus_val1"},
                          .entities = {"driver_id=1001,1002"},
                          .request = {"val_to_add=10,20"}},
                         {{"driver_id", ValueType::INT64}, {"val_to_add", ValueType::DOUBLE}}));
  ASSERT_EQ(req.request_context().at("val_to_add").val_size(), 2);
  EXPECT_DOUBLE_EQ(req.request_context().at("val_to_add").val(1).double_val(), 20);
  EXPECT_THAT(BuildOnlineRequest({.features = {"v:a"}, .request = {"oops"}}, {}),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("--request")));
}

TEST(OnlineTableTest, OneLinePerEntityAndFeature) {
  serving::v1::GetOnlineFeaturesResponse r;
  for (const char* n : {"driver_id", "conv_rate"})
    r.mutable_metadata()->mutable_feature_names()->add_val(n);
  auto* keys = r.add_results();
  keys->add_values()->set_int64_val(1001);
  keys->add_values()->set_int64_val(9999);
  keys->add_statuses(serving::v1::PRESENT);
  keys->add_statuses(serving::v1::PRESENT);
  keys->add_event_timestamps();
  keys->add_event_timestamps();
  auto* conv = r.add_results();
  conv->add_values()->set_float_val(0.5f);
  conv->add_values();
  conv->add_statuses(serving::v1::PRESENT);
  conv->add_statuses(serving::v1::NOT_FOUND);
  conv->add_event_timestamps()->set_seconds(1'700'000'000);
  conv->add_event_timestamps();
  auto table = OnlineTable(r, 1);
  ASSERT_EQ(table.size(), 3u);
  EXPECT_THAT(table[0], ElementsAre("driver_id", "feature", "value", "status", "event_time"));
  EXPECT_THAT(table[1], ElementsAre("1001", "conv_rate", "0.5", "PRESENT", "2023-11-14T22:13:20Z"));
  EXPECT_THAT(table[2], ElementsAre("9999", "conv_rate", "-", "NOT_FOUND", "-"));
}

}  // namespace
}  // namespace granary::cli
