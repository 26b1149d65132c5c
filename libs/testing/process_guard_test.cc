#include "libs/testing/process_guard.h"

#include <poll.h>
#include <unistd.h>

#include <fstream>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include <sys/wait.h>

#include "libs/testing/status_matchers.h"
#include "libs/testing/temp_dir.h"

namespace granary::testing {
namespace {

TEST(ProcessGuardTest, RunsTheCommandWhenDestroyed) {
  ASSERT_OK_AND_ASSIGN(TempDir dir, TempDir::Create("guard"));
  std::string marker = dir.path() + "/ran";
  {
    ASSERT_OK_AND_ASSIGN(auto guard, ProcessGuard::Start("touch " + marker));
    EXPECT_FALSE(std::ifstream(marker).good());
  }
  EXPECT_TRUE(std::ifstream(marker).good());
}

TEST(ProcessGuardTest, RunsTheCommandWhenItsOwnerIsKilled) {
  // `done` is inherited (no close-on-exec) down to the guardian's shell, which reports on it.
  int ready[2], done[2];
  ASSERT_EQ(pipe(ready), 0);
  ASSERT_EQ(pipe(done), 0);
  std::string command = absl::StrCat("echo ran >&", done[1]);
  pid_t owner = fork();
  ASSERT_GE(owner, 0);
  if (owner == 0) {
    // An owner that sets up a guard, never destroys it, and is SIGKILLed.
    close(ready[0]);
    close(done[0]);
    auto guard = ProcessGuard::Start(command);
    if (!guard.ok()) _exit(1);
    (*guard).release();
    if (write(ready[1], "r", 1) != 1) _exit(1);
    pause();
    _exit(0);
  }
  close(ready[1]);
  close(done[1]);
  char c;
  ASSERT_EQ(read(ready[0], &c, 1), 1);  // the guard is in place
  kill(owner, SIGKILL);
  waitpid(owner, nullptr, 0);
  struct pollfd p = {done[0], POLLIN, 0};
  ASSERT_EQ(poll(&p, 1, 10'000), 1) << "the guardian did not run its command";
  char buf[8] = {};
  ASSERT_GT(read(done[0], buf, sizeof(buf) - 1), 0);
  EXPECT_STREQ(buf, "ran\n");
  close(ready[0]);
  close(done[0]);
}

}  // namespace
}  // namespace granary::testing
