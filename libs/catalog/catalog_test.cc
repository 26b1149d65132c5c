#include "gmock/gmock.h"
#include "google/protobuf/text_format.h"
#include "granary/registry/v1/objects.pb.h"
#include "gtest/gtest.h"

#include "libs/catalog/normalize.h"
#include "libs/catalog/object_kinds.h"
#include "libs/testing/status_matchers.h"

namespace granary::catalog {
namespace {

using ::granary::testing::StatusIs;
using registry::v1::FeatureRepo;

FeatureRepo Repo(const std::string& text) {
  FeatureRepo repo;
  EXPECT_TRUE(google::protobuf::TextFormat::ParseFromString(text, &repo)) << text;
  return repo;
}

TEST(ObjectKindsTest, ParsesEverySpelling) {
  for (const char* s : {"feature-views", "feature-view", "feature_views", "FEATURE_VIEW"}) {
    ASSERT_OK_AND_ASSIGN(ObjectKind k, ParseKind(s));
    EXPECT_EQ(k, registry::v1::FEATURE_VIEW) << s;
  }
  ASSERT_OK_AND_ASSIGN(ObjectKind p, ParseKind("projects"));
  EXPECT_EQ(p, registry::v1::PROJECT);
  EXPECT_THAT(ParseKind("views"), StatusIs(absl::StatusCode::kInvalidArgument,
                                           ::testing::HasSubstr("on-demand-feature-views")));
  EXPECT_EQ(KindCliPlural(registry::v1::ON_DEMAND_FEATURE_VIEW), "on-demand-feature-views");
  EXPECT_EQ(KindPlural(registry::v1::ENTITY), "entities");
}

TEST(ObjectKindsTest, GenericAccessCoversEveryKind) {
  FeatureRepo repo = Repo(R"pb(
    entities {
      name: "e"
      tags { key: "team" value: "a" }
    }
    data_sources { name: "s" }
    feature_views { name: "v" }
    on_demand_feature_views { name: "o" }
    feature_services { name: "f" }
    permissions { name: "p" }
  )pb");
  for (ObjectKind kind : RepoKinds()) {
    ASSERT_EQ(ObjectsOf(repo, kind).size(), 1u) << KindName(kind);
  }
  EXPECT_EQ(ObjectName(*ObjectsOf(repo, registry::v1::PERMISSION)[0]), "p");
  EXPECT_THAT(ObjectTags(*ObjectsOf(repo, registry::v1::ENTITY)[0]),
              ::testing::ElementsAre(std::make_pair(std::string("team"), std::string("a"))));
  google::protobuf::Message* added = AddObject(&repo, registry::v1::FEATURE_SERVICE);
  EXPECT_EQ(added->GetDescriptor()->name(), "FeatureService");
  EXPECT_EQ(repo.feature_services_size(), 2);
}

TEST(NormalizeTest, MakesDefaultsExplicitAndKeepsOrder) {
  FeatureRepo repo = Repo(R"pb(
    project { name: "p" version: 9 }
    entities { name: "zeta" }
    entities { name: "alpha" join_key: "alpha_id" }
    feature_views {
      name: "v"
      offline: false
      materialization_intervals { job_id: "j" }
      meta { created_version: 3 }
    }
  )pb");
  Normalize(&repo);
  EXPECT_EQ(repo.project().version(), 0);
  ASSERT_EQ(repo.entities_size(), 2);
  EXPECT_EQ(repo.entities(0).name(), "zeta");
  EXPECT_EQ(repo.entities(0).join_key(), "zeta");  // the name, by default
  EXPECT_EQ(repo.entities(1).join_key(), "alpha_id");
  const auto& fv = repo.feature_views(0);
  EXPECT_TRUE(fv.has_online() && fv.online());
  EXPECT_TRUE(fv.has_offline() && !fv.offline());  // explicit values are kept
  EXPECT_EQ(fv.materialization_intervals_size(), 0);
  EXPECT_FALSE(fv.has_meta());
}

}  // namespace
}  // namespace granary::catalog
