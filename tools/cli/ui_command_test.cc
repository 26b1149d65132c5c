#include "tools/cli/ui_command.h"

#include <sstream>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace granary::cli {
namespace {

using ::testing::HasSubstr;

TEST(UiCommandTest, PrintsTheUrlAndOpensItWhenAsked) {
  std::ostringstream out, err;
  std::vector<std::string> opened;
  auto opener = [&](const std::string& url) {
    opened.push_back(url);
    return true;
  };
  EXPECT_EQ(RunUi({.url = "http://127.0.0.1:6567/ui/"}, {out, err}, opener), 0);
  EXPECT_EQ(out.str(), "http://127.0.0.1:6567/ui/\n");
  EXPECT_EQ(opened, std::vector<std::string>{"http://127.0.0.1:6567/ui/"});
  EXPECT_THAT(err.str(), HasSubstr("opened in your browser"));
  EXPECT_THAT(err.str(), HasSubstr("granary token"));
}

TEST(UiCommandTest, NoOpenOrNoBrowserOnlyPrints) {
  std::ostringstream out, err;
  int calls = 0;
  auto opener = [&](const std::string&) {
    ++calls;
    return false;
  };
  EXPECT_EQ(RunUi({.url = "http://x/ui/", .open = false}, {out, err}, opener), 0);
  EXPECT_EQ(calls, 0);
  EXPECT_EQ(RunUi({.url = "http://x/ui/"}, {out, err}, opener), 0);
  EXPECT_EQ(calls, 1);
  EXPECT_EQ(out.str(), "http://x/ui/\nhttp://x/ui/\n");
  EXPECT_THAT(err.str(), ::testing::Not(HasSubstr("opened")));
}

TEST(UiCommandTest, WithoutADisplayNoBrowserIsStarted) {
  unsetenv("DISPLAY");
  unsetenv("WAYLAND_DISPLAY");
  EXPECT_FALSE(OpenWithXdg("http://127.0.0.1:6567/ui/"));
}

}  // namespace
}  // namespace granary::cli
