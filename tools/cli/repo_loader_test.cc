#include "tools/cli/repo_loader.h"

#include <filesystem>
#include <fstream>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

#include "libs/testing/status_matchers.h"
#include "libs/testing/temp_dir.h"

namespace granary::cli {
namespace {

using ::granary::testing::StatusIs;
using ::granary::testing::TempDir;
using ::testing::AllOf;
using ::testing::HasSubstr;
using ::testing::Not;
namespace fs = std::filesystem;

class RepoLoaderTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_OK_AND_ASSIGN(dir_, TempDir::Create("repo"));
    Write("granary.yaml", "project: shop\nendpoint: 10.0.0.1:6570\ntags: {tier: gold}\n");
  }
  void Write(const std::string& name, const std::string& text) {
    fs::path p = fs::path(dir_.path()) / name;
    fs::create_directories(p.parent_path());
    std::ofstream(p) << text;
  }
  TempDir dir_ = std::move(TempDir::Create("unused").value());
};

TEST_F(RepoLoaderTest, ReadsEveryDefinitionFileIncludingSubfolders) {
  Write("entities.yaml", "entities:\n  - {name: customer, value_type: STRING}\n");
  Write("views/orders.yml",
        "data_sources:\n  - {name: orders, postgres: {table: orders}, timestamp_field: ts}\n"
        "feature_views:\n  - name: order_stats\n    entities: [customer]\n    schema:\n"
        "      - {name: total, dtype: DOUBLE}\n    batch_source: orders\n");
  Write(".hidden/ignored.yaml", "this is: [not even valid\n");
  Write("notes.txt", "not yaml");
  // The deployment's files beside the definitions (granary init, granary deploy).
  Write("deploy.yaml", "target: local\nservices: {}\n");
  Write("compose.override.yaml", "services: {}\n");
  ASSERT_OK_AND_ASSIGN(LoadedRepo repo, LoadRepo(dir_.path()));
  EXPECT_EQ(repo.config.project.name(), "shop");
  EXPECT_EQ(repo.config.endpoint, "10.0.0.1:6570");
  EXPECT_EQ(repo.repo.project().tags().at("tier"), "gold");
  ASSERT_EQ(repo.repo.entities_size(), 1);
  ASSERT_EQ(repo.repo.feature_views_size(), 1);
  EXPECT_EQ(repo.repo.feature_views(0).schema(0).name(), "total");
  EXPECT_EQ((repo.locations[{registry::v1::FEATURE_VIEW, "order_stats"}]), "views/orders.yml:4");
  EXPECT_EQ((repo.locations[{registry::v1::ENTITY, "customer"}]), "entities.yaml:2");
}

TEST_F(RepoLoaderTest, EveryProblemInEveryFileWithFileLineAndName) {
  Write("a.yaml", "entities:\n  - {name: customer, value_typ: STRING}\nviews: []\n");
  Write("b.yaml",
        "feature_views:\n  - name: order_stats\n    ttl: forever\n    schema:\n"
        "      - {name: total, dtype: DUBLE}\n");
  Write("c.yaml", "entities: [oops\n");
  absl::StatusOr<LoadedRepo> repo = LoadRepo(dir_.path());
  ASSERT_THAT(repo, StatusIs(absl::StatusCode::kInvalidArgument));
  std::string message(repo.status().message());
  EXPECT_THAT(message, AllOf(HasSubstr("5 problems"),
                             HasSubstr("a.yaml:2: entities[customer].value_typ: unknown key"),
                             HasSubstr("a.yaml:3: views: unknown key"),
                             HasSubstr("b.yaml:3: feature_views[order_stats].ttl: not a duration"),
                             HasSubstr("b.yaml:5: feature_views[order_stats].schema[0].dtype: "
                                       "unknown type \"DUBLE\""),
                             HasSubstr("c.yaml:2: malformed YAML")));
  EXPECT_THAT(message, Not(HasSubstr(dir_.path())));  // paths relative to the repo
}

TEST_F(RepoLoaderTest, TheConfigFile) {
  Write("granary.yaml", "projekt: shop\nauth: {type: oidc}\n");
  EXPECT_THAT(ReadRepoConfig(dir_.path()),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       AllOf(HasSubstr("project: required"), HasSubstr("projekt: unknown key"),
                             HasSubstr("auth.type: \"oidc\" is not supported yet"))));
  Write("granary.yaml", "project: shop\nauth: {type: none, token_file: t}\n");
  EXPECT_THAT(ReadRepoConfig(dir_.path()),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("auth.token_file")));
  EXPECT_THAT(ReadRepoConfig(dir_.path() + "/nowhere"),
              StatusIs(absl::StatusCode::kNotFound, HasSubstr("no granary.yaml")));
}

TEST_F(RepoLoaderTest, ServiceEndpointsAreUnsetUnlessNamed) {
  // Unset: through the gateway (endpoints.h).
  ASSERT_OK_AND_ASSIGN(RepoConfig defaults, ReadRepoConfig(dir_.path()));
  EXPECT_EQ(defaults.serving_endpoint, "");
  EXPECT_EQ(defaults.ingestion_endpoint, "");
  EXPECT_EQ(defaults.auth_type, "bearer");
  EXPECT_EQ(defaults.token_file, "");
  Write("granary.yaml",
        "project: shop\ningestion_endpoint: 10.0.0.2:7000\nauth: {token_file: secrets/t}\n");
  ASSERT_OK_AND_ASSIGN(RepoConfig config, ReadRepoConfig(dir_.path()));
  EXPECT_EQ(config.ingestion_endpoint, "10.0.0.2:7000");
  EXPECT_EQ(config.token_file, dir_.path() + "/secrets/t");  // from the repo's folder
}

TEST_F(RepoLoaderTest, RegistryProblemsPointAtTheirFile) {
  Write("views.yaml",
        "feature_views:\n  - name: order_stats\n    schema: [{name: total, dtype: DOUBLE}]\n");
  ASSERT_OK_AND_ASSIGN(LoadedRepo repo, LoadRepo(dir_.path()));
  std::string located = LocateProblems(
      repo,
      "2 problems in the repo:\n  feature_views[order_stats].batch_source: required\n"
      "  entities[nobody].value_type: required");
  EXPECT_THAT(located, HasSubstr("  views.yaml:2: feature_views[order_stats].batch_source"));
  EXPECT_THAT(located, HasSubstr("\n  entities[nobody].value_type: required"));
}

}  // namespace
}  // namespace granary::cli
