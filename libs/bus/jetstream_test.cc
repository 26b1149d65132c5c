#include "libs/bus/jetstream.h"

#include <set>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

#include "libs/testing/nats_server.h"
#include "libs/testing/status_matchers.h"

namespace granary::bus {
namespace {

using ::granary::testing::NatsServer;
using ::granary::testing::StatusIs;

const StreamSpec kStream{.name = "TEST", .subjects = {"test.>"}};

class JetStreamTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_OK_AND_ASSIGN(server_, NatsServer::Start());
    NatsOptions o;
    o.url = server_->url();
    o.reconnect_wait = absl::Milliseconds(50);
    ASSERT_OK_AND_ASSIGN(conn_, Connection::Open(o));
    ASSERT_TRUE(conn_->WaitConnected(absl::Seconds(5)));
    ASSERT_OK_AND_ASSIGN(js_, JetStream::Create(conn_, {.publish_timeout = absl::Seconds(2)}));
    ASSERT_OK(js_->EnsureStream(kStream));
  }

  std::unique_ptr<NatsServer> server_;
  std::shared_ptr<Connection> conn_;
  std::unique_ptr<JetStream> js_;
};

TEST_F(JetStreamTest, EnsureStreamTwiceIsFine) {
  StreamSpec changed = kStream;
  changed.max_age = absl::Hours(1);
  EXPECT_OK(js_->EnsureStream(kStream));
  EXPECT_OK(js_->EnsureStream(changed));
}

TEST_F(JetStreamTest, PublishedMessageIsDeliveredWithMetadata) {
  ASSERT_OK_AND_ASSIGN(PublishAck ack, js_->Publish("test.a", std::string("x\0y", 3), "id-1"));
  EXPECT_EQ(ack.sequence, 1u);
  EXPECT_FALSE(ack.duplicate);
  ASSERT_OK_AND_ASSIGN(auto consumer,
                       js_->Consume({.stream = "TEST", .durable = "c", .subject = "test.>"}));
  ASSERT_OK_AND_ASSIGN(auto got, consumer->Fetch(10, absl::Seconds(5)));
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].subject(), "test.a");
  EXPECT_EQ(got[0].data(), std::string("x\0y", 3));
  EXPECT_EQ(got[0].deliveries(), 1u);
  EXPECT_EQ(got[0].stream_sequence(), 1u);
  EXPECT_OK(got[0].Ack());
}

TEST_F(JetStreamTest, SameMessageIdIsStoredOnce) {
  ASSERT_OK_AND_ASSIGN(PublishAck first, js_->Publish("test.a", "one", "batch-1"));
  ASSERT_OK_AND_ASSIGN(PublishAck again, js_->Publish("test.a", "one", "batch-1"));
  ASSERT_OK_AND_ASSIGN(PublishAck other, js_->Publish("test.a", "two", "batch-2"));
  EXPECT_FALSE(first.duplicate);
  EXPECT_TRUE(again.duplicate);
  EXPECT_EQ(again.sequence, first.sequence);
  EXPECT_FALSE(other.duplicate);
  ASSERT_OK_AND_ASSIGN(auto consumer,
                       js_->Consume({.stream = "TEST", .durable = "c", .subject = "test.>"}));
  ASSERT_OK_AND_ASSIGN(auto got, consumer->Fetch(10, absl::Seconds(5)));
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(got[0].data(), "one");
  EXPECT_EQ(got[1].data(), "two");
}

TEST_F(JetStreamTest, NakedMessageComesBackCountingDeliveries) {
  ASSERT_OK(js_->Publish("test.a", "m", "").status());
  ASSERT_OK_AND_ASSIGN(auto consumer,
                       js_->Consume({.stream = "TEST", .durable = "c", .subject = "test.>"}));
  ASSERT_OK_AND_ASSIGN(auto first, consumer->Fetch(1, absl::Seconds(5)));
  ASSERT_EQ(first.size(), 1u);
  ASSERT_OK(first[0].Nak(absl::ZeroDuration()));
  ASSERT_OK_AND_ASSIGN(auto second, consumer->Fetch(1, absl::Seconds(5)));
  ASSERT_EQ(second.size(), 1u);
  EXPECT_EQ(second[0].deliveries(), 2u);
  ASSERT_OK(second[0].Term());
  ASSERT_OK_AND_ASSIGN(auto none, consumer->Fetch(1, absl::Milliseconds(300)));
  EXPECT_TRUE(none.empty());
}

TEST_F(JetStreamTest, ReplicasOfOneDurableShareTheMessages) {
  constexpr int kMessages = 50;
  for (int i = 0; i < kMessages; ++i) {
    ASSERT_OK(js_->Publish("test.a", std::to_string(i), std::to_string(i)).status());
  }
  ASSERT_OK_AND_ASSIGN(auto a,
                       js_->Consume({.stream = "TEST", .durable = "shared", .subject = "test.>"}));
  ASSERT_OK_AND_ASSIGN(auto b,
                       js_->Consume({.stream = "TEST", .durable = "shared", .subject = "test.>"}));
  std::multiset<std::string> seen;
  ASSERT_OK_AND_ASSIGN(auto from_a, a->Fetch(20, absl::Seconds(5)));
  for (auto& m : from_a) {
    seen.insert(std::string(m.data()));
    ASSERT_OK(m.Ack());
  }
  while (seen.size() < kMessages) {
    ASSERT_OK_AND_ASSIGN(auto from_b, b->Fetch(kMessages, absl::Seconds(5)));
    ASSERT_FALSE(from_b.empty()) << "only " << seen.size() << " messages arrived";
    for (auto& m : from_b) {
      seen.insert(std::string(m.data()));
      ASSERT_OK(m.Ack());
    }
  }
  EXPECT_EQ(from_a.size(), 20u);
  EXPECT_EQ(std::set<std::string>(seen.begin(), seen.end()).size(), size_t{kMessages});
  EXPECT_EQ(seen.size(), size_t{kMessages});
}

TEST_F(JetStreamTest, PublishDuringOutageFailsAndStoredMessagesSurviveRestart) {
  ASSERT_OK(js_->Publish("test.a", "before", "b1").status());
  uint64_t connects = conn_->connects();
  ASSERT_OK(server_->Stop());
  EXPECT_THAT(js_->Publish("test.a", "during", "d1"), StatusIs(absl::StatusCode::kUnavailable));
  ASSERT_OK(server_->Restart());
  ASSERT_TRUE(conn_->WaitConnected(absl::Seconds(10), connects));
  ASSERT_OK(js_->Publish("test.a", "after", "a1").status());
  ASSERT_OK_AND_ASSIGN(auto consumer,
                       js_->Consume({.stream = "TEST", .durable = "c", .subject = "test.>"}));
  ASSERT_OK_AND_ASSIGN(auto got, consumer->Fetch(10, absl::Seconds(5)));
  std::vector<std::string> data;
  for (auto& m : got) data.emplace_back(m.data());
  EXPECT_THAT(data, ::testing::ElementsAre("before", "after"));
}

TEST_F(JetStreamTest, ConsumerOfUnknownStreamIsNotFound) {
  auto consumer = js_->Consume({.stream = "NOPE", .durable = "c", .subject = "test.>"});
  ASSERT_FALSE(consumer.ok());
  EXPECT_THAT(consumer.status().code(),
              ::testing::AnyOf(absl::StatusCode::kNotFound, absl::StatusCode::kFailedPrecondition));
}

}  // namespace
}  // namespace granary::bus
