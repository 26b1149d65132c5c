// Decisions across catalogs: the index follows the catalog's version, a missing project allows
// only its creation, a missing catalog is UNAVAILABLE, and a denial names one object.
#include "services/gateway/authorizer.h"

#include <map>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

#include "libs/testing/status_matchers.h"

namespace granary::gateway {
namespace {

using registry::v1::FEATURE_VIEW;
using ::testing::HasSubstr;

class FakeCatalogs : public Catalogs {
 public:
  absl::StatusOr<std::shared_ptr<const registry_client::Catalog>> Find(
      const std::string& project) override {
    if (project == "unloaded") return absl::UnavailableError("not loaded");
    auto it = catalogs.find(project);
    if (it == catalogs.end()) return absl::NotFoundError("no such project");
    return it->second;
  }
  const std::string& default_project() const override { return default_; }
  const std::vector<std::string>& projects() const override { return projects_; }

  void Set(const std::string& project, int64_t version,
           const std::vector<std::string>& reader_roles) {
    registry::v1::Snapshot snapshot;
    snapshot.set_version(version);
    snapshot.mutable_repo()->mutable_project()->set_name(project);
    if (!reader_roles.empty()) {
      auto* p = snapshot.mutable_repo()->add_permissions();
      p->set_name("readers");
      p->add_actions(Permission::READ_ONLINE);
      for (const std::string& role : reader_roles) p->mutable_policy()->add_roles(role);
    }
    catalogs[project] = std::make_shared<registry_client::Catalog>(snapshot);
  }

  std::map<std::string, std::shared_ptr<const registry_client::Catalog>> catalogs;
  std::string default_ = "p";
  std::vector<std::string> projects_ = {"p"};
};

Check Read(const std::string& project, const std::string& view) {
  return {project, Permission::READ_ONLINE, FEATURE_VIEW, view};
}

TEST(AuthorizerTest, DecisionsFollowTheCatalogsVersion) {
  FakeCatalogs catalogs;
  catalogs.Set("p", 1, {"reader"});
  Authorizer authorizer(catalogs);
  auth::Identity ana{"ana", {"reader"}, {}};
  auth::Identity bob{"bob", {"analyst"}, {}};
  EXPECT_OK(authorizer.Decide(ana, {Read("p", "v")}));
  absl::Status denied = authorizer.Decide(bob, {Read("p", "v")});
  EXPECT_EQ(denied.code(), absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(denied.message(), "'bob' may not READ_ONLINE feature view 'v' in project 'p'");
  // A new version grants analysts: the next decision sees it.
  catalogs.Set("p", 2, {"analyst"});
  EXPECT_OK(authorizer.Decide(bob, {Read("p", "v")}));
  EXPECT_EQ(authorizer.Decide(ana, {Read("p", "v")}).code(), absl::StatusCode::kPermissionDenied);
}

TEST(AuthorizerTest, AProjectWithoutPermissionsIsOpenToEveryAuthenticatedCaller) {
  FakeCatalogs catalogs;
  catalogs.Set("open", 1, {});
  Authorizer authorizer(catalogs);
  EXPECT_OK(authorizer.Decide({"anyone", {}, {}}, {Read("open", "v")}));
}

TEST(AuthorizerTest, AMissingProjectAllowsOnlyItsCreation) {
  FakeCatalogs catalogs;
  Authorizer authorizer(catalogs);
  auth::Identity ana{"ana", {"reader"}, {}};
  absl::Status read = authorizer.Decide(ana, {Read("gone", "v")});
  EXPECT_EQ(read.code(), absl::StatusCode::kPermissionDenied);
  EXPECT_THAT(read.message(), HasSubstr("project 'gone'"));
  Check create{"gone", Permission::CREATE, registry::v1::PROJECT, "gone"};
  create.creates_project = true;
  EXPECT_OK(authorizer.Decide(ana, {create}));
}

TEST(AuthorizerTest, AnUnloadedCatalogIsUnavailableNotAllowed) {
  FakeCatalogs catalogs;
  Authorizer authorizer(catalogs);
  auth::Identity ana{"ana", {"reader"}, {}};
  EXPECT_EQ(authorizer.Decide(ana, {Read("unloaded", "v")}).code(), absl::StatusCode::kUnavailable);
  EXPECT_FALSE(authorizer.Allows(ana, Read("unloaded", "v")));
}

TEST(AuthorizerTest, TheFirstRefusedCheckIsNamedAndNoOther) {
  FakeCatalogs catalogs;
  catalogs.Set("p", 1, {"reader"});
  catalogs.Set("q", 1, {"nobody"});
  Authorizer authorizer(catalogs);
  absl::Status status = authorizer.Decide(
      {"ana", {"reader"}, {}}, {Read("p", "v1"), Read("q", "secret_view"), Read("q", "other")});
  EXPECT_THAT(status.message(), HasSubstr("'secret_view'"));
  EXPECT_THAT(status.message(), ::testing::Not(HasSubstr("other")));
}

}  // namespace
}  // namespace granary::gateway
