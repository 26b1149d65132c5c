#include "libs/bus/jetstream.h"

#include <set>

#include "absl/synchronization/notification.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

#include "libs/testing/eventually.h"
#include "libs/testing/nats_server.h"
#include "libs/testing/status_matchers.h"

namespace granary::bus {
namespace {

using ::granary::testing::NatsServer;
using ::granary::testing::StatusIs;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

const StreamSpec kStream{.name = "TEST", .subjects = {"test.>"}};
const ConsumerSpec kConsumer{.stream = "TEST", .durable = "c", .filter_subject = "test.>"};

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

  std::unique_ptr<MessageSource> Source(const ConsumerSpec& spec = kConsumer) {
    EXPECT_OK(js_->EnsureConsumer(spec));
    absl::StatusOr<std::unique_ptr<MessageSource>> source = js_->Bind(spec.stream, spec.durable);
    EXPECT_OK(source);
    return source.ok() ? std::move(*source) : nullptr;
  }

  std::unique_ptr<NatsServer> server_;
  std::shared_ptr<Connection> conn_;
  std::unique_ptr<JetStream> js_;
};

TEST_F(JetStreamTest, AnExistingStreamIsLeftAsItIsAndItsDifferencesNamed) {
  ASSERT_OK_AND_ASSIGN(std::vector<std::string> same, js_->EnsureStream(kStream));
  EXPECT_THAT(same, IsEmpty());
  StreamSpec changed = kStream;
  changed.max_bytes = 1 << 20;
  changed.retention = Retention::kInterest;
  ASSERT_OK_AND_ASSIGN(std::vector<std::string> differences, js_->EnsureStream(changed));
  EXPECT_THAT(differences, ElementsAre("retention: limits on the server, interest declared",
                                       "max_bytes: -1 on the server, 1048576 declared"));
  // Still as first declared: declaring again finds the same differences.
  ASSERT_OK_AND_ASSIGN(std::vector<std::string> again, js_->EnsureStream(changed));
  EXPECT_EQ(again, differences);
}

TEST_F(JetStreamTest, AnExistingConsumerIsLeftAsItIsAndItsDifferencesNamed) {
  ASSERT_OK_AND_ASSIGN(std::vector<std::string> created, js_->EnsureConsumer(kConsumer));
  EXPECT_THAT(created, IsEmpty());
  ConsumerSpec changed = kConsumer;
  changed.ack_wait = absl::Seconds(5);
  ASSERT_OK_AND_ASSIGN(std::vector<std::string> differences, js_->EnsureConsumer(changed));
  EXPECT_THAT(differences, ElementsAre("ack_wait: 30s on the server, 5s declared"));
}

TEST_F(JetStreamTest, PublishedMessageIsDeliveredWithMetadataAndItsId) {
  ASSERT_OK_AND_ASSIGN(PublishAck ack, js_->Publish("test.a", std::string("x\0y", 3), "id-1"));
  EXPECT_EQ(ack.sequence, 1u);
  EXPECT_FALSE(ack.duplicate);
  auto source = Source();
  ASSERT_OK_AND_ASSIGN(auto got, source->Fetch(10, absl::Seconds(5)));
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0]->subject(), "test.a");
  EXPECT_EQ(got[0]->data(), std::string("x\0y", 3));
  EXPECT_EQ(got[0]->message_id(), "id-1");
  EXPECT_EQ(got[0]->deliveries(), 1u);
  EXPECT_EQ(got[0]->stream_sequence(), 1u);
  EXPECT_OK(got[0]->Ack());
}

TEST_F(JetStreamTest, ATraceContextTravelsInTheHeaders) {
  constexpr char kTraceparent[] = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
  absl::Notification stored;
  js_->PublishAsync("test.a", "traced", "t-1", kTraceparent, [&](absl::StatusOr<PublishAck> ack) {
    EXPECT_TRUE(ack.ok()) << ack.status();
    stored.Notify();
  });
  ASSERT_TRUE(stored.WaitForNotificationWithTimeout(absl::Seconds(30)));
  ASSERT_OK(js_->Publish("test.a", "untraced", "t-2").status());
  auto source = Source();
  ASSERT_OK_AND_ASSIGN(auto got, source->Fetch(10, absl::Seconds(5)));
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(got[0]->traceparent(), kTraceparent);
  EXPECT_EQ(got[0]->message_id(), "t-1") << "the id header is still there beside it";
  EXPECT_EQ(got[1]->traceparent(), "");
}

TEST_F(JetStreamTest, SameMessageIdIsStoredOnce) {
  ASSERT_OK_AND_ASSIGN(PublishAck first, js_->Publish("test.a", "one", "batch-1"));
  ASSERT_OK_AND_ASSIGN(PublishAck again, js_->Publish("test.a", "one", "batch-1"));
  ASSERT_OK_AND_ASSIGN(PublishAck other, js_->Publish("test.a", "two", "batch-2"));
  EXPECT_FALSE(first.duplicate);
  EXPECT_TRUE(again.duplicate);
  EXPECT_EQ(again.sequence, first.sequence);
  EXPECT_FALSE(other.duplicate);
  auto source = Source();
  ASSERT_OK_AND_ASSIGN(auto got, source->Fetch(10, absl::Seconds(5)));
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(got[0]->data(), "one");
  EXPECT_EQ(got[1]->data(), "two");
}

TEST_F(JetStreamTest, NakedMessageComesBackCountingDeliveries) {
  ASSERT_OK(js_->Publish("test.a", "m", "").status());
  auto source = Source();
  ASSERT_OK_AND_ASSIGN(auto first, source->Fetch(1, absl::Seconds(5)));
  ASSERT_EQ(first.size(), 1u);
  ASSERT_OK(first[0]->Nak(absl::ZeroDuration()));
  ASSERT_OK_AND_ASSIGN(auto second, source->Fetch(1, absl::Seconds(5)));
  ASSERT_EQ(second.size(), 1u);
  EXPECT_EQ(second[0]->deliveries(), 2u);
  ASSERT_OK(second[0]->Term());
  ASSERT_OK_AND_ASSIGN(auto none, source->Fetch(1, absl::Milliseconds(300)));
  EXPECT_TRUE(none.empty());
}

TEST_F(JetStreamTest, ConsumerStateCountsWhatIsHeldUnacknowledged) {
  for (int i = 0; i < 3; ++i) ASSERT_OK(js_->Publish("test.a", "m", "").status());
  auto source = Source();
  ASSERT_OK_AND_ASSIGN(ConsumerState before, js_->GetConsumerState("TEST", "c"));
  EXPECT_EQ(before.ack_pending, 0);
  EXPECT_EQ(before.pending, 3u);
  ASSERT_OK_AND_ASSIGN(auto held, source->Fetch(2, absl::Seconds(5)));
  ASSERT_EQ(held.size(), 2u);
  ASSERT_OK_AND_ASSIGN(ConsumerState holding, js_->GetConsumerState("TEST", "c"));
  EXPECT_EQ(holding.ack_pending, 2);
  EXPECT_EQ(holding.pending, 1u);
  EXPECT_THAT(js_->GetConsumerState("TEST", "nope"), StatusIs(absl::StatusCode::kNotFound));
}

TEST_F(JetStreamTest, ReplicasOfOneDurableShareTheMessages) {
  constexpr int kMessages = 50;
  for (int i = 0; i < kMessages; ++i) {
    ASSERT_OK(js_->Publish("test.a", std::to_string(i), std::to_string(i)).status());
  }
  ConsumerSpec shared = kConsumer;
  shared.durable = "shared";
  auto a = Source(shared);
  auto b = Source(shared);
  std::multiset<std::string> seen;
  ASSERT_OK_AND_ASSIGN(auto from_a, a->Fetch(20, absl::Seconds(5)));
  for (auto& m : from_a) {
    seen.insert(std::string(m->data()));
    ASSERT_OK(m->Ack());
  }
  while (seen.size() < kMessages) {
    ASSERT_OK_AND_ASSIGN(auto from_b, b->Fetch(kMessages, absl::Seconds(5)));
    ASSERT_FALSE(from_b.empty()) << "only " << seen.size() << " messages arrived";
    for (auto& m : from_b) {
      seen.insert(std::string(m->data()));
      ASSERT_OK(m->Ack());
    }
  }
  EXPECT_EQ(from_a.size(), 20u);
  EXPECT_EQ(std::set<std::string>(seen.begin(), seen.end()).size(), size_t{kMessages});
  EXPECT_EQ(seen.size(), size_t{kMessages});
}

TEST_F(JetStreamTest, InterestRetentionKeepsAMessageUntilEveryConsumerAcknowledgedIt) {
  const StreamSpec interest{
      .name = "INTEREST", .subjects = {"interest.>"}, .retention = Retention::kInterest};
  ASSERT_OK(js_->EnsureStream(interest));
  ConsumerSpec one{.stream = "INTEREST", .durable = "one", .filter_subject = "interest.>"};
  ConsumerSpec two = one;
  two.durable = "two";
  auto first = Source(one);
  auto second = Source(two);
  ASSERT_OK(js_->Publish("interest.a", "m", "").status());
  ASSERT_OK_AND_ASSIGN(auto got, first->Fetch(1, absl::Seconds(5)));
  ASSERT_EQ(got.size(), 1u);
  ASSERT_OK(got[0]->Ack());
  ASSERT_OK_AND_ASSIGN(StreamState after_one, js_->GetStreamState("INTEREST"));
  EXPECT_EQ(after_one.messages, 1u);
  ASSERT_OK_AND_ASSIGN(got, second->Fetch(1, absl::Seconds(5)));
  ASSERT_EQ(got.size(), 1u);
  ASSERT_OK(got[0]->Ack());
  // Acknowledged by both: the server deletes it as it processes the second ack.
  EXPECT_TRUE(
      testing::Eventually([&] { return absl::IsNotFound(js_->GetMessage("INTEREST", 1).status()); },
                          absl::Seconds(10)));
}

TEST_F(JetStreamTest, AFullStreamRefusesNewMessagesAndKeepsWhatItHas) {
  const StreamSpec bounded{
      .name = "SMALL", .subjects = {"small.>"}, .max_bytes = 4096, .discard_new = true};
  ASSERT_OK(js_->EnsureStream(bounded));
  const std::string kilobyte(1000, 'x');
  absl::Status refused;
  int stored = 0;
  for (int i = 0; i < 10 && refused.ok(); ++i) {
    absl::StatusOr<PublishAck> ack = js_->Publish("small.a", kilobyte, std::to_string(i));
    if (ack.ok()) {
      ++stored;
    } else {
      refused = ack.status();
    }
  }
  EXPECT_THAT(refused, StatusIs(absl::StatusCode::kResourceExhausted, HasSubstr("maximum bytes")));
  EXPECT_GE(stored, 1);
  ASSERT_OK_AND_ASSIGN(StreamState state, js_->GetStreamState("SMALL"));
  EXPECT_EQ(state.messages, static_cast<uint64_t>(stored));
  EXPECT_EQ(state.first_sequence, 1u);
}

TEST_F(JetStreamTest, AMessageLargerThanTheServerTakesIsInvalid) {
  ASSERT_GT(js_->max_payload(), 0);
  std::string huge(static_cast<size_t>(js_->max_payload()) + 1, 'x');
  EXPECT_THAT(js_->Publish("test.a", huge, "big"), StatusIs(absl::StatusCode::kInvalidArgument));
}

TEST_F(JetStreamTest, StoredMessagesCanBeReadAndDeletedBySequence) {
  ASSERT_OK(js_->Publish("test.a", "first", "f").status());
  ASSERT_OK(js_->Publish("test.b", "second", "s").status());
  ASSERT_OK_AND_ASSIGN(StoredMessage m, js_->GetMessage("TEST", 2));
  EXPECT_EQ(m.sequence, 2u);
  EXPECT_EQ(m.subject, "test.b");
  EXPECT_EQ(m.data, "second");
  EXPECT_EQ(m.message_id, "s");
  EXPECT_LT(absl::Now() - m.time, absl::Hours(1));
  ASSERT_OK(js_->DeleteMessage("TEST", 1));
  EXPECT_THAT(js_->GetMessage("TEST", 1), StatusIs(absl::StatusCode::kNotFound));
  ASSERT_OK_AND_ASSIGN(StreamState state, js_->GetStreamState("TEST"));
  EXPECT_EQ(state.messages, 1u);
  EXPECT_EQ(state.last_sequence, 2u);
}

TEST_F(JetStreamTest, PublishDuringOutageFailsAndStoredMessagesSurviveRestart) {
  ASSERT_OK(js_->Publish("test.a", "before", "b1").status());
  uint64_t connects = conn_->connects();
  ASSERT_OK(server_->Stop());
  EXPECT_THAT(js_->Publish("test.a", "during", "d1"), StatusIs(absl::StatusCode::kUnavailable));
  ASSERT_OK(server_->Restart());
  ASSERT_TRUE(conn_->WaitConnected(absl::Seconds(10), connects));
  ASSERT_OK(js_->Publish("test.a", "after", "a1").status());
  auto source = Source();
  ASSERT_OK_AND_ASSIGN(auto got, source->Fetch(10, absl::Seconds(5)));
  std::vector<std::string> data;
  for (auto& m : got) data.emplace_back(m->data());
  EXPECT_THAT(data, ElementsAre("before", "after"));
}

TEST_F(JetStreamTest, BindingAnUndeclaredConsumerIsNotFound) {
  EXPECT_THAT(js_->Bind("TEST", "undeclared"), StatusIs(absl::StatusCode::kNotFound));
  EXPECT_THAT(js_->Bind("NOPE", "c"), StatusIs(absl::StatusCode::kNotFound));
}

}  // namespace
}  // namespace granary::bus
