#include "services/registry/validation.h"

#include "gmock/gmock.h"
#include "granary/registry/v1/objects.pb.h"
#include "gtest/gtest.h"

#include "libs/catalog/normalize.h"
#include "services/registry/test_repo.h"

namespace granary::registry {
namespace {

using ::testing::AllOf;
using ::testing::Contains;
using ::testing::ElementsAre;
using ::testing::Field;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ValueType = types::v1::ValueType;

v1::FeatureRepo Driver() { return testing::DriverRepo(); }

std::vector<Problem> Validate(v1::FeatureRepo repo) {
  catalog::Normalize(&repo);
  return ValidateRepo(repo);
}

MATCHER_P2(ProblemAt, path, message, "") {
  return arg.path == path && arg.message.find(message) != std::string::npos;
}

TEST(ValidationTest, TheDriverExampleIsValid) { EXPECT_THAT(Validate(Driver()), IsEmpty()); }

TEST(ValidationTest, ProjectName) {
  v1::FeatureRepo repo = Driver();
  repo.mutable_project()->set_name("Driver-Stats");
  EXPECT_THAT(Validate(repo), Contains(ProblemAt("project.name", "not a valid project name")));
  repo.clear_project();
  EXPECT_THAT(Validate(repo), Contains(ProblemAt("project.name", "required")));
}

TEST(ValidationTest, NamesAndDuplicates) {
  v1::FeatureRepo repo = Driver();
  repo.mutable_entities(0)->set_name("dri ver");
  *repo.add_entities() = repo.entities(0);
  repo.mutable_entities(1)->set_name("");
  // Feature views and on-demand views share one namespace.
  repo.mutable_on_demand_feature_views(0)->set_name("driver_hourly_stats");
  std::vector<Problem> problems = Validate(repo);
  EXPECT_THAT(problems, Contains(ProblemAt("entities[#0].name", "is not a valid name")));
  EXPECT_THAT(problems, Contains(ProblemAt("entities[#1].name", "required")));
  EXPECT_THAT(problems,
              Contains(ProblemAt("on_demand_feature_views[driver_hourly_stats].name",
                                 "another feature view or on-demand feature view is named")));
  // Names starting with "__" are Granary's own (the columns historical retrieval joins).
  v1::FeatureRepo reserved = Driver();
  reserved.mutable_feature_views(0)->mutable_schema(0)->set_name("__event_time");
  EXPECT_THAT(Validate(reserved),
              Contains(ProblemAt("feature_views[driver_hourly_stats].schema[0].name",
                                 "names starting with \"__\" are reserved")));
}

TEST(ValidationTest, EntityKeyTypesAndJoinKeyConsistency) {
  v1::FeatureRepo repo = Driver();
  repo.mutable_entities(0)->set_value_type(ValueType::FLOAT);
  auto* other = repo.add_entities();
  other->set_name("driver_again");
  other->set_join_key("driver_id");
  other->set_value_type(ValueType::STRING);
  auto* unset = repo.add_entities();
  unset->set_name("untyped");
  std::vector<Problem> problems = Validate(repo);
  EXPECT_THAT(problems,
              Contains(ProblemAt("entities[driver].value_type", "\"FLOAT\" cannot be a key")));
  EXPECT_THAT(problems, Contains(ProblemAt("entities[driver_again].value_type",
                                           "join key driver_id is STRING here but FLOAT")));
  EXPECT_THAT(problems, Contains(ProblemAt("entities[untyped].value_type", "required")));
}

TEST(ValidationTest, DataSources) {
  v1::FeatureRepo repo = Driver();
  auto* pg = repo.mutable_data_sources(0);
  pg->mutable_postgres()->set_query("DELETE FROM x");
  pg->clear_timestamp_field();
  pg->mutable_field_mapping()->insert({"a b", "c"});
  repo.mutable_data_sources(1)->mutable_push()->set_batch_source("nowhere");
  auto* bad_table = repo.add_data_sources();
  bad_table->set_name("bad_table");
  bad_table->mutable_postgres()->set_table("a.b.c");
  bad_table->set_timestamp_field("ts");
  repo.add_data_sources()->set_name("kindless");
  std::vector<Problem> problems = Validate(repo);
  EXPECT_THAT(problems, Contains(ProblemAt("data_sources[driver_stats_source].postgres",
                                           "exactly one of table and query")));
  EXPECT_THAT(problems, Contains(ProblemAt("data_sources[driver_stats_source].postgres.query",
                                           "must be a SELECT")));
  EXPECT_THAT(problems,
              Contains(ProblemAt("data_sources[driver_stats_source].timestamp_field", "required")));
  EXPECT_THAT(problems, Contains(ProblemAt("data_sources[driver_stats_source].field_mapping",
                                           "both must be column names")));
  EXPECT_THAT(problems, Contains(ProblemAt("data_sources[driver_stats_push].push.batch_source",
                                           "no data source named nowhere")));
  EXPECT_THAT(problems,
              Contains(ProblemAt("data_sources[bad_table].postgres.table", "not a table name")));
  EXPECT_THAT(problems, Contains(ProblemAt("data_sources[kindless]",
                                           "one of postgres, push or request is required")));
}

TEST(ValidationTest, FeatureViewReferencesSchemaAndTtl) {
  v1::FeatureRepo repo = Driver();
  auto* fv = repo.mutable_feature_views(0);
  fv->add_entities("rider");
  fv->mutable_schema(2)->set_dtype(ValueType::INVALID);
  *fv->add_schema() = fv->schema(0);  // duplicate conv_rate
  auto* key = fv->add_schema();
  key->set_name("driver_id");
  key->set_dtype(ValueType::INT64);
  fv->mutable_ttl()->set_seconds(-1);
  fv->set_stream_source("vals_to_add");
  std::vector<Problem> problems = Validate(repo);
  const std::string v = "feature_views[driver_hourly_stats]";
  EXPECT_THAT(problems, Contains(ProblemAt(v + ".entities[1]", "no entity named rider")));
  EXPECT_THAT(problems, Contains(ProblemAt(v + ".schema[2].dtype", "a feature type is required")));
  EXPECT_THAT(problems, Contains(ProblemAt(v + ".schema[3].name", "duplicate feature conv_rate")));
  EXPECT_THAT(problems, Contains(ProblemAt(v + ".schema[4].name", "is a join key")));
  EXPECT_THAT(problems, Contains(ProblemAt(v + ".ttl", "must not be negative")));
  EXPECT_THAT(problems, Contains(ProblemAt(v + ".stream_source", "is not a push source")));
}

TEST(ValidationTest, MalformedDurations) {
  v1::FeatureRepo repo = Driver();
  repo.mutable_feature_views(0)->mutable_ttl()->set_nanos(2000000000);
  EXPECT_THAT(Validate(repo),
              Contains(ProblemAt("feature_views[driver_hourly_stats].ttl", "nanos out of range")));
}

TEST(ValidationTest, FeatureViewSourcesAndLongTtl) {
  v1::FeatureRepo repo = Driver();
  auto* fv = repo.mutable_feature_views(0);
  fv->mutable_ttl()->set_seconds(int64_t{4000} * 86400);
  fv->set_batch_source("driver_stats_push");
  std::vector<Problem> problems = Validate(repo);
  const std::string v = "feature_views[driver_hourly_stats]";
  EXPECT_THAT(problems, Contains(ProblemAt(v + ".ttl", "longer than 3650 days")));
  EXPECT_THAT(problems, Contains(ProblemAt(v + ".batch_source", "is not a PostgreSQL source")));
  fv->clear_batch_source();
  EXPECT_THAT(Validate(repo), Contains(ProblemAt(v + ".batch_source", "required")));
}

TEST(ValidationTest, PushSourceMustFeedTheViewsBatchSource) {
  v1::FeatureRepo repo = Driver();
  auto* other = repo.add_data_sources();
  other->set_name("other_table");
  other->mutable_postgres()->set_table("other");
  other->set_timestamp_field("ts");
  repo.mutable_feature_views(0)->set_batch_source("other_table");
  EXPECT_THAT(Validate(repo),
              Contains(ProblemAt("feature_views[driver_hourly_stats].stream_source",
                                 "pushed rows would be missing from training data")));
}

TEST(ValidationTest, OnDemandViews) {
  v1::FeatureRepo repo = Driver();
  auto* od = repo.mutable_on_demand_feature_views(0);
  od->mutable_sources(0)->mutable_feature_view()->set_features(0, "conv_rat");
  od->mutable_sources(1)->set_request_source("driver_stats_source");
  od->mutable_transformation()->mutable_expressions()->at("conv_rate_plus_val") =
      "conv_rate + missing";
  od->mutable_transformation()->set_mode("python");
  std::vector<Problem> problems = Validate(repo);
  const std::string v = "on_demand_feature_views[transformed_conv_rate]";
  EXPECT_THAT(problems, Contains(ProblemAt(v + ".sources[0].feature_view.features[0]",
                                           "driver_hourly_stats has no feature \"conv_rat\"")));
  EXPECT_THAT(problems,
              Contains(ProblemAt(v + ".sources[1].request_source", "is not a request source")));
  // The write-time mode: one source feature view, no request data (not there at write time).
  v1::FeatureRepo on_write = Driver();
  on_write.mutable_on_demand_feature_views(0)->set_mode(v1::OnDemandFeatureView::ON_WRITE);
  EXPECT_THAT(Validate(on_write),
              ElementsAre(ProblemAt(v + ".mode", "ON_WRITE reads no request source")));
  on_write.mutable_on_demand_feature_views(0)->mutable_sources()->RemoveLast();
  on_write.mutable_on_demand_feature_views(0)->mutable_transformation()->mutable_expressions()->at(
      "conv_rate_plus_val") = "conv_rate * 2";
  EXPECT_THAT(Validate(on_write), IsEmpty());
  on_write.mutable_feature_views(0)->set_online(false);
  EXPECT_THAT(Validate(on_write),
              Contains(ProblemAt(v + ".mode", "is not served online (online: false)")));
  // With its sources fixed, the expression's unknown name is what remains.
  v1::FeatureRepo fixed = Driver();
  fixed.mutable_on_demand_feature_views(0)->mutable_transformation()->mutable_expressions()->at(
      "conv_rate_plus_val") = "conv_rate + missing";
  EXPECT_THAT(Validate(fixed),
              ElementsAre(ProblemAt(v + ".transformation.expressions.conv_rate_plus_val",
                                    "reads missing, neither an input")));
  EXPECT_THAT(problems, Contains(ProblemAt(v + ".transformation.mode",
                                           "\"python\" is not a transformation mode")));
}

TEST(ValidationTest, FeatureServices) {
  v1::FeatureRepo repo = Driver();
  auto* s = repo.mutable_feature_services(0);
  s->mutable_features(0)->add_features("conv_rate");
  s->mutable_features(0)->add_features("speed");
  auto* unknown = s->add_features();
  unknown->set_feature_view("driver_daily_stats");
  *s->add_features() = s->features(1);  // transformed_conv_rate twice, no alias
  repo.add_feature_services()->set_name("empty");
  std::vector<Problem> problems = Validate(repo);
  const std::string f = "feature_services[driver_activity]";
  EXPECT_THAT(problems, Contains(ProblemAt(f + ".features[0].features[2]", "listed twice")));
  EXPECT_THAT(problems,
              Contains(ProblemAt(f + ".features[0].features[3]", "has no feature \"speed\"")));
  EXPECT_THAT(problems, Contains(ProblemAt(f + ".features[2].feature_view",
                                           "no feature view named driver_daily_stats")));
  EXPECT_THAT(problems, Contains(ProblemAt(f + ".features[3]", "projected twice")));
  EXPECT_THAT(problems,
              Contains(ProblemAt("feature_services[empty].features", "at least one is required")));
}

TEST(ValidationTest, Permissions) {
  v1::FeatureRepo repo = Driver();
  auto* p = repo.mutable_permissions(0);
  p->add_name_patterns("driver_(");
  p->add_types(v1::OBJECT_KIND_UNSPECIFIED);
  p->add_actions(static_cast<v1::Permission::Action>(42));
  p->clear_policy();
  repo.add_permissions()->set_name("nothing_granted");
  std::vector<Problem> problems = Validate(repo);
  EXPECT_THAT(problems, Contains(ProblemAt("permissions[readers].name_patterns[1]",
                                           "not a regular expression")));
  EXPECT_THAT(problems, Contains(ProblemAt("permissions[readers].types[2]", "unknown")));
  EXPECT_THAT(problems, Contains(ProblemAt("permissions[readers].actions[2]", "unknown")));
  EXPECT_THAT(problems, Contains(ProblemAt("permissions[readers].policy", "grant nothing")));
  EXPECT_THAT(problems, Contains(ProblemAt("permissions[nothing_granted].actions",
                                           "at least one is required")));
}

TEST(ValidationTest, TagsNeedKeys) {
  v1::FeatureRepo repo = Driver();
  repo.mutable_feature_views(0)->mutable_tags()->insert({"", "x"});
  EXPECT_THAT(Validate(repo),
              Contains(ProblemAt("feature_views[driver_hourly_stats].tags", "must not be empty")));
}

TEST(ValidationTest, EveryProblemIsReportedAtOnce) {
  v1::FeatureRepo repo = Driver();
  repo.mutable_entities(0)->set_value_type(ValueType::FLOAT);
  repo.mutable_feature_views(0)->mutable_schema(1)->set_dtype(ValueType::INVALID);
  repo.mutable_feature_services(0)->mutable_features(0)->set_features(0, "nope");
  std::vector<Problem> problems = Validate(repo);
  EXPECT_EQ(problems.size(), 3u);
  absl::Status s = ProblemsToStatus(problems);
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(s.message(),
              AllOf(HasSubstr("3 problems in the repo"),
                    HasSubstr("feature_views[driver_hourly_stats].schema[1].dtype"),
                    HasSubstr("entities[driver].value_type"),
                    HasSubstr("feature_services[driver_activity].features[0].features[0]")));
  EXPECT_TRUE(ProblemsToStatus({}).ok());
}

}  // namespace
}  // namespace granary::registry
