#include "libs/transforms/program_cache.h"

#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "google/protobuf/text_format.h"
#include "gtest/gtest.h"

#include "libs/testing/status_matchers.h"

namespace granary::transforms {
namespace {

using ::granary::testing::StatusIs;

registry::v1::FeatureRepo Repo(const std::string& expression) {
  registry::v1::FeatureRepo repo;
  EXPECT_TRUE(google::protobuf::TextFormat::ParseFromString(
      R"pb(
        feature_views {
          name: "stats"
          schema { name: "rate" dtype: DOUBLE }
        }
        on_demand_feature_views {
          name: "scaled"
          sources { feature_view { feature_view: "stats" } }
          schema { name: "out" dtype: DOUBLE }
        }
      )pb",
      &repo));
  // Set apart from the text proto, which a formatter would reflow.
  (*repo.mutable_on_demand_feature_views(0)
        ->mutable_transformation()
        ->mutable_expressions())["out"] = expression;
  return repo;
}

double Scaled(ViewProgram& program, double rate) {
  types::v1::Value in;
  in.set_double_val(rate);
  std::vector<absl::StatusOr<types::v1::Value>> out;
  program.Evaluate({&in}, &out);
  EXPECT_TRUE(out.at(0).ok()) << out.at(0).status();
  return out.at(0).ok() ? out[0]->double_val() : 0;
}

TEST(ProgramCacheTest, CompiledOncePerCatalogAndAgainForANewOne) {
  registry::v1::FeatureRepo first = Repo("rate * 2");
  ASSERT_OK_AND_ASSIGN(std::shared_ptr<ViewProgram> a, ThreadProgram(1, first, "scaled"));
  ASSERT_OK_AND_ASSIGN(std::shared_ptr<ViewProgram> again, ThreadProgram(1, first, "scaled"));
  EXPECT_EQ(a, again);
  EXPECT_DOUBLE_EQ(Scaled(*a, 1.5), 3);
  // A new catalog (a new serial) with a changed expression: compiled again.
  ASSERT_OK_AND_ASSIGN(std::shared_ptr<ViewProgram> b,
                       ThreadProgram(2, Repo("rate * 10"), "scaled"));
  EXPECT_DOUBLE_EQ(Scaled(*b, 1.5), 15);
  EXPECT_THAT(ThreadProgram(2, first, "nope"), StatusIs(absl::StatusCode::kNotFound));
}

TEST(ViewLimitsTest, EvaluationsAreBoundedByTheViewsOwnLimitsWhereverTheyRun) {
  registry::v1::FeatureRepo repo = Repo("local n = 0 for i = 1, 100000 do n = n + i end return n");
  repo.mutable_on_demand_feature_views(0)->mutable_transformation()->set_max_instructions(10'000);
  ASSERT_OK_AND_ASSIGN(std::shared_ptr<ViewProgram> program, ThreadProgram(9001, repo, "scaled"));
  std::vector<absl::StatusOr<types::v1::Value>> out;
  program->Evaluate({}, &out);
  EXPECT_THAT(out[0], StatusIs(absl::StatusCode::kInvalidArgument,
                               ::testing::HasSubstr("instruction limit of 10000")));
  // Out of bounds: the registry's check says so.
  repo.mutable_on_demand_feature_views(0)->mutable_transformation()->set_max_instructions(-1);
  repo.mutable_on_demand_feature_views(0)->mutable_transformation()->set_max_memory_bytes(10);
  std::vector<ProgramProblem> problems = ViewProgram::Check(repo, repo.on_demand_feature_views(0));
  ASSERT_EQ(problems.size(), 2u);
  EXPECT_EQ(problems[0].path, "transformation.max_instructions");
  EXPECT_EQ(problems[1].path, "transformation.max_memory_bytes");
}

}  // namespace
}  // namespace granary::transforms
