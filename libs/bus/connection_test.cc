#include "libs/bus/connection.h"

#include <atomic>

#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

#include "libs/testing/nats_server.h"
#include "libs/testing/status_matchers.h"

namespace granary::bus {
namespace {

using ::granary::testing::NatsServer;
using ::granary::testing::StatusIs;

// Collects messages; tests wait on it with a bounded condition wait, not a sleep.
class Inbox {
 public:
  void Add(absl::string_view subject, absl::string_view data) {
    absl::MutexLock lock(&mu_);
    messages_.emplace_back(std::string(subject), std::string(data));
  }
  bool WaitFor(size_t n, absl::Duration timeout) {
    absl::MutexLock lock(&mu_);
    auto enough = [&]() ABSL_SHARED_LOCKS_REQUIRED(mu_) { return messages_.size() >= n; };
    return mu_.AwaitWithTimeout(absl::Condition(&enough), timeout);
  }
  std::vector<std::pair<std::string, std::string>> messages() {
    absl::MutexLock lock(&mu_);
    return messages_;
  }

 private:
  absl::Mutex mu_;
  std::vector<std::pair<std::string, std::string>> messages_ ABSL_GUARDED_BY(mu_);
};

NatsOptions OptionsFor(const NatsServer& server) {
  NatsOptions o;
  o.url = server.url();
  o.reconnect_wait = absl::Milliseconds(50);
  return o;
}

TEST(ConnectionTest, PublishSubscribeRoundTrip) {
  ASSERT_OK_AND_ASSIGN(auto server, NatsServer::Start());
  ASSERT_OK_AND_ASSIGN(auto conn, Connection::Open(OptionsFor(*server)));
  ASSERT_OK(conn->Ping());
  Inbox inbox;
  ASSERT_OK_AND_ASSIGN(auto sub, conn->Subscribe("granary.test.>", [&](auto subj, auto data) {
    inbox.Add(subj, data);
  }));
  ASSERT_OK(conn->Ping());  // The subscription is registered once the server answered.
  ASSERT_OK(conn->Publish("granary.test.a", std::string("x\0y", 3)));
  ASSERT_OK(conn->Publish("other.subject", "ignored"));
  ASSERT_TRUE(inbox.WaitFor(1, absl::Seconds(5)));
  auto messages = inbox.messages();
  EXPECT_EQ(messages[0].first, "granary.test.a");
  EXPECT_EQ(messages[0].second, std::string("x\0y", 3));
}

TEST(ConnectionTest, OpensWhileNatsIsDownAndConnectsWhenItComesUp) {
  ASSERT_OK_AND_ASSIGN(auto server, NatsServer::Start());
  NatsOptions o = OptionsFor(*server);
  ASSERT_OK(server->Stop());
  ASSERT_OK_AND_ASSIGN(auto conn, Connection::Open(o));
  EXPECT_FALSE(conn->connected());
  EXPECT_THAT(conn->Ping(), StatusIs(absl::StatusCode::kUnavailable));
  ASSERT_OK(server->Restart());
  EXPECT_TRUE(conn->WaitConnected(absl::Seconds(10)));
}

TEST(ConnectionTest, ReconnectListenersHearOfEachNewConnection) {
  ASSERT_OK_AND_ASSIGN(auto server, NatsServer::Start());
  ASSERT_OK_AND_ASSIGN(auto conn, Connection::Open(OptionsFor(*server)));
  ASSERT_TRUE(conn->WaitConnected(absl::Seconds(10)));
  absl::Notification heard;
  std::atomic<int> calls{0};
  uint64_t id = conn->AddReconnectListener([&] {
    if (calls.fetch_add(1) == 0) heard.Notify();
  });
  ASSERT_OK(server->Restart());
  ASSERT_TRUE(heard.WaitForNotificationWithTimeout(absl::Seconds(10)));
  conn->RemoveReconnectListener(id);
  uint64_t before = conn->connects();
  ASSERT_OK(server->Restart());
  ASSERT_TRUE(conn->WaitConnected(absl::Seconds(10), before));
  EXPECT_EQ(calls, 1);  // removed: not called for the second reconnect
}

TEST(ConnectionTest, ReconnectsAndKeepsSubscriptions) {
  ASSERT_OK_AND_ASSIGN(auto server, NatsServer::Start());
  ASSERT_OK_AND_ASSIGN(auto conn, Connection::Open(OptionsFor(*server)));
  Inbox inbox;
  ASSERT_OK_AND_ASSIGN(auto sub,
                       conn->Subscribe("s", [&](auto subj, auto data) { inbox.Add(subj, data); }));
  ASSERT_OK(conn->Ping());
  uint64_t before = conn->connects();
  ASSERT_OK(server->Restart());
  // A new connection, not the old one the client may not yet know is dead.
  ASSERT_TRUE(conn->WaitConnected(absl::Seconds(10), before));
  ASSERT_OK(conn->Publish("s", "after restart"));
  ASSERT_TRUE(inbox.WaitFor(1, absl::Seconds(5)));
  EXPECT_EQ(inbox.messages()[0].second, "after restart");
}

TEST(OptionsTest, RefusesCredentialsInTheUrl) {
  ASSERT_OK_AND_ASSIGN(config::Reader root,
                       config::Reader::FromString("nats: {url: 'nats://me:s3cret@host:4222'}\n"));
  ReadNatsOptions(root.Section("nats"));
  absl::Status s = root.Finish();
  EXPECT_THAT(s, StatusIs(absl::StatusCode::kInvalidArgument,
                          ::testing::HasSubstr("credentials do not belong in the URL")));
  EXPECT_THAT(std::string(s.message()), ::testing::Not(::testing::HasSubstr("s3cret")));
}

TEST(OptionsTest, ValidatesTheSection) {
  ASSERT_OK_AND_ASSIGN(config::Reader root, config::Reader::FromString(R"(
nats:
  url: http://wrong
)"));
  ReadNatsOptions(root.Section("nats"));
  EXPECT_THAT(root.Finish(), StatusIs(absl::StatusCode::kInvalidArgument,
                                      ::testing::HasSubstr("nats.url: expected nats://")));
}

}  // namespace
}  // namespace granary::bus
