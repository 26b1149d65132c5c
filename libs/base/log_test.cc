#include "libs/base/log.h"

#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace granary::base {
namespace {

using ::testing::HasSubstr;
using ::testing::MatchesRegex;
using ::testing::Not;

class LogTest : public ::testing::Test {
 protected:
  void SetUp() override {
    SetLogSinkForTesting([this](absl::string_view line) { lines_.emplace_back(line); });
    SetLogLevel(LogLevel::kInfo);
    SetLogService("test");
  }
  void TearDown() override {
    SetLogSinkForTesting(nullptr);
    SetLogService("");
  }
  std::vector<std::string> lines_;
};

TEST_F(LogTest, WritesOneLogfmtLine) {
  LogInfo("listening").With("address", "127.0.0.1:1").With("port", 42).With("ok", true);
  ASSERT_EQ(lines_.size(), 1u);
  EXPECT_THAT(lines_[0], MatchesRegex("ts=[0-9T:.-]+Z level=info service=test msg=listening "
                                      "address=127.0.0.1:1 port=42 ok=true\n"));
}

TEST_F(LogTest, QuotesAndEscapesValues) {
  LogWarning("two words").With("q", "say \"hi\"\nbye").With("empty", "");
  ASSERT_EQ(lines_.size(), 1u);
  EXPECT_THAT(lines_[0], HasSubstr("level=warning"));
  EXPECT_THAT(lines_[0], HasSubstr("msg=\"two words\""));
  EXPECT_THAT(lines_[0], HasSubstr("q=\"say \\\"hi\\\"\\nbye\""));
  EXPECT_THAT(lines_[0], HasSubstr("empty=\"\""));
  EXPECT_EQ(lines_[0].find('\n'), lines_[0].size() - 1);
}

TEST_F(LogTest, FormatsStatusAndDuration) {
  LogError("failed")
      .With("status", absl::UnavailableError("down"))
      .With("after", absl::Milliseconds(1500));
  ASSERT_EQ(lines_.size(), 1u);
  EXPECT_THAT(lines_[0], HasSubstr("status=\"UNAVAILABLE: down\""));
  EXPECT_THAT(lines_[0], HasSubstr("after=1.5s"));
}

TEST_F(LogTest, DropsLinesBelowLevel) {
  LogDebug("hidden").With("x", 1);
  SetLogLevel(LogLevel::kError);
  LogWarning("hidden too");
  LogError("shown");
  ASSERT_EQ(lines_.size(), 1u);
  EXPECT_THAT(lines_[0], HasSubstr("msg=shown"));
  EXPECT_THAT(lines_[0], Not(HasSubstr("hidden")));
}

TEST(LogLevelTest, ParsesNames) {
  EXPECT_EQ(*ParseLogLevel("DEBUG"), LogLevel::kDebug);
  EXPECT_EQ(*ParseLogLevel("warn"), LogLevel::kWarning);
  EXPECT_EQ(*ParseLogLevel("error"), LogLevel::kError);
  EXPECT_EQ(ParseLogLevel("loud").status().code(), absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace granary::base
