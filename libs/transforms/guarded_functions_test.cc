// The guarded library functions through the sandbox: work in C charged before it is done (or
// stopped by the time backstop), and what could differ between Lua states made the same or
// refused.
#include "libs/transforms/guarded_functions.h"

#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

#include "libs/testing/status_matchers.h"
#include "libs/transforms/lua_sandbox.h"

namespace granary::transforms {
namespace {

using ::granary::testing::StatusIs;
using ::testing::AllOf;
using ::testing::HasSubstr;
using types::v1::Value;
using types::v1::ValueType;

absl::StatusOr<Value> Eval(const std::string& text, ValueType::Enum type,
                           SandboxLimits limits = {}) {
  LuaSandbox lua(limits);
  const int scope = lua.NewScope({});
  absl::StatusOr<int> chunk = lua.Compile("view.f", text);
  if (!chunk.ok()) return chunk.status();
  lua.BeginRow(scope);
  absl::StatusOr<Value> out = lua.Evaluate(*chunk, type);
  lua.EndRow();
  return out;
}

std::string Text(const absl::StatusOr<Value>& v) {
  return v.ok() ? v->string_val() : std::string(v.status().message());
}

TEST(GuardedFunctionsTest, LoopsInsideCAreChargedBeforeTheyRun) {
  // Each would loop in C about 2^62 times, where the count hook never runs.
  // A table whose length (a border) is 2^62, with 68 keys: 16, 32, ... 2^62 first (all in the
  // hash part), then 1 to 9. The assert makes sure of it (its failure reads "assertion failed").
  const std::string kHugeBorder =
      "local t, k = {}, 16\nfor i = 1, 59 do t[k] = 1 k = k * 2 end\n"
      "for i = 1, 9 do t[i] = 1 end\nassert(#t == 1 << 62)\n";
  const std::string runaways[] = {
      "table.move({}, 1, math.maxinteger - 1, 1)", "string.rep('', math.maxinteger)",
      kHugeBorder + "table.insert(t, 1, 0)",       kHugeBorder + "table.remove(t, 1)",
      "table.concat({}, '', 1, math.maxinteger)",  "table.unpack({}, 1, 1 << 40)",
  };
  for (const std::string& runaway : runaways) {
    EXPECT_THAT(Eval(runaway, ValueType::INT64),
                StatusIs(absl::StatusCode::kInvalidArgument,
                         AllOf(HasSubstr("view.f:"), HasSubstr("instruction limit"))))
        << runaway;
  }
  // What is within the budget works as Lua's own.
  EXPECT_EQ(Text(Eval("local t = {1, 2, 3}\ntable.insert(t, 1, 0)\ntable.remove(t)\n"
                      "return table.concat(table.move(t, 1, 3, 2, {}), ',', 2) .. "
                      "string.rep('ab', 2, '-')",
                      ValueType::STRING)),
            "0,1,2ab-ab");
}

TEST(GuardedFunctionsTest, FindIsPlainAndCharged) {
  EXPECT_THAT(Eval("string.find('ab a.', 'a.')", ValueType::INT64),
              ::granary::testing::IsOkAndHolds(::testing::Property(&Value::int64_val, 4)));
  EXPECT_THAT(Eval("string.rep('a', 1 << 19):find(string.rep('a', 4096) .. 'b')", ValueType::INT64),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("instruction limit")));
}

TEST(GuardedFunctionsTest, WorkNoChargeForesawStopsAtTheTimeBackstop) {
  // Comparing two distinct 1 MiB strings is one instruction and a megabyte of memcmp.
  SandboxLimits limits{.max_instructions = 1'000'000'000,
                       .max_memory_bytes = size_t{64} << 20,
                       .max_time = absl::Milliseconds(20)};
  EXPECT_THAT(Eval("local s, t = string.rep('x', 1 << 20), string.rep('x', 1 << 20)\n"
                   "local n = 0\nwhile true do if s == t .. '' then n = n + 1 end end",
                   ValueType::INT64, limits),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       AllOf(HasSubstr("view.f:"), HasSubstr("time limit of 20 ms"))));
}

TEST(GuardedFunctionsTest, PairsIteratesInKeyOrder) {
  EXPECT_EQ(Text(Eval("local t = {b = 1, a = 2, [3] = 0, [1] = 0, [2.5] = 0, [true] = 0}\n"
                      "local s = ''\nfor k in pairs(t) do s = s .. tostring(k) .. ',' end\n"
                      "return s",
                      ValueType::STRING)),
            "true,1,2.5,3,a,b,");
  // A key removed while iterating is skipped.
  EXPECT_EQ(Text(Eval("local t = {a = 1, b = 2, c = 3}\nlocal s = ''\n"
                      "for k, v in pairs(t) do s = s .. k t.b = nil end\nreturn s",
                      ValueType::STRING)),
            "ac");
  EXPECT_THAT(Eval("for k in pairs({[{}] = 1}) do end", ValueType::INT64),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("no stable order")));
  EXPECT_THAT(Eval("next({})", ValueType::INT64),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("unknown name 'next'")));
}

TEST(GuardedFunctionsTest, AddressesNeverBecomeText) {
  for (const char* call : {"tostring({})", "tostring(type)", "string.format('%s', {})",
                           "string.format('%p', 'x')", "('%10p'):format('x')"}) {
    EXPECT_THAT(Eval(call, ValueType::STRING), StatusIs(absl::StatusCode::kInvalidArgument))
        << call;
  }
  EXPECT_EQ(Text(Eval("tostring(1.5) .. string.format('%5.1f|%s|%%p', 2, 'x')", ValueType::STRING)),
            "1.5  2.0|x|%p");
}

TEST(GuardedFunctionsTest, SortsAtMostAHundredElements) {
  EXPECT_EQ(Text(Eval("local t = {}\nfor i = 1, 100 do t[i] = 101 - i end\ntable.sort(t)\n"
                      "return t[1] .. ',' .. t[100]",
                      ValueType::STRING)),
            "1,100");
  EXPECT_THAT(Eval("local t = {}\nfor i = 1, 101 do t[i] = i end\ntable.sort(t)", ValueType::INT64),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("at most 100 elements")));
}

}  // namespace
}  // namespace granary::transforms
