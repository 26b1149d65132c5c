#include "libs/redis/client.h"

#include <thread>

#include "gtest/gtest.h"

#include "libs/testing/redis_server.h"
#include "libs/testing/status_matchers.h"

namespace granary::redis {
namespace {

using ::granary::testing::RedisServer;
using ::granary::testing::StatusIs;

RedisOptions OptionsFor(const RedisServer& server) {
  RedisOptions o;
  o.host = server.host();
  o.port = server.port();
  return o;
}

TEST(ClientTest, PingAndCommands) {
  ASSERT_OK_AND_ASSIGN(auto server, RedisServer::Start());
  Client client(OptionsFor(*server));
  ASSERT_OK(client.Ping());
  ASSERT_OK(client.Command({"SET", "a", "1"}));
  ASSERT_OK_AND_ASSIGN(Reply r, client.Command({"GET", "a"}));
  EXPECT_EQ(r.str, "1");
}

TEST(ClientTest, ReconnectsByItselfAfterRedisRestarts) {
  ASSERT_OK_AND_ASSIGN(auto server, RedisServer::Start());
  Client client(OptionsFor(*server));
  ASSERT_OK(client.Ping());

  ASSERT_OK(server->Stop());
  EXPECT_THAT(client.Ping(), StatusIs(absl::StatusCode::kUnavailable));

  ASSERT_OK(server->Restart());
  // The pooled connection went stale during the outage; it is noticed before use, so the
  // first call after the restart succeeds.
  EXPECT_OK(client.Ping());
}

TEST(ClientTest, NeverSendsACommandTwice) {
  ASSERT_OK_AND_ASSIGN(auto server, RedisServer::Start());
  RedisOptions o = OptionsFor(*server);
  o.command_timeout = absl::Milliseconds(100);
  Client client(o);
  ASSERT_OK(client.Command({"SET", "n", "0"}));
  // The client reads the INCR's reply, then times out waiting on the BLPOP. Every send of this
  // batch is therefore counted in n by the time Pipeline returns: n must be 1.
  EXPECT_THAT(client.Pipeline({{"INCR", "n"}, {"BLPOP", "empty", "2"}}),
              StatusIs(absl::StatusCode::kDeadlineExceeded));
  Client checker(OptionsFor(*server));
  ASSERT_OK_AND_ASSIGN(Reply n, checker.Command({"GET", "n"}));
  EXPECT_EQ(n.str, "1");
}

TEST(ClientTest, ConcurrentCallersShareThePool) {
  ASSERT_OK_AND_ASSIGN(auto server, RedisServer::Start());
  RedisOptions o = OptionsFor(*server);
  o.pool_size = 2;
  Client client(o);
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&client] {
      for (int i = 0; i < 200; ++i) ASSERT_OK(client.Command({"INCR", "counter"}));
    });
  }
  for (auto& t : threads) t.join();
  ASSERT_OK_AND_ASSIGN(Reply r, client.Command({"GET", "counter"}));
  EXPECT_EQ(r.str, "1600");
}

TEST(OptionsTest, ReadsTheSection) {
  ASSERT_OK_AND_ASSIGN(config::Reader root, config::Reader::FromString(R"(
redis:
  address: 10.0.0.5:6380
  user: serving
  pool_size: 8
  command_timeout: 50ms
)"));
  RedisOptions o = ReadRedisOptions(root.Section("redis"));
  ASSERT_OK(root.Finish());
  EXPECT_EQ(o.host, "10.0.0.5");
  EXPECT_EQ(o.port, 6380);
  EXPECT_EQ(o.user, "serving");
  EXPECT_EQ(o.pool_size, 8);
  EXPECT_EQ(o.command_timeout, absl::Milliseconds(50));
}

}  // namespace
}  // namespace granary::redis
