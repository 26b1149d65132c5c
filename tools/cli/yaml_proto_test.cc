#include "tools/cli/yaml_proto.h"

#include "gmock/gmock.h"
#include "google/protobuf/util/message_differencer.h"
#include "granary/registry/v1/objects.pb.h"
#include "gtest/gtest.h"

#include "libs/testing/status_matchers.h"

namespace granary::cli {
namespace {

using ::granary::testing::StatusIs;
using ::testing::HasSubstr;
namespace v1 = registry::v1;

config::Reader Parse(absl::string_view yaml) {
  absl::StatusOr<config::Reader> r = config::Reader::FromString(yaml, "repo.yaml");
  EXPECT_TRUE(r.ok()) << r.status();
  return *r;
}

TEST(RepoDurationTest, DaysHoursAndSeconds) {
  EXPECT_EQ(*ParseRepoDuration("1d"), absl::Hours(24));
  EXPECT_EQ(*ParseRepoDuration("1d12h"), absl::Hours(36));
  EXPECT_EQ(*ParseRepoDuration("86400s"), absl::Hours(24));
  EXPECT_EQ(*ParseRepoDuration("90m"), absl::Minutes(90));
  EXPECT_EQ(*ParseRepoDuration("0s"), absl::ZeroDuration());
  EXPECT_THAT(ParseRepoDuration("one day"), StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(ParseRepoDuration("xd"), StatusIs(absl::StatusCode::kInvalidArgument));
}

TEST(ReadMessageTest, EveryKindOfField) {
  config::Reader root = Parse(R"(
name: stats
entities: [driver, rider]
ttl: 1d
online: false
schema:
  - {name: conv_rate, dtype: Float32}
  - {name: trips, dtype: int64, tags: {unit: count}}
batch_source: src
tags: {team: a}
)");
  v1::FeatureView view;
  ReadMessage(root, &view);
  ASSERT_OK(root.Finish());
  EXPECT_EQ(view.name(), "stats");
  EXPECT_THAT(view.entities(), ::testing::ElementsAre("driver", "rider"));
  EXPECT_EQ(view.ttl().seconds(), 86400);
  ASSERT_TRUE(view.has_online());
  EXPECT_FALSE(view.online());
  EXPECT_FALSE(view.has_offline());  // absent stays absent: the default applies later
  ASSERT_EQ(view.schema_size(), 2);
  EXPECT_EQ(view.schema(0).dtype(), types::v1::ValueType::FLOAT);  // Feast's name
  EXPECT_EQ(view.schema(1).dtype(), types::v1::ValueType::INT64);  // any case
  EXPECT_EQ(view.schema(1).tags().at("unit"), "count");
  EXPECT_EQ(view.tags().at("team"), "a");
}

TEST(ReadMessageTest, OneofsRepeatedEnumsAndEmptyKeys) {
  config::Reader root = Parse(R"(
name: src
postgres: {table: driver_stats}
timestamp_field: event_timestamp
description:
)");
  v1::DataSource source;
  ReadMessage(root, &source);
  ASSERT_OK(root.Finish());
  EXPECT_TRUE(source.has_postgres());
  EXPECT_EQ(source.postgres().table(), "driver_stats");

  config::Reader perm = Parse("name: p\nactions: [describe, READ_ONLINE]\ntypes: [FEATURE_VIEW]\n");
  v1::Permission p;
  ReadMessage(perm, &p);
  ASSERT_OK(perm.Finish());
  EXPECT_THAT(p.actions(),
              ::testing::ElementsAre(v1::Permission::DESCRIBE, v1::Permission::READ_ONLINE));
}

TEST(ReadMessageTest, AlternativesCannotBothBeGiven) {
  config::Reader root =
      Parse("name: src\npostgres: {table: t}\npush: {batch_source: other}\ntimestamp_field: ts\n");
  v1::DataSource source;
  ReadMessage(root, &source);
  EXPECT_THAT(root.Finish().message(),
              HasSubstr("push: only one of postgres and push can be given"));
}

TEST(ReadMessageTest, FeastActionShorthands) {
  config::Reader root = Parse("name: p\nactions: [READ, write, CRUD]\n");
  v1::Permission p;
  ReadMessage(root, &p);
  ASSERT_OK(root.Finish());
  EXPECT_THAT(p.actions(),
              ::testing::ElementsAre(v1::Permission::READ_ONLINE, v1::Permission::READ_OFFLINE,
                                     v1::Permission::WRITE_ONLINE, v1::Permission::WRITE_OFFLINE,
                                     v1::Permission::CREATE, v1::Permission::DESCRIBE,
                                     v1::Permission::UPDATE, v1::Permission::DELETE));
  config::Reader all = Parse("name: p\nactions: [ALL]\n");
  v1::Permission q;
  ReadMessage(all, &q);
  EXPECT_EQ(q.actions_size(), 8);
}

TEST(ReadMessageTest, ProblemsNameTheKey) {
  config::Reader root = Parse(R"(
name: stats
schema:
  - {name: a, dtype: FLOT}
ttl: soon
online: maybe
meta: {created_version: 3}
colour: blue
)");
  v1::FeatureView view;
  ReadMessage(root, &view);
  absl::Status s = root.Finish();
  EXPECT_THAT(s.message(), HasSubstr("repo.yaml:4: schema[0].dtype: unknown type \"FLOT\""));
  EXPECT_THAT(s.message(), HasSubstr("ttl: not a duration"));
  EXPECT_THAT(s.message(), HasSubstr("online: expected true or false"));
  EXPECT_THAT(s.message(), HasSubstr("meta: unknown key"));  // output only
  EXPECT_THAT(s.message(), HasSubstr("colour: unknown key"));
}

TEST(MessageToYamlTest, DescribeOutputReadsBackTheSame) {
  v1::FeatureView view;
  view.set_name("stats");
  view.add_entities("driver");
  auto* f = view.add_schema();
  f->set_name("conv_rate");
  f->set_dtype(types::v1::ValueType::FLOAT);
  view.mutable_ttl()->set_seconds(5400);
  view.set_online(true);
  (*view.mutable_tags())["team"] = "a";
  view.set_batch_source("src");
  std::string yaml = MessageToYaml(view);
  config::Reader root = Parse(yaml);
  v1::FeatureView back;
  ReadMessage(root, &back);
  ASSERT_OK(root.Finish());
  EXPECT_TRUE(google::protobuf::util::MessageDifferencer::Equals(view, back)) << yaml;
}

}  // namespace
}  // namespace granary::cli
