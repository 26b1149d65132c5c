// Feast's permission semantics, case by case.
#include "libs/auth/permission_index.h"

#include "google/protobuf/text_format.h"
#include "granary/registry/v1/repo.pb.h"
#include "gtest/gtest.h"

namespace granary::auth {
namespace {

using registry::v1::FEATURE_SERVICE;
using registry::v1::FEATURE_VIEW;
using registry::v1::FeatureRepo;
using registry::v1::Permission;

FeatureRepo Repo(const std::string& text) {
  FeatureRepo repo;
  EXPECT_TRUE(google::protobuf::TextFormat::ParseFromString(text, &repo)) << text;
  return repo;
}

const FeatureRepo& Permissions() {
  static const FeatureRepo* repo = new FeatureRepo(Repo(R"pb(
    permissions {
      name: "readers"
      types: [ FEATURE_VIEW, FEATURE_SERVICE ]
      actions: [ DESCRIBE, READ_ONLINE ]
      policy { roles: "reader" }
    }
    permissions {
      name: "driver_writers"
      types: FEATURE_VIEW
      name_patterns: "driver_.*"
      actions: WRITE_ONLINE
      policy { groups: "drivers-team" }
    }
    permissions {
      name: "prod_offline"
      actions: READ_OFFLINE
      required_tags { key: "env" value: "prod" }
      policy { roles: "analyst" }
    }
  )pb"));
  return *repo;
}

Identity Who(std::vector<std::string> roles, std::vector<std::string> groups = {}) {
  return {"someone", std::move(roles), std::move(groups)};
}

TEST(PermissionIndexTest, NoPermissionsLetsEveryAuthenticatedCallerDoAnything) {
  FeatureRepo empty;
  PermissionIndex index(empty.permissions());
  EXPECT_TRUE(index.open());
  EXPECT_TRUE(index.Allows(Who({}), Permission::DELETE, {FEATURE_VIEW, "anything"}));
}

TEST(PermissionIndexTest, ARoleGrantsOnlyItsActionsAndKinds) {
  PermissionIndex index(Permissions().permissions());
  EXPECT_FALSE(index.open());
  EXPECT_TRUE(index.Allows(Who({"reader"}), Permission::READ_ONLINE, {FEATURE_VIEW, "v"}));
  EXPECT_TRUE(index.Allows(Who({"reader"}), Permission::DESCRIBE, {FEATURE_SERVICE, "s"}));
  EXPECT_FALSE(index.Allows(Who({"reader"}), Permission::WRITE_ONLINE, {FEATURE_VIEW, "v"}));
  EXPECT_FALSE(index.Allows(Who({"reader"}), Permission::DESCRIBE, {registry::v1::ENTITY, "e"}));
  EXPECT_FALSE(index.Allows(Who({}), Permission::READ_ONLINE, {FEATURE_VIEW, "v"}));
  EXPECT_FALSE(index.Allows(Who({"Reader"}), Permission::READ_ONLINE, {FEATURE_VIEW, "v"}));
}

TEST(PermissionIndexTest, GroupsAndNamePatternsMatchInFull) {
  PermissionIndex index(Permissions().permissions());
  Identity team = Who({}, {"drivers-team"});
  EXPECT_TRUE(index.Allows(team, Permission::WRITE_ONLINE, {FEATURE_VIEW, "driver_hourly"}));
  EXPECT_FALSE(index.Allows(team, Permission::WRITE_ONLINE, {FEATURE_VIEW, "my_driver_hourly"}));
  EXPECT_FALSE(index.Allows(team, Permission::WRITE_ONLINE, {FEATURE_SERVICE, "driver_x"}));
  // A role named like the group is not the group.
  EXPECT_FALSE(
      index.Allows(Who({"drivers-team"}), Permission::WRITE_ONLINE, {FEATURE_VIEW, "driver_a"}));
}

TEST(PermissionIndexTest, RequiredTagsMustAllBePresentWithTheirValues) {
  PermissionIndex index(Permissions().permissions());
  Tags prod;
  prod["env"] = "prod";
  prod["team"] = "x";
  Tags staging;
  staging["env"] = "staging";
  Identity analyst = Who({"analyst"});
  EXPECT_TRUE(index.Allows(analyst, Permission::READ_OFFLINE, {FEATURE_VIEW, "v", &prod}));
  EXPECT_FALSE(index.Allows(analyst, Permission::READ_OFFLINE, {FEATURE_VIEW, "v", &staging}));
  EXPECT_FALSE(index.Allows(analyst, Permission::READ_OFFLINE, {FEATURE_VIEW, "v"}));
  // No types listed: every kind.
  EXPECT_TRUE(index.Allows(analyst, Permission::READ_OFFLINE, {FEATURE_SERVICE, "s", &prod}));
}

TEST(PermissionIndexTest, TwoActionsAtOnceMustComeFromOnePermission) {
  PermissionIndex index(Permissions().permissions());
  // Two permissions grant these separately, none both.
  Identity both = Who({"reader"}, {"drivers-team"});
  EXPECT_TRUE(index.Allows(both, Permission::WRITE_ONLINE, {FEATURE_VIEW, "driver_a"}));
  EXPECT_TRUE(index.Allows(both, Permission::DESCRIBE, {FEATURE_VIEW, "driver_a"}));
  EXPECT_FALSE(index.AllowsBoth(both, Permission::WRITE_ONLINE, Permission::DESCRIBE,
                                {FEATURE_VIEW, "driver_a"}));
  // One that grants both is enough.
  EXPECT_TRUE(index.AllowsBoth(Who({"reader"}), Permission::READ_ONLINE, Permission::DESCRIBE,
                               {FEATURE_VIEW, "v"}));
}

TEST(PermissionIndexTest, AnyOneGrantingPermissionIsEnough) {
  PermissionIndex index(Permissions().permissions());
  Identity both = Who({"nobody", "reader"}, {"drivers-team"});
  EXPECT_TRUE(index.Allows(both, Permission::READ_ONLINE, {FEATURE_VIEW, "other"}));
  EXPECT_TRUE(index.Allows(both, Permission::WRITE_ONLINE, {FEATURE_VIEW, "driver_b"}));
}

}  // namespace
}  // namespace granary::auth
