#include "libs/transforms/view_program.h"

#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "google/protobuf/text_format.h"
#include "gtest/gtest.h"

#include "libs/testing/status_matchers.h"

namespace granary::transforms {
namespace {

using ::granary::testing::StatusIs;
using registry::v1::FeatureRepo;
using ::testing::AllOf;
using ::testing::ElementsAre;
using ::testing::Field;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using types::v1::Value;

// Two views sharing a feature name, and a request source.
FeatureRepo Repo(const std::string& on_demand) {
  FeatureRepo repo;
  const std::string text = R"pb(
                             data_sources {
                               name: "vals"
                               request { schema { name: "val_to_add" dtype: INT64 } }
                             }
                             feature_views {
                               name: "driver_hourly_stats"
                               schema { name: "conv_rate" dtype: FLOAT }
                               schema { name: "acc_rate" dtype: FLOAT }
                             }
                             feature_views {
                               name: "legacy"
                               schema { name: "conv_rate" dtype: DOUBLE }
                             }
                           )pb" +
                           on_demand;
  EXPECT_TRUE(google::protobuf::TextFormat::ParseFromString(text, &repo)) << text;
  return repo;
}

constexpr char kTransformed[] = R"pb(
  on_demand_feature_views {
    name: "transformed"
    sources { feature_view { feature_view: "driver_hourly_stats" } }
    sources { request_source: "vals" }
    schema { name: "plus" dtype: DOUBLE }
    schema { name: "label" dtype: STRING }
    transformation {
      expressions { key: "plus" value: "conv_rate + val_to_add" }
      expressions {
        key: "label"
        value: "if acc_rate == nil then return 'unknown' end\nreturn acc_rate > 0.5 and 'good' or 'poor'"
      }
    }
  }
)pb";

Value Float(float v) {
  Value out;
  out.set_float_val(v);
  return out;
}
Value Int64(int64_t v) {
  Value out;
  out.set_int64_val(v);
  return out;
}

TEST(ViewProgramTest, ResolvesInputsAndEvaluatesEachOutput) {
  FeatureRepo repo = Repo(kTransformed);
  ASSERT_OK_AND_ASSIGN(auto program, ViewProgram::Compile(repo, repo.on_demand_feature_views(0)));
  ASSERT_EQ(program->inputs().size(), 3u);
  EXPECT_THAT(program->inputs()[0].names,
              ElementsAre("driver_hourly_stats__conv_rate", "conv_rate"));
  EXPECT_TRUE(program->inputs()[2].from_request);
  EXPECT_THAT(program->outputs(), ElementsAre(Field(&ProgramOutput::name, "plus"),
                                              Field(&ProgramOutput::name, "label")));
  // What each output reads, from its bytecode: plus reads conv_rate and val_to_add.
  EXPECT_THAT(program->reads(0), ElementsAre(0, 2));
  EXPECT_THAT(program->reads(1), ElementsAre(1));
  const Value conv = Float(0.25), acc = Float(0.75), val = Int64(10);
  std::vector<absl::StatusOr<Value>> out;
  program->Evaluate({&conv, &acc, &val}, &out);
  ASSERT_EQ(out.size(), 2u);
  ASSERT_OK(out[0].status());
  EXPECT_DOUBLE_EQ(out[0]->double_val(), 10.25);
  ASSERT_OK(out[1].status());
  EXPECT_EQ(out[1]->string_val(), "good");

  // A missing input is nil: one output fails alone, the other answers.
  program->Evaluate({&conv, nullptr, nullptr}, &out);
  EXPECT_THAT(out[0].status(),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       AllOf(HasSubstr("transformed.plus:1:"), HasSubstr("arithmetic"))));
  ASSERT_OK(out[1].status());
  EXPECT_EQ(out[1]->string_val(), "unknown");

  // Only what is wanted is evaluated.
  const std::vector<bool> wanted = {false, true};
  program->Evaluate({&conv, &acc, &val}, &out, &wanted);
  EXPECT_THAT(out[0].status(), StatusIs(absl::StatusCode::kCancelled));
  ASSERT_OK(out[1].status());
  EXPECT_EQ(out[1]->string_val(), "good");
}

TEST(ViewProgramTest, ASharedShortNameIsReadByItsFullName) {
  FeatureRepo repo = Repo(R"pb(
    on_demand_feature_views {
      name: "both"
      sources { feature_view { feature_view: "driver_hourly_stats" features: "conv_rate" } }
      sources { feature_view { feature_view: "legacy" alias: "old" } }
      schema { name: "diff" dtype: DOUBLE }
      transformation {
        expressions { key: "diff" value: "driver_hourly_stats__conv_rate - old__conv_rate" }
      }
    }
  )pb");
  ASSERT_OK_AND_ASSIGN(auto program, ViewProgram::Compile(repo, repo.on_demand_feature_views(0)));
  const Value a = Float(0.5);
  Value b;
  b.set_double_val(0.25);
  std::vector<absl::StatusOr<Value>> out;
  program->Evaluate({&a, &b}, &out);
  ASSERT_OK(out[0].status());
  EXPECT_DOUBLE_EQ(out[0]->double_val(), 0.25);

  repo.mutable_on_demand_feature_views(0)->mutable_transformation()->mutable_expressions()->at(
      "diff") = "conv_rate * 2";
  EXPECT_THAT(
      ViewProgram::Check(repo, repo.on_demand_feature_views(0)),
      ElementsAre(AllOf(Field(&ProgramProblem::path, "transformation.expressions.diff"),
                        Field(&ProgramProblem::message, AllOf(HasSubstr("conv_rate is ambiguous"),
                                                              HasSubstr("old__conv_rate"))))));
}

TEST(ViewProgramTest, CheckNamesEveryProblemWithViewFeatureAndLine) {
  FeatureRepo repo = Repo(R"pb(
    on_demand_feature_views {
      name: "broken"
      sources { feature_view { feature_view: "driver_hourly_stats" } }
      schema { name: "a" dtype: DOUBLE }
      schema { name: "b" dtype: DOUBLE }
      schema { name: "c" dtype: DOUBLE }
      schema { name: "d" dtype: DOUBLE }
      transformation {
        mode: "python"
        text: "a = 1"
        expressions { key: "a" value: "local x = 1\nreturn x +" }
        expressions { key: "b" value: "conv_rate + speed" }
        expressions { key: "c" value: "os.time()" }
        expressions { key: "extra" value: "1" }
      }
    }
  )pb");
  std::vector<ProgramProblem> problems = ViewProgram::Check(repo, repo.on_demand_feature_views(0));
  auto at = [](const std::string& path, const std::string& message) {
    return AllOf(Field(&ProgramProblem::path, path),
                 Field(&ProgramProblem::message, HasSubstr(message)));
  };
  EXPECT_THAT(problems,
              ::testing::UnorderedElementsAre(
                  at("transformation.mode", "\"python\" is not a transformation mode"),
                  at("transformation.text", "one expression per output feature"),
                  at("transformation.expressions.a", "broken.a:2:"),
                  at("transformation.expressions.b", "reads speed, neither an input"),
                  at("transformation.expressions.c", "reads os"),
                  at("transformation.expressions", "no expression for output feature d"),
                  at("transformation.expressions.extra", "not a feature of the view's schema")));
  EXPECT_THAT(
      ViewProgram::Compile(repo, repo.on_demand_feature_views(0)).status(),
      StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("on-demand feature view broken")));
}

TEST(ViewProgramTest, ReadingOrReplacingEnvOtherThanByNameIsRefused) {
  for (const char* expression : {"_ENV['conv' .. '_rate']", "_ENV = {}\nreturn 1"}) {
    FeatureRepo repo = Repo(kTransformed);
    (*repo.mutable_on_demand_feature_views(0)
          ->mutable_transformation()
          ->mutable_expressions())["plus"] = expression;
    EXPECT_THAT(ViewProgram::Check(repo, repo.on_demand_feature_views(0)),
                ElementsAre(AllOf(
                    Field(&ProgramProblem::path, "transformation.expressions.plus"),
                    Field(&ProgramProblem::message, HasSubstr("reads _ENV other than by name")))))
        << expression;
  }
}

TEST(ViewProgramTest, AValidViewHasNoProblems) {
  FeatureRepo repo = Repo(kTransformed);
  EXPECT_THAT(ViewProgram::Check(repo, repo.on_demand_feature_views(0)), IsEmpty());
}

}  // namespace
}  // namespace granary::transforms
