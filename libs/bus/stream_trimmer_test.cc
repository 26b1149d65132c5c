#include "libs/bus/stream_trimmer.h"

#include "gtest/gtest.h"

#include "libs/testing/eventually.h"
#include "libs/testing/nats_server.h"
#include "libs/testing/status_matchers.h"

namespace granary::bus {
namespace {

using ::granary::testing::NatsServer;
using ::granary::testing::StatusIs;

class StreamTrimmerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_OK_AND_ASSIGN(server_, NatsServer::Start());
    NatsOptions o;
    o.url = server_->url();
    o.reconnect_wait = absl::Milliseconds(50);
    ASSERT_OK_AND_ASSIGN(auto conn, Connection::Open(o));
    ASSERT_TRUE(conn->WaitConnected(absl::Seconds(5)));
    ASSERT_OK_AND_ASSIGN(js_, JetStream::Create(conn));
    ASSERT_OK(js_->EnsureStream({.name = "T", .subjects = {"t.>"}}));
    for (const char* name : {"a", "b"}) {
      ASSERT_OK(js_->EnsureConsumer({.stream = "T", .durable = name, .filter_subject = "t.>"}));
    }
    for (int i = 0; i < 10; ++i) ASSERT_OK(js_->Publish("t.x", "m", "").status());
  }

  // Fetches up to `n` messages of consumer `name`. The subscription is kept for the test's
  // life: a message is acknowledged through it.
  std::vector<std::unique_ptr<Message>> Take(const std::string& name, int n) {
    absl::StatusOr<std::unique_ptr<MessageSource>> source = js_->Bind("T", name);
    EXPECT_OK(source);
    if (!source.ok()) return {};
    sources_.push_back(*std::move(source));
    MessageSource& bound = *sources_.back();
    std::vector<std::unique_ptr<Message>> out;
    while (static_cast<int>(out.size()) < n) {
      absl::StatusOr<std::vector<std::unique_ptr<Message>>> got =
          bound.Fetch(n - static_cast<int>(out.size()), absl::Seconds(5));
      EXPECT_OK(got);
      if (!got.ok() || got->empty()) break;
      for (auto& m : *got) out.push_back(std::move(m));
    }
    return out;
  }

  StreamState State() {
    absl::StatusOr<StreamState> s = js_->GetStreamState("T");
    EXPECT_OK(s);
    return s.ok() ? *s : StreamState{};
  }

  std::unique_ptr<NatsServer> server_;
  std::shared_ptr<JetStream> js_;
  std::vector<std::unique_ptr<MessageSource>> sources_;
};

TEST_F(StreamTrimmerTest, RemovesOnlyWhatEveryConsumerAcknowledgedBelowTheLowestFloor) {
  StreamTrimmer trimmer(js_, "T", {"a", "b"}, absl::Seconds(1));
  // Nobody acknowledged anything: everything stays.
  ASSERT_OK_AND_ASSIGN(uint64_t kept, trimmer.TrimOnce());
  EXPECT_EQ(kept, 1u);
  EXPECT_EQ(State().messages, 10u);

  for (auto& m : Take("a", 10)) ASSERT_OK(m->Ack());
  std::vector<std::unique_ptr<Message>> b = Take("b", 10);
  ASSERT_EQ(b.size(), 10u);
  // b acknowledges 1-3 and 5, terminates 6 (as a dead-lettered message is), holds 4 and 7-10.
  for (int i : {0, 1, 2, 4}) ASSERT_OK(b[i]->Ack());
  ASSERT_OK(b[5]->Term());
  ASSERT_TRUE(testing::Eventually(
      [&] {
        absl::StatusOr<ConsumerState> s = js_->GetConsumerState("T", "b");
        return s.ok() && s->ack_floor == 3;
      },
      absl::Seconds(10)));
  ASSERT_OK_AND_ASSIGN(kept, trimmer.TrimOnce());
  EXPECT_EQ(kept, 4u);
  StreamState state = State();
  EXPECT_EQ(state.first_sequence, 4u);
  EXPECT_EQ(state.messages, 7u);  // 4 to 10: 5 and 6 wait for the floor to pass them
  // What the pass saw, for the metrics: b is 7 behind the stream's last message, a is not.
  using Behind = std::vector<std::pair<std::string, uint64_t>>;
  EXPECT_EQ(trimmer.Last().behind, (Behind{{"a", 0}, {"b", 7}}));

  ASSERT_OK(b[3]->Ack());
  for (int i = 6; i < 10; ++i) ASSERT_OK(b[i]->Ack());
  ASSERT_TRUE(testing::Eventually(
      [&] {
        absl::StatusOr<uint64_t> k = trimmer.TrimOnce();
        return k.ok() && *k == 11;
      },
      absl::Seconds(10)));
  EXPECT_EQ(State().messages, 0u);
}

TEST_F(StreamTrimmerTest, AConsumerThatDoesNotExistLeavesEverythingInPlace) {
  for (auto& m : Take("a", 10)) ASSERT_OK(m->Ack());
  for (auto& m : Take("b", 10)) ASSERT_OK(m->Ack());
  StreamTrimmer trimmer(js_, "T", {"a", "b", "gone"}, absl::Seconds(1));
  EXPECT_THAT(trimmer.TrimOnce(), StatusIs(absl::StatusCode::kNotFound));
  EXPECT_THAT(trimmer.Last().status, StatusIs(absl::StatusCode::kNotFound));  // for the metric
  EXPECT_EQ(State().messages, 10u);
}

TEST_F(StreamTrimmerTest, TrimsOnItsOwnUntilStopped) {
  for (auto& m : Take("a", 10)) ASSERT_OK(m->Ack());
  for (auto& m : Take("b", 10)) ASSERT_OK(m->Ack());
  StreamTrimmer trimmer(js_, "T", {"a", "b"}, absl::Milliseconds(20));
  trimmer.Start();
  EXPECT_TRUE(testing::Eventually([&] { return State().messages == 0; }, absl::Seconds(10)));
  trimmer.Stop();
  ASSERT_OK(js_->Publish("t.x", "m", "").status());
  for (auto& m : Take("a", 1)) ASSERT_OK(m->Ack());
  for (auto& m : Take("b", 1)) ASSERT_OK(m->Ack());
  for (const char* name : {"a", "b"}) {
    ASSERT_TRUE(testing::Eventually(
        [&] {
          absl::StatusOr<ConsumerState> s = js_->GetConsumerState("T", name);
          return s.ok() && s->ack_floor == 11;
        },
        absl::Seconds(10)));
  }
  // Acknowledged by both, and stopped: it stays until a pass by hand removes it.
  EXPECT_EQ(State().messages, 1u);
  ASSERT_OK_AND_ASSIGN(uint64_t kept, trimmer.TrimOnce());
  EXPECT_EQ(kept, 12u);
  EXPECT_EQ(State().messages, 0u);
  EXPECT_TRUE(trimmer.Last().status.ok());
}

}  // namespace
}  // namespace granary::bus
