#include "libs/testing/subprocess.h"

#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include <sys/wait.h>

#include "libs/testing/ports.h"
#include "libs/testing/status_matchers.h"
#include "libs/testing/temp_dir.h"

namespace granary::testing {
namespace {

using ::testing::HasSubstr;

TEST(SubprocessTest, WaitsForOutputThenStops) {
  ASSERT_OK_AND_ASSIGN(auto p,
                       Subprocess::Start({.argv = {"sh", "-c", "echo ready; exec sleep 60"}}));
  ASSERT_OK(p->WaitForOutput("ready", absl::Seconds(10)));
  EXPECT_TRUE(p->Running());
  ASSERT_OK(p->Stop());
  EXPECT_FALSE(p->Running());
  EXPECT_FALSE(ProcessGroupAlive(p->pid()));
  ASSERT_TRUE(p->wait_status().has_value());
  EXPECT_TRUE(WIFSIGNALED(*p->wait_status()));
}

TEST(SubprocessTest, ExitBeforeReadyLineIsReportedWithOutput) {
  ASSERT_OK_AND_ASSIGN(auto p, Subprocess::Start({.argv = {"sh", "-c", "echo boom >&2; exit 3"}}));
  absl::Status s = p->WaitForOutput("ready", absl::Seconds(10));
  EXPECT_THAT(s, StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("boom")));
  ASSERT_OK_AND_ASSIGN(int status, p->Wait(absl::Seconds(10)));
  EXPECT_EQ(WEXITSTATUS(status), 3);
}

TEST(SubprocessTest, MissingOutputTimesOut) {
  ASSERT_OK_AND_ASSIGN(auto p, Subprocess::Start({.argv = {"sleep", "60"}}));
  EXPECT_THAT(p->WaitForOutput("never", absl::Milliseconds(100)),
              StatusIs(absl::StatusCode::kDeadlineExceeded));
  ASSERT_OK(p->Stop());
}

TEST(SubprocessTest, StopKillsTheWholeGroupEvenWhenTermIsIgnored) {
  ASSERT_OK_AND_ASSIGN(
      auto p,
      Subprocess::Start({.argv = {"sh", "-c", "trap '' TERM; sleep 60 & echo started; wait"}}));
  ASSERT_OK(p->WaitForOutput("started", absl::Seconds(10)));
  ASSERT_OK(p->Stop(SIGTERM, absl::Milliseconds(200)));
  EXPECT_FALSE(ProcessGroupAlive(p->pid()));
}

TEST(SubprocessTest, CopiesOutputToLogAndPassesEnvironment) {
  ASSERT_OK_AND_ASSIGN(TempDir dir, TempDir::Create("subprocess"));
  std::string log = dir.path() + "/out.log";
  setenv("GRANARY_X", "from the parent", 1);
  ASSERT_OK_AND_ASSIGN(auto p, Subprocess::Start({.argv = {"sh", "-c", "echo value=$GRANARY_X"},
                                                  .env = {"GRANARY_X=42"},
                                                  .log_path = log}));
  ASSERT_OK(p->Wait(absl::Seconds(10)));
  // The reader thread finishes copying once the pipe closes; the destructor joins it.
  p.reset();
  std::ifstream in(log);
  std::stringstream contents;
  contents << in.rdbuf();
  EXPECT_EQ(contents.str(), "value=42\n");
}

TEST(SubprocessTest, MissingProgramFails) {
  ASSERT_OK_AND_ASSIGN(auto p, Subprocess::Start({.argv = {"/nonexistent/program"}}));
  ASSERT_OK_AND_ASSIGN(int status, p->Wait(absl::Seconds(10)));
  EXPECT_EQ(WEXITSTATUS(status), 127);
}

TEST(PortsTest, PicksDistinctFreePortsBelowTheEphemeralRange) {
  int ephemeral_low = 0, ephemeral_high = 0;
  std::ifstream("/proc/sys/net/ipv4/ip_local_port_range") >> ephemeral_low >> ephemeral_high;
  ASSERT_GT(ephemeral_low, 10000);
  ASSERT_OK_AND_ASSIGN(std::vector<int> ports, PickFreePorts(20));
  std::set<int> distinct(ports.begin(), ports.end());
  EXPECT_EQ(distinct.size(), 20u);
  for (int port : ports) {
    EXPECT_GE(port, 10000);
    EXPECT_LT(port, ephemeral_low);
  }
}

TEST(ProcessInfoTest, ReadsThisProcessAndRejectsMissingOnes) {
  ASSERT_OK_AND_ASSIGN(ProcessInfo me, ReadProcessInfo(getpid()));
  EXPECT_EQ(me.ppid, getppid());
  EXPECT_EQ(me.pgid, getpgrp());
  EXPECT_THAT(ReadProcessInfo(-5), StatusIs(absl::StatusCode::kNotFound));
}

TEST(TempDirTest, MoveAssignmentRemovesTheOldFolderAndKeepsTheNew) {
  ASSERT_OK_AND_ASSIGN(TempDir a, TempDir::Create("a"));
  ASSERT_OK_AND_ASSIGN(TempDir b, TempDir::Create("b"));
  std::string old_path = a.path(), new_path = b.path();
  a = std::move(b);
  EXPECT_EQ(a.path(), new_path);
  EXPECT_TRUE(b.path().empty());
  EXPECT_FALSE(std::filesystem::exists(old_path));
  EXPECT_TRUE(std::filesystem::exists(new_path));
}

TEST(TempDirTest, RemovedOnDestruction) {
  std::string path;
  {
    ASSERT_OK_AND_ASSIGN(TempDir dir, TempDir::Create("t"));
    path = dir.path();
    std::ofstream(path + "/f") << "x";
    EXPECT_TRUE(std::ifstream(path + "/f").good());
  }
  EXPECT_FALSE(std::ifstream(path + "/f").good());
}

}  // namespace
}  // namespace granary::testing
