#include "libs/base/idle_socket.h"

#include <unistd.h>

#include "gtest/gtest.h"
#include <sys/socket.h>

namespace granary::base {
namespace {

TEST(IdleSocketTest, QuietOpenSocketIsFine) {
  int fds[2];
  ASSERT_EQ(socketpair(AF_UNIX, SOCK_STREAM, 0, fds), 0);
  EXPECT_FALSE(IdleSocketIsStale(fds[0]));
  close(fds[0]);
  close(fds[1]);
}

TEST(IdleSocketTest, PeerClosedIsStale) {
  int fds[2];
  ASSERT_EQ(socketpair(AF_UNIX, SOCK_STREAM, 0, fds), 0);
  close(fds[1]);
  EXPECT_TRUE(IdleSocketIsStale(fds[0]));
  close(fds[0]);
}

TEST(IdleSocketTest, UnsolicitedDataIsStale) {
  int fds[2];
  ASSERT_EQ(socketpair(AF_UNIX, SOCK_STREAM, 0, fds), 0);
  ASSERT_EQ(write(fds[1], "x", 1), 1);
  EXPECT_TRUE(IdleSocketIsStale(fds[0]));
  close(fds[0]);
  close(fds[1]);
}

TEST(IdleSocketTest, BadDescriptorIsStale) { EXPECT_TRUE(IdleSocketIsStale(-1)); }

}  // namespace
}  // namespace granary::base
