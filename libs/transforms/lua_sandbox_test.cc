#include "libs/transforms/lua_sandbox.h"

#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "google/protobuf/text_format.h"
#include "google/protobuf/util/message_differencer.h"
#include "gtest/gtest.h"

#include "libs/testing/status_matchers.h"

namespace granary::transforms {
namespace {

using ::granary::testing::IsOkAndHolds;
using ::granary::testing::StatusIs;
using ::testing::AllOf;
using ::testing::HasSubstr;
using types::v1::Value;
using types::v1::ValueType;

Value Double(double v) {
  Value out;
  out.set_double_val(v);
  return out;
}
Value Int64(int64_t v) {
  Value out;
  out.set_int64_val(v);
  return out;
}
Value String(const std::string& v) {
  Value out;
  out.set_string_val(v);
  return out;
}

MATCHER_P(EqualsValue, expected, expected.ShortDebugString()) {
  return google::protobuf::util::MessageDifferencer::Equals(arg, expected);
}

// One chunk over inputs a, b and xs, evaluated for one row.
class SandboxTest : public ::testing::Test {
 protected:
  absl::StatusOr<Value> Run(const std::string& text, ValueType::Enum type,
                            const std::vector<std::pair<std::string, Value>>& row = {}) {
    absl::StatusOr<int> chunk = lua_.Compile("view.feature", text);
    if (!chunk.ok()) return chunk.status();
    lua_.BeginRow(scope_);
    for (const auto& [name, value] : row) lua_.SetInput(name, value);
    absl::StatusOr<Value> out = lua_.Evaluate(*chunk, type);
    lua_.EndRow();
    return out;
  }

  LuaSandbox lua_{SandboxLimits{.max_instructions = 1'000'000, .max_memory_bytes = 1 << 20}};
  int scope_ = lua_.NewScope({"a", "b", "xs"});
};

TEST_F(SandboxTest, EvaluatesAnExpressionOverInputs) {
  EXPECT_THAT(Run("a + b", ValueType::DOUBLE, {{"a", Double(0.5)}, {"b", Int64(10)}}),
              IsOkAndHolds(EqualsValue(Double(10.5))));
}

TEST_F(SandboxTest, EvaluatesStatementsWithLocalsAndConditionals) {
  const std::string text =
      "local total = a * 2\n"
      "if total > 10 then\n"
      "  return 'high'\n"
      "end\n"
      "return 'low'";
  EXPECT_THAT(Run(text, ValueType::STRING, {{"a", Int64(6)}}),
              IsOkAndHolds(EqualsValue(String("high"))));
  EXPECT_THAT(Run(text, ValueType::STRING, {{"a", Int64(2)}}),
              IsOkAndHolds(EqualsValue(String("low"))));
}

TEST_F(SandboxTest, AMissingInputIsNilAndANilResultIsNull) {
  EXPECT_THAT(Run("a == nil and 1 or 2", ValueType::INT64), IsOkAndHolds(EqualsValue(Int64(1))));
  Value null;
  null.set_null_val(types::v1::NULL_);
  EXPECT_THAT(Run("a", ValueType::INT64, {{"a", null}}), IsOkAndHolds(EqualsValue(Value())));
}

TEST_F(SandboxTest, ErrorsNameTheViewFeatureAndLine) {
  EXPECT_THAT(Run("local x = 1\nreturn x + nothing", ValueType::INT64),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       AllOf(HasSubstr("view.feature:2:"), HasSubstr("unknown name 'nothing'"))));
  EXPECT_THAT(Run("a + {}", ValueType::INT64, {{"a", Int64(1)}}),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       AllOf(HasSubstr("view.feature:1:"), HasSubstr("arithmetic"))));
  EXPECT_THAT(Run("a +", ValueType::INT64),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("view.feature:1:")));
  // An error raised without a position still names the view and feature.
  EXPECT_THAT(Run("error('no rate', 0)", ValueType::INT64),
              StatusIs(absl::StatusCode::kInvalidArgument, "view.feature: no rate"));
}

TEST_F(SandboxTest, ForbiddenLibrariesAndFunctionsAreNotThere) {
  for (const char* name :
       {"io", "os", "require", "load", "loadfile", "dofile", "debug", "package", "print",
        "collectgarbage", "getmetatable", "setmetatable", "rawset", "_G", "pcall", "xpcall"}) {
    EXPECT_THAT(Run(std::string("type(") + name + ")", ValueType::STRING),
                StatusIs(absl::StatusCode::kInvalidArgument,
                         HasSubstr(std::string("unknown name '") + name + "'")))
        << name;
  }
  for (const char* call : {"string.dump(function() end)", "('x').dump(function() end)",
                           "math.random()", "math.randomseed(1)", "string.match('a', '.')",
                           "('a'):gmatch('.')", "string.gsub('a', '.', 'b')"}) {
    EXPECT_THAT(Run(call, ValueType::STRING),
                StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("attempt to call a nil")))
        << call;
  }
  // What is offered works.
  EXPECT_THAT(
      Run("string.upper('a') .. ('b'):upper() .. tostring(math.floor(2.5))", ValueType::STRING),
      IsOkAndHolds(EqualsValue(String("AB2"))));
}

TEST_F(SandboxTest, BytecodeIsRefused) {
  // Only text chunks load: bytecode could break the interpreter's invariants.
  EXPECT_THAT(lua_.Compile("view.feature", std::string("\x1bLua\x54", 5)),
              StatusIs(absl::StatusCode::kInvalidArgument));
}

TEST_F(SandboxTest, AnInfiniteLoopStopsAtTheInstructionLimit) {
  EXPECT_THAT(Run("local n = 0\nwhile true do n = n + 1 end", ValueType::INT64),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       AllOf(HasSubstr("view.feature:2:"), HasSubstr("instruction limit"))));
  EXPECT_THAT(Run("a + 1", ValueType::INT64, {{"a", Int64(1)}}),
              IsOkAndHolds(EqualsValue(Int64(2))));
}

TEST(SandboxInputsTest, AnInputNamedLikeALibraryFunctionIsTheInputAndNilWhenMissing) {
  LuaSandbox lua;
  const int scope = lua.NewScope({"type", "next"});
  ASSERT_OK_AND_ASSIGN(int chunk, lua.Compile("view.f", "type == nil and next == nil"));
  lua.BeginRow(scope);
  EXPECT_THAT(lua.Evaluate(chunk, ValueType::BOOL), IsOkAndHolds(EqualsValue([] {
                Value v;
                v.set_bool_val(true);
                return v;
              }())));
  lua.EndRow();
  ASSERT_OK_AND_ASSIGN(int chunk2, lua.Compile("view.g", "type .. '!'"));
  lua.BeginRow(scope);
  lua.SetInput("type", String("sedan"));
  EXPECT_THAT(lua.Evaluate(chunk2, ValueType::STRING), IsOkAndHolds(EqualsValue(String("sedan!"))));
  lua.EndRow();
}

TEST(SandboxInputsTest, AListChangedByOneOutputIsNotSeenByTheNext) {
  LuaSandbox lua;
  const int scope = lua.NewScope({"xs"});
  ASSERT_OK_AND_ASSIGN(int changes, lua.Compile("view.f", "xs[1] = 99 return xs[1]"));
  ASSERT_OK_AND_ASSIGN(int reads, lua.Compile("view.g", "xs[1]"));
  Value xs;
  for (int64_t v : {3, 4}) xs.mutable_int64_list_val()->add_val(v);
  lua.BeginRow(scope);
  lua.SetInput("xs", xs);
  EXPECT_THAT(lua.Evaluate(changes, ValueType::INT64), IsOkAndHolds(EqualsValue(Int64(99))));
  EXPECT_THAT(lua.Evaluate(reads, ValueType::INT64), IsOkAndHolds(EqualsValue(Int64(3))));
  lua.EndRow();
}

TEST(SandboxLimitsTest, AMemoryBombStopsAtTheMemoryLimit) {
  // Instructions unbounded enough that memory is what stops it.
  LuaSandbox lua(SandboxLimits{.max_instructions = 1'000'000'000, .max_memory_bytes = 1 << 20});
  const int scope = lua.NewScope({});
  for (const char* bomb :
       {"local t = {} for i = 1, 1e9 do t[i] = i end return 1", "string.rep('x', 1 << 24)",
        "local s = 'x' while true do s = s .. s end"}) {
    ASSERT_OK_AND_ASSIGN(int chunk, lua.Compile("view.bomb", bomb));
    lua.BeginRow(scope);
    EXPECT_THAT(lua.Evaluate(chunk, ValueType::INT64),
                StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("memory limit")))
        << bomb;
    lua.EndRow();
  }
  ASSERT_OK_AND_ASSIGN(int chunk, lua.Compile("view.fine", "2 * 21"));
  lua.BeginRow(scope);
  EXPECT_THAT(lua.Evaluate(chunk, ValueType::INT64), IsOkAndHolds(EqualsValue(Int64(42))));
  lua.EndRow();
}

TEST_F(SandboxTest, DeepRecursionStopsWithAnError) {
  EXPECT_THAT(
      Run("local function f(n) return 1 + f(n + 1) end\nreturn f(1)", ValueType::INT64),
      StatusIs(absl::StatusCode::kInvalidArgument,
               AllOf(HasSubstr("view.feature"),
                     ::testing::AnyOf(HasSubstr("stack overflow"), HasSubstr("memory limit")))));
  EXPECT_THAT(Run("b * 2", ValueType::INT64, {{"b", Int64(4)}}),
              IsOkAndHolds(EqualsValue(Int64(8))));
}

TEST_F(SandboxTest, NothingSurvivesBetweenEvaluations) {
  const std::string counter = "seen = (rawget(_ENV, 'seen') or 0) + 1\nreturn seen";
  EXPECT_THAT(Run(counter, ValueType::INT64), IsOkAndHolds(EqualsValue(Int64(1))));
  EXPECT_THAT(Run(counter, ValueType::INT64), IsOkAndHolds(EqualsValue(Int64(1))));
  // Libraries are read-only, so no evaluation can change what the next one calls.
  EXPECT_THAT(Run("math.floor = nil", ValueType::INT64),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("read-only")));
  EXPECT_THAT(Run("string.upper = string.lower", ValueType::INT64),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("read-only")));
  EXPECT_THAT(Run("math.floor(2.5)", ValueType::INT64), IsOkAndHolds(EqualsValue(Int64(2))));
  // An input assigned in one evaluation is the input again in the next.
  const std::vector<std::pair<std::string, Value>> row = {{"a", Int64(1)}};
  EXPECT_THAT(Run("a = 100\nreturn a", ValueType::INT64, row),
              IsOkAndHolds(EqualsValue(Int64(100))));
  EXPECT_THAT(Run("a", ValueType::INT64, row), IsOkAndHolds(EqualsValue(Int64(1))));
}

TEST_F(SandboxTest, ConvertsResultsToEveryOutputType) {
  auto parsed = [](const std::string& text) {
    Value v;
    EXPECT_TRUE(google::protobuf::TextFormat::ParseFromString(text, &v)) << text;
    return v;
  };
  struct Case {
    std::string expression;
    ValueType::Enum type;
    std::string want;  // text format
  };
  const std::vector<Case> cases = {
      {"7", ValueType::INT32, "int32_val: 7"},
      {"2^40 // 1", ValueType::INT64, "int64_val: 1099511627776"},
      {"6.0", ValueType::INT64, "int64_val: 6"},
      {"1.5", ValueType::DOUBLE, "double_val: 1.5"},
      {"3", ValueType::DOUBLE, "double_val: 3"},
      {"0.25", ValueType::FLOAT, "float_val: 0.25"},
      {"'hé'", ValueType::STRING, "string_val: \"h\\303\\251\""},
      {"'\\0\\255'", ValueType::BYTES, "bytes_val: \"\\000\\377\""},
      {"1 < 2", ValueType::BOOL, "bool_val: true"},
      {"1700000000", ValueType::UNIX_TIMESTAMP, "unix_timestamp_val: 1700000000"},
      {"{1, 2}", ValueType::INT32_LIST, "int32_list_val { val: 1 val: 2 }"},
      {"{1, 2.0}", ValueType::INT64_LIST, "int64_list_val { val: 1 val: 2 }"},
      {"{0.5}", ValueType::DOUBLE_LIST, "double_list_val { val: 0.5 }"},
      {"{0.5, 1}", ValueType::FLOAT_LIST, "float_list_val { val: 0.5 val: 1 }"},
      {"{'a', 'b'}", ValueType::STRING_LIST, "string_list_val { val: \"a\" val: \"b\" }"},
      {"{'a'}", ValueType::BYTES_LIST, "bytes_list_val { val: \"a\" }"},
      {"{true, false}", ValueType::BOOL_LIST, "bool_list_val { val: true val: false }"},
      {"{}", ValueType::UNIX_TIMESTAMP_LIST, "unix_timestamp_list_val { }"},
  };
  for (const Case& c : cases) {
    EXPECT_THAT(Run(c.expression, c.type), IsOkAndHolds(EqualsValue(parsed(c.want))))
        << c.expression;
  }
}

TEST_F(SandboxTest, ResultsOfTheWrongTypeAreRefused) {
  struct Case {
    std::string expression;
    ValueType::Enum type;
    std::string message;
  };
  const std::vector<Case> cases = {
      {"1.5", ValueType::INT64, "not an integer"},
      {"2^31 // 1", ValueType::INT32, "out of range for INT32"},
      {"'12'", ValueType::INT64, "returned a string, want INT64"},
      {"12", ValueType::STRING, "returned an integer, want STRING"},
      {"1", ValueType::BOOL, "want BOOL"},
      {"{1, 'x'}", ValueType::INT64_LIST, "element 2 of the list"},
      {"1", ValueType::DOUBLE_LIST, "want DOUBLE_LIST"},
      {"function() end", ValueType::STRING, "returned a function"},
      {"1e300", ValueType::FLOAT, "out of FLOAT's range"},
      {"{1, -1e300}", ValueType::FLOAT_LIST, "out of FLOAT's range"},
  };
  for (const Case& c : cases) {
    EXPECT_THAT(Run(c.expression, c.type),
                StatusIs(absl::StatusCode::kInvalidArgument,
                         AllOf(HasSubstr("view.feature"), HasSubstr(c.message))))
        << c.expression;
  }
}

TEST_F(SandboxTest, ListInputsAreSequences) {
  Value xs;
  for (int64_t v : {3, 4, 5}) xs.mutable_int64_list_val()->add_val(v);
  EXPECT_THAT(Run("#xs * 100 + xs[1] + xs[3]", ValueType::INT64, {{"xs", xs}}),
              IsOkAndHolds(EqualsValue(Int64(308))));
}

TEST_F(SandboxTest, NamesOfAChunkComeFromItsBytecode) {
  ASSERT_OK_AND_ASSIGN(int chunk,
                       lua_.Compile("view.feature",
                                    "local scale = 2\n"
                                    "local function twice(v) return v * scale + offset end\n"
                                    "total = twice(a) + math.max(b, 1)\n"
                                    "return total"));
  ASSERT_OK_AND_ASSIGN(GlobalNames names, lua_.NamesOf(chunk));
  EXPECT_THAT(names.read, ::testing::UnorderedElementsAre("offset", "a", "math", "b", "total"));
  EXPECT_THAT(names.assigned, ::testing::UnorderedElementsAre("total"));
  EXPECT_FALSE(names.dynamic);

  ASSERT_OK_AND_ASSIGN(int dynamic, lua_.Compile("view.feature", "_ENV['a' .. 'b']"));
  ASSERT_OK_AND_ASSIGN(GlobalNames dynamic_names, lua_.NamesOf(dynamic));
  EXPECT_TRUE(dynamic_names.dynamic);
  // Replacing _ENV changes what every later name means: dynamic too.
  ASSERT_OK_AND_ASSIGN(int replaced, lua_.Compile("view.feature", "_ENV = {os = 1}\nreturn os"));
  ASSERT_OK_AND_ASSIGN(GlobalNames replaced_names, lua_.NamesOf(replaced));
  EXPECT_TRUE(replaced_names.dynamic);
  EXPECT_TRUE(lua_.IsLibraryName("math"));
  EXPECT_TRUE(lua_.IsLibraryName("tostring"));
  EXPECT_FALSE(lua_.IsLibraryName("os"));
}

}  // namespace
}  // namespace granary::transforms
