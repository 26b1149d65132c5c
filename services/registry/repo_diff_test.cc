#include "services/registry/repo_diff.h"

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "google/protobuf/text_format.h"
#include "granary/registry/v1/objects.pb.h"
#include "gtest/gtest.h"

#include "libs/catalog/normalize.h"
#include "services/registry/field_diff.h"

namespace granary::registry {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ValueType = types::v1::ValueType;

constexpr char kRepo[] = R"pb(
  project { name: "p" }
  entities { name: "driver" join_key: "driver_id" value_type: INT64 }
  data_sources {
    name: "src"
    postgres { table: "t" }
    timestamp_field: "ts"
  }
  feature_views {
    name: "stats"
    entities: "driver"
    schema { name: "conv_rate" dtype: FLOAT }
    schema { name: "acc_rate" dtype: FLOAT }
    schema { name: "trips" dtype: INT64 }
    ttl { seconds: 86400 }
    batch_source: "src"
    tags { key: "team" value: "a" }
  }
  feature_services {
    name: "explicit"
    features { feature_view: "stats" features: "conv_rate" }
  }
)pb";

v1::FeatureRepo Repo() {
  v1::FeatureRepo repo;
  EXPECT_TRUE(google::protobuf::TextFormat::ParseFromString(kRepo, &repo));
  catalog::Normalize(&repo);
  return repo;
}

v1::FeatureRepo Normalized(v1::FeatureRepo repo) {
  catalog::Normalize(&repo);
  return repo;
}

std::string Describe(const v1::FieldChange& c) {
  return c.path() + ": " + c.old_value() + " -> " + c.new_value();
}

TEST(FieldDiffTest, ScalarsEnumsDurationsMapsAndNamedLists) {
  v1::FeatureRepo a = Repo();
  v1::FeatureView after = a.feature_views(0);
  after.mutable_schema(0)->set_dtype(ValueType::DOUBLE);  // retyped
  after.mutable_schema()->DeleteSubrange(1, 1);           // acc_rate removed
  auto* added = after.add_schema();
  added->set_name("speed");
  added->set_dtype(ValueType::FLOAT);
  after.mutable_ttl()->set_seconds(3600);
  (*after.mutable_tags())["team"] = "b";
  (*after.mutable_tags())["tier"] = "gold";
  after.set_description("hourly");
  after.set_online(false);
  std::vector<v1::FieldChange> changes = DiffFields(a.feature_views(0), after);
  std::vector<std::string> text;
  for (const auto& c : changes) text.push_back(Describe(c));
  EXPECT_THAT(text, ::testing::UnorderedElementsAre(
                        "schema[conv_rate].dtype: FLOAT -> DOUBLE",
                        HasSubstr("schema[acc_rate]: {name: \"acc_rate\" dtype: FLOAT} -> "),
                        HasSubstr("schema[speed]:  -> {name: \"speed\""), "ttl: 24h -> 1h",
                        "tags.team: a -> b", "tags.tier:  -> gold", "description:  -> hourly",
                        "online: true -> false"));
}

TEST(FieldDiffTest, ReorderingANamedListIsAChange) {
  v1::FeatureRepo a = Repo();
  v1::FeatureView after = a.feature_views(0);
  after.mutable_schema()->SwapElements(0, 1);
  std::vector<v1::FieldChange> changes = DiffFields(a.feature_views(0), after);
  ASSERT_EQ(changes.size(), 1u);
  EXPECT_EQ(Describe(changes[0]),
            "schema (order): conv_rate, acc_rate, trips -> acc_rate, conv_rate, trips");
}

TEST(FieldDiffTest, OutputOnlyFieldsAreNeverChanges) {
  v1::FeatureRepo a = Repo();
  v1::FeatureView after = a.feature_views(0);
  after.mutable_meta()->set_updated_version(7);
  after.add_materialization_intervals()->set_job_id("j");
  EXPECT_THAT(DiffFields(a.feature_views(0), after), IsEmpty());
}

TEST(RepoDiffTest, SameRepoIsANoOp) {
  v1::Diff diff = DiffRepos(Repo(), Repo());
  EXPECT_THAT(diff.changes(), IsEmpty());
  EXPECT_FALSE(diff.breaking());
}

TEST(RepoDiffTest, CreatesUpdatesDeletesInKindThenNameOrder) {
  v1::FeatureRepo current = Repo();
  v1::FeatureRepo desired = Repo();
  desired.mutable_feature_views(0)->set_description("changed");
  auto* e = desired.add_entities();
  e->set_name("customer");
  e->set_join_key("customer_id");
  e->set_value_type(ValueType::STRING);
  desired.clear_feature_services();
  desired.mutable_project()->set_description("new");
  v1::Diff diff = DiffRepos(current, Normalized(desired));
  std::vector<std::string> summary;
  for (const auto& c : diff.changes()) {
    summary.push_back(absl::StrCat(v1::ChangeType_Name(c.change()), " ",
                                   v1::ObjectKind_Name(c.kind()), " ", c.name()));
  }
  EXPECT_THAT(summary, ElementsAre("UPDATE PROJECT p", "CREATE ENTITY customer",
                                   "UPDATE FEATURE_VIEW stats", "DELETE FEATURE_SERVICE explicit"));
}

const v1::ObjectChange* Find(const v1::Diff& diff, v1::ObjectKind kind, const std::string& name) {
  for (const auto& c : diff.changes()) {
    if (c.kind() == kind && c.name() == name) return &c;
  }
  return nullptr;
}

TEST(BreakingTest, RetypingAFeatureAServiceUsesIsBreaking) {
  v1::FeatureRepo desired = Repo();
  desired.mutable_feature_views(0)->mutable_schema(0)->set_dtype(ValueType::DOUBLE);
  v1::Diff diff = DiffRepos(Repo(), desired);
  EXPECT_TRUE(diff.breaking());
  const v1::ObjectChange* c = Find(diff, v1::FEATURE_VIEW, "stats");
  ASSERT_NE(c, nullptr);
  EXPECT_THAT(c->breaking_reasons(),
              ElementsAre("feature service explicit uses stats:conv_rate, which changes type "
                          "from FLOAT to DOUBLE"));
  ASSERT_EQ(c->fields_size(), 1);
  EXPECT_TRUE(c->fields(0).breaking());
}

TEST(BreakingTest, RetypingAFeatureNobodyUsesIsNot) {
  v1::FeatureRepo desired = Repo();
  desired.mutable_feature_views(0)->mutable_schema(2)->set_dtype(ValueType::INT32);
  v1::Diff diff = DiffRepos(Repo(), desired);
  EXPECT_FALSE(diff.breaking());
  EXPECT_EQ(diff.changes_size(), 1);
}

TEST(BreakingTest, RemovingAFeatureFromAViewAServiceTakesWhole) {
  v1::FeatureRepo current = Repo();
  current.mutable_feature_services(0)->mutable_features(0)->clear_features();  // all features
  v1::FeatureRepo desired = current;
  desired.mutable_feature_views(0)->mutable_schema()->DeleteSubrange(1, 1);
  v1::Diff diff = DiffRepos(current, desired);
  EXPECT_TRUE(diff.breaking());
  EXPECT_THAT(Find(diff, v1::FEATURE_VIEW, "stats")->breaking_reasons(),
              ElementsAre("feature service explicit uses stats:acc_rate, which is removed"));
}

TEST(BreakingTest, ChangingAnEntityKeyOrTypeUsedByViews) {
  v1::FeatureRepo desired = Repo();
  desired.mutable_entities(0)->set_value_type(ValueType::STRING);
  v1::Diff diff = DiffRepos(Repo(), desired);
  EXPECT_TRUE(diff.breaking());
  EXPECT_THAT(Find(diff, v1::ENTITY, "driver")->breaking_reasons(),
              ElementsAre(HasSubstr("feature views stats are keyed by entity driver")));

  desired = Repo();
  desired.mutable_entities(0)->set_join_key("driver_key");
  EXPECT_TRUE(DiffRepos(Repo(), desired).breaking());

  desired = Repo();
  desired.mutable_entities(0)->set_description("only words");
  EXPECT_FALSE(DiffRepos(Repo(), desired).breaking());
}

TEST(BreakingTest, DeletingAServiceWithTheViewItReferences) {
  v1::FeatureRepo desired = Repo();
  desired.clear_feature_views();
  desired.clear_feature_services();
  v1::Diff diff = DiffRepos(Repo(), desired);
  EXPECT_TRUE(diff.breaking());
  // The service is gone too, so the view's deletion breaks no one that remains...
  EXPECT_THAT(Find(diff, v1::FEATURE_VIEW, "stats")->breaking_reasons(), IsEmpty());
  // ...but deleting the service breaks the model servers that ask for it.
  EXPECT_THAT(Find(diff, v1::FEATURE_SERVICE, "explicit")->breaking_reasons(),
              ElementsAre(HasSubstr("would get NOT_FOUND")));
}

TEST(BreakingTest, DeletingAViewThatARemainingConsumerUses) {
  // Validation refuses such a repo (a dangling reference); the gate still names the consumer
  // when asked about it.
  v1::FeatureRepo desired = Repo();
  desired.clear_feature_views();
  v1::Diff diff = DiffRepos(Repo(), desired);
  EXPECT_THAT(Find(diff, v1::FEATURE_VIEW, "stats")->breaking_reasons(),
              ElementsAre("feature service explicit references stats"));
}

TEST(BreakingTest, AServiceThatStopsReturningFeatures) {
  v1::FeatureRepo current = Repo();
  current.mutable_feature_services(0)->mutable_features(0)->add_features("acc_rate");
  v1::Diff diff = DiffRepos(current, Repo());
  EXPECT_TRUE(diff.breaking());
  EXPECT_THAT(Find(diff, v1::FEATURE_SERVICE, "explicit")->breaking_reasons(),
              ElementsAre("feature service explicit no longer returns stats:acc_rate"));
  // Returning more is fine.
  EXPECT_FALSE(DiffRepos(Repo(), current).breaking());
}

TEST(RepoDiffTest, TwoProjectionsOfOneViewAreTwoItems) {
  v1::FeatureRepo current = Repo();
  auto* second = current.mutable_feature_services(0)->add_features();
  second->set_feature_view("stats");
  second->set_alias("stats_again");
  second->add_features("acc_rate");
  v1::FeatureRepo desired = current;
  desired.mutable_feature_services(0)->mutable_features(1)->set_features(0, "trips");
  v1::Diff diff = DiffRepos(current, desired);
  ASSERT_EQ(diff.changes_size(), 1);
  ASSERT_EQ(diff.changes(0).fields_size(), 1);
  EXPECT_EQ(Describe(diff.changes(0).fields(0)),
            "features[stats_again].features: [acc_rate] -> [trips]");
  // The service stops returning stats_again:acc_rate: breaking, and the field says so.
  EXPECT_TRUE(diff.breaking());
  EXPECT_THAT(diff.changes(0).breaking_reasons(),
              ElementsAre("feature service explicit no longer returns stats_again:acc_rate"));
  EXPECT_TRUE(diff.changes(0).fields(0).breaking());
}

// Every source of an on-demand view is an item: a change to the second is a change too.
TEST(RepoDiffTest, EachSourceOfAnOnDemandViewIsAnItem) {
  v1::FeatureRepo current = Repo();
  ASSERT_TRUE(google::protobuf::TextFormat::MergeFromString(
      R"pb(
        on_demand_feature_views {
          name: "boosted"
          sources { feature_view { feature_view: "stats" } }
          sources { request_source: "boosts" }
          schema { name: "b" dtype: DOUBLE }
          transformation { expressions { key: "b" value: "conv_rate" } }
        }
      )pb",
      &current));
  current = Normalized(current);
  v1::FeatureRepo desired = current;
  desired.mutable_on_demand_feature_views(0)->mutable_sources(1)->set_request_source("others");
  v1::Diff diff = DiffRepos(current, desired);
  ASSERT_EQ(diff.changes_size(), 1);
  std::vector<std::string> fields;
  for (const auto& f : diff.changes(0).fields()) fields.push_back(Describe(f));
  EXPECT_THAT(fields, ::testing::UnorderedElementsAre(HasSubstr("sources[boosts]"),
                                                      HasSubstr("sources[others]")));
}

TEST(BreakingTest, RenamingAProjectionRenamesColumns) {
  v1::FeatureRepo desired = Repo();
  desired.mutable_feature_services(0)->mutable_features(0)->set_alias("renamed");
  v1::Diff diff = DiffRepos(Repo(), desired);
  EXPECT_TRUE(diff.breaking());
  EXPECT_THAT(Find(diff, v1::FEATURE_SERVICE, "explicit")->breaking_reasons(),
              ElementsAre("feature service explicit no longer returns stats:conv_rate"));
}

TEST(BreakingTest, TakingAUsedViewOffline) {
  v1::FeatureRepo desired = Repo();
  desired.mutable_feature_views(0)->set_online(false);
  v1::Diff diff = DiffRepos(Repo(), desired);
  EXPECT_TRUE(diff.breaking());
  EXPECT_THAT(Find(diff, v1::FEATURE_VIEW, "stats")->breaking_reasons(),
              ElementsAre(HasSubstr("stops being served")));
}

TEST(BreakingTest, DeletingAViewWithItsOnlyConsumerBreaksOnlyWhatConsumersSee) {
  v1::FeatureRepo current = Repo();
  current.clear_feature_services();
  auto* od = current.add_on_demand_feature_views();
  od->set_name("derived");
  od->add_sources()->mutable_feature_view()->set_feature_view("stats");
  v1::FeatureRepo desired = current;
  desired.clear_feature_views();
  desired.clear_on_demand_feature_views();
  EXPECT_FALSE(DiffRepos(Normalized(current), Normalized(desired)).breaking());
}

TEST(BreakingTest, ChangingTheEntitiesOfAUsedView) {
  v1::FeatureRepo current = Repo();
  auto* e = current.add_entities();
  e->set_name("rider");
  e->set_join_key("rider_id");
  e->set_value_type(ValueType::INT64);
  current = Normalized(current);
  v1::FeatureRepo desired = current;
  desired.mutable_feature_views(0)->add_entities("rider");
  v1::Diff diff = DiffRepos(current, desired);
  EXPECT_TRUE(diff.breaking());
  EXPECT_THAT(Find(diff, v1::FEATURE_VIEW, "stats")->breaking_reasons(),
              ElementsAre(HasSubstr("whose entities (and request keys) change")));
}

TEST(BreakingTest, ChangingTheExpressionOfAnOnDemandFeatureAServiceUses) {
  v1::FeatureRepo current = Repo();
  ASSERT_TRUE(google::protobuf::TextFormat::MergeFromString(
      R"pb(
        on_demand_feature_views {
          name: "scaled"
          sources { feature_view { feature_view: "stats" } }
          schema { name: "double_conv" dtype: DOUBLE }
          schema { name: "double_acc" dtype: DOUBLE }
          transformation {
            expressions { key: "double_conv" value: "conv_rate * 2" }
            expressions { key: "double_acc" value: "acc_rate * 2" }
          }
        }
        feature_services {
          name: "scaled_service"
          features { feature_view: "scaled" features: "double_conv" }
        }
      )pb",
      &current));
  current = Normalized(current);
  // Changing an expression the service does not use is not breaking.
  v1::FeatureRepo unused = current;
  (*unused.mutable_on_demand_feature_views(0)
        ->mutable_transformation()
        ->mutable_expressions())["double_acc"] = "acc_rate * 3";
  EXPECT_FALSE(DiffRepos(current, unused).breaking());
  v1::FeatureRepo desired = current;
  (*desired.mutable_on_demand_feature_views(0)
        ->mutable_transformation()
        ->mutable_expressions())["double_conv"] = "conv_rate * 3";
  v1::Diff diff = DiffRepos(current, desired);
  EXPECT_TRUE(diff.breaking());
  EXPECT_THAT(Find(diff, v1::ON_DEMAND_FEATURE_VIEW, "scaled")->breaking_reasons(),
              ElementsAre("feature service scaled_service uses scaled:double_conv, whose "
                          "expression changes: models trained on its old values would be served "
                          "new ones"));
  // Turning it into a write-time view leaves nothing stored until its source is written again.
  v1::FeatureRepo stored = current;
  stored.mutable_on_demand_feature_views(0)->set_mode(v1::OnDemandFeatureView::ON_WRITE);
  diff = DiffRepos(current, stored);
  EXPECT_TRUE(diff.breaking());
  EXPECT_THAT(Find(diff, v1::ON_DEMAND_FEATURE_VIEW, "scaled")->breaking_reasons(),
              ElementsAre(HasSubstr("changes mode to ON_WRITE: nothing is stored until")));
  // Stored at write time, any change to what it computes removes what was stored, limits too.
  v1::FeatureRepo tighter = stored;
  tighter.mutable_on_demand_feature_views(0)->mutable_transformation()->set_max_instructions(5000);
  diff = DiffRepos(stored, tighter);
  EXPECT_TRUE(diff.breaking());
  EXPECT_THAT(Find(diff, v1::ON_DEMAND_FEATURE_VIEW, "scaled")->breaking_reasons(),
              ElementsAre(HasSubstr("whose stored outputs are removed by this change")));
  // Computed at read time, the same text over another source computes other values.
  v1::FeatureRepo resourced = current;
  resourced.mutable_on_demand_feature_views(0)
      ->mutable_sources(0)
      ->mutable_feature_view()
      ->set_alias("renamed");
  diff = DiffRepos(current, resourced);
  EXPECT_TRUE(diff.breaking());
  EXPECT_THAT(Find(diff, v1::ON_DEMAND_FEATURE_VIEW, "scaled")->breaking_reasons(),
              ElementsAre(HasSubstr("whose sources, schema or limits change")));
  // Also when an expression the service does not use changes in the same apply.
  (*resourced.mutable_on_demand_feature_views(0)
        ->mutable_transformation()
        ->mutable_expressions())["double_acc"] = "acc_rate * 5";
  EXPECT_THAT(
      Find(DiffRepos(current, resourced), v1::ON_DEMAND_FEATURE_VIEW, "scaled")->breaking_reasons(),
      ElementsAre(HasSubstr("whose sources, schema or limits change")));
  // Its description is only for people.
  v1::FeatureRepo described = stored;
  described.mutable_on_demand_feature_views(0)->set_description("doubled");
  EXPECT_FALSE(DiffRepos(stored, described).breaking());
}

}  // namespace
}  // namespace granary::registry
