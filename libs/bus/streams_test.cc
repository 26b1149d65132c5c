#include "libs/bus/streams.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include <nats/nats.h>

#include "libs/bus/stream_trimmer.h"
#include "libs/testing/eventually.h"
#include "libs/testing/nats_cluster.h"
#include "libs/testing/nats_server.h"
#include "libs/testing/status_matchers.h"

namespace granary::bus {
namespace {

using ::granary::testing::StatusIs;
using ::testing::AllOf;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Not;

JetStreamSettings Read(const std::string& yaml, const std::string& url) {
  absl::StatusOr<config::Reader> root = config::Reader::FromString(yaml);
  EXPECT_OK(root);
  NatsOptions nats;
  nats.url = url;
  JetStreamSettings s = ReadJetStreamSettings(root->Section("jetstream"), nats);
  EXPECT_OK(root->Finish());
  return s;
}

TEST(JetStreamSettingsTest, ReplicasDefaultToTheClusterSizeTheUrlsName) {
  EXPECT_EQ(Read("{}", "nats://a:4222").replicas, 1);
  EXPECT_EQ(Read("{}", "nats://a:4222,nats://b:4222,nats://c:4222").replicas, 3);
  JetStreamSettings s = Read("jetstream: {replicas: 1, push_max_bytes: 64MiB, ack_wait: 5s}",
                             "nats://a:1,nats://b:2,nats://c:3");
  EXPECT_EQ(s.replicas, 1);
  EXPECT_EQ(s.push_max_bytes, 64 << 20);
  EXPECT_EQ(s.ack_wait, absl::Seconds(5));
}

// `connection`, when given, gets the connection too (for JetStreamCheck).
std::shared_ptr<JetStream> Connect(const std::string& url,
                                   std::shared_ptr<Connection>* connection = nullptr) {
  NatsOptions o;
  o.url = url;
  o.reconnect_wait = absl::Milliseconds(50);
  absl::StatusOr<std::shared_ptr<Connection>> conn = Connection::Open(o);
  EXPECT_OK(conn);
  EXPECT_TRUE((*conn)->WaitConnected(absl::Seconds(10)));
  if (connection != nullptr) *connection = *conn;
  absl::StatusOr<std::unique_ptr<JetStream>> js =
      JetStream::Create(*conn, {.publish_timeout = absl::Seconds(5)});
  EXPECT_OK(js);
  return std::move(*js);
}

TEST(DeclareStreamsTest, DeclaresEveryStreamAndConsumerOnceAndNamesDrift) {
  ASSERT_OK_AND_ASSIGN(auto server, testing::NatsServer::Start());
  std::shared_ptr<JetStream> js = Connect(server->url());
  JetStreamSettings settings;
  settings.push_max_bytes = 8 << 20;
  ASSERT_OK_AND_ASSIGN(std::vector<std::string> first, DeclareStreams(*js, settings));
  EXPECT_THAT(first, IsEmpty());
  for (const StreamSpec& spec : GranaryStreams(settings)) {
    EXPECT_OK(js->GetStreamState(spec.name)) << spec.name;
  }
  for (const char* durable : {kOnlineWriter, kOfflineWriter}) {
    EXPECT_OK(js->GetConsumerState(kPushStream, durable)) << durable;
  }
  EXPECT_OK(js->GetConsumerState(kCleanupStream, kOnlineCleaner));

  // A second service with other settings: told, and the stream keeps the first settings.
  JetStreamSettings other = settings;
  other.push_max_bytes = 16 << 20;
  ASSERT_OK_AND_ASSIGN(std::vector<std::string> drift, DeclareStreams(*js, other));
  EXPECT_THAT(
      drift,
      ElementsAre("stream GRANARY_PUSH max_bytes: 8388608 on the server, 16777216 declared"));
  ASSERT_OK_AND_ASSIGN(drift, DeclareStreams(*js, other));
  EXPECT_EQ(drift.size(), 1u);
}

TEST(DeclareStreamsTest, PushesAreKeptUntilTrimmedBelowBothWritersAckFloors) {
  ASSERT_OK_AND_ASSIGN(auto server, testing::NatsServer::Start());
  std::shared_ptr<JetStream> js = Connect(server->url());
  ASSERT_OK(DeclareStreams(*js, JetStreamSettings()));
  ASSERT_OK(js->Publish("granary.push.p.v", "batch", "p/b/v").status());
  StreamTrimmer trimmer(js, kPushStream, {kOnlineWriter, kOfflineWriter}, absl::Seconds(1));
  ASSERT_OK_AND_ASSIGN(auto online, js->Bind(kPushStream, kOnlineWriter));
  ASSERT_OK_AND_ASSIGN(auto got, online->Fetch(1, absl::Seconds(5)));
  ASSERT_EQ(got.size(), 1u);
  ASSERT_OK(got[0]->Ack());
  ASSERT_OK_AND_ASSIGN(auto offline, js->Bind(kPushStream, kOfflineWriter));
  ASSERT_OK_AND_ASSIGN(got, offline->Fetch(1, absl::Seconds(5)));
  ASSERT_EQ(got.size(), 1u);
  // The online writer's floor has passed it, the offline writer's has not: it stays.
  ASSERT_TRUE(testing::Eventually(
      [&] {
        absl::StatusOr<ConsumerState> s = js->GetConsumerState(kPushStream, kOnlineWriter);
        return s.ok() && s->ack_floor == 1;
      },
      absl::Seconds(10)));
  ASSERT_OK(trimmer.TrimOnce().status());
  ASSERT_OK_AND_ASSIGN(StreamState held, js->GetStreamState(kPushStream));
  EXPECT_EQ(held.messages, 1u);
  ASSERT_OK(got[0]->Ack());
  // Limits retention: acknowledged by both, it stays until the trimmer removes it.
  ASSERT_TRUE(testing::Eventually(
      [&] {
        absl::StatusOr<ConsumerState> s = js->GetConsumerState(kPushStream, kOfflineWriter);
        return s.ok() && s->ack_floor == 1;
      },
      absl::Seconds(10)));
  ASSERT_OK_AND_ASSIGN(held, js->GetStreamState(kPushStream));
  EXPECT_EQ(held.messages, 1u);
  ASSERT_OK_AND_ASSIGN(uint64_t kept, trimmer.TrimOnce());
  EXPECT_EQ(kept, 2u);
  ASSERT_OK_AND_ASSIGN(held, js->GetStreamState(kPushStream));
  EXPECT_EQ(held.messages, 0u);
}

TEST(JetStreamCheckTest, DeclaresAgainWhatWasDeletedMeanwhile) {
  ASSERT_OK_AND_ASSIGN(auto server, testing::NatsServer::Start());
  std::shared_ptr<Connection> conn;
  std::shared_ptr<JetStream> js = Connect(server->url(), &conn);
  auto check = JetStreamCheck(conn, js, JetStreamSettings(), absl::ZeroDuration());
  ASSERT_OK(check());
  ASSERT_OK(js->DeleteConsumer(kPushStream, kOnlineWriter));
  ASSERT_FALSE(js->GetConsumerState(kPushStream, kOnlineWriter).ok());
  ASSERT_OK(check());
  EXPECT_OK(js->GetConsumerState(kPushStream, kOnlineWriter));
}

TEST(JetStreamCheckTest, FailsOnSettingsUnderWhichBatchesCanBeLost) {
  ASSERT_OK_AND_ASSIGN(auto server, testing::NatsServer::Start());
  std::shared_ptr<Connection> conn;
  std::shared_ptr<JetStream> js = Connect(server->url(), &conn);
  // GRANARY_PUSH as an older release declared it: aged out after a week, oldest dropped.
  StreamSpec old = GranaryStreams(JetStreamSettings())[0];
  old.max_age = absl::Hours(168);
  old.discard_new = false;
  old.max_bytes = -1;
  ASSERT_OK(js->EnsureStream(old).status());
  auto check = JetStreamCheck(conn, js, JetStreamSettings(), absl::ZeroDuration());
  EXPECT_THAT(check(), StatusIs(absl::StatusCode::kFailedPrecondition,
                                AllOf(HasSubstr("stream GRANARY_PUSH max_age"),
                                      HasSubstr("stream GRANARY_PUSH discard"),
                                      Not(HasSubstr("max_bytes")))));
  // Each other setting under which an acknowledged batch can vanish.
  for (const char* d : {"stream GRANARY_PUSH storage: memory on the server, file declared",
                        "stream GRANARY_PUSH replicas: 1 on the server, 3 declared",
                        "stream GRANARY_DEADLETTER max_msgs_per_subject: 1 on the server, -1 "
                        "declared"}) {
    EXPECT_TRUE(BreaksGuarantees(d)) << d;
  }
  // A byte bound alone is a difference to log, not a danger.
  EXPECT_FALSE(BreaksGuarantees("stream GRANARY_PUSH max_bytes: 1 on the server, 2 declared"));
  EXPECT_TRUE(
      BreaksGuarantees("consumer GRANARY_PUSH/online-writer ack_policy: all on the "
                       "server, explicit declared"));
}

TEST(JetStreamCheckTest, TellsItsVerdictToWhoeverMustNotAcceptPushesMeanwhile) {
  ASSERT_OK_AND_ASSIGN(auto server, testing::NatsServer::Start());
  std::shared_ptr<Connection> conn;
  std::shared_ptr<JetStream> js = Connect(server->url(), &conn);
  auto safety = std::make_shared<StreamSafety>();
  EXPECT_THAT(safety->Get(), StatusIs(absl::StatusCode::kUnavailable));  // not checked yet
  auto check = JetStreamCheck(conn, js, JetStreamSettings(), absl::ZeroDuration(), safety);
  ASSERT_OK(check());
  EXPECT_OK(safety->Get());
  // GRANARY_PUSH recreated by hand in memory: what it acknowledges dies with the server.
  jsCtx* ctx = nullptr;
  ASSERT_EQ(natsConnection_JetStream(&ctx, conn->raw(), nullptr), NATS_OK);
  ASSERT_EQ(js_DeleteStream(ctx, kPushStream, nullptr, nullptr), NATS_OK);
  jsStreamConfig cfg;
  jsStreamConfig_Init(&cfg);
  cfg.Name = kPushStream;
  const char* subjects[] = {kPushSubjects};
  cfg.Subjects = subjects;
  cfg.SubjectsLen = 1;
  cfg.Storage = js_MemoryStorage;
  cfg.Discard = js_DiscardNew;
  cfg.MaxBytes = JetStreamSettings().push_max_bytes;
  cfg.Duplicates = absl::ToInt64Nanoseconds(JetStreamSettings().dedupe_window);
  jsStreamInfo* info = nullptr;
  jsErrCode err = static_cast<jsErrCode>(0);
  ASSERT_EQ(js_AddStream(&info, ctx, &cfg, nullptr, &err), NATS_OK) << err;
  jsStreamInfo_Destroy(info);
  jsCtx_Destroy(ctx);
  EXPECT_THAT(check(), StatusIs(absl::StatusCode::kFailedPrecondition,
                                HasSubstr("stream GRANARY_PUSH storage: memory")));
  EXPECT_THAT(safety->Get(), StatusIs(absl::StatusCode::kFailedPrecondition,
                                      HasSubstr("stream GRANARY_PUSH storage: memory")));
}

TEST(DeclareStreamsTest, WithThreeReplicasAPushIsAcknowledgedWhileOneNodeIsDown) {
  ASSERT_OK_AND_ASSIGN(auto cluster, testing::NatsCluster::Start(3));
  JetStreamSettings settings;
  settings.replicas = 3;
  std::shared_ptr<JetStream> js = Connect(cluster->urls());
  // Right after the election the cluster may still be placing its first stream.
  std::vector<std::string> drift;
  ASSERT_TRUE(testing::Eventually(
      [&] {
        absl::StatusOr<std::vector<std::string>> d = DeclareStreams(*js, settings);
        if (d.ok()) drift = *d;
        return d.ok();
      },
      absl::Seconds(20)));
  EXPECT_THAT(drift, IsEmpty());
  ASSERT_OK(js->Publish("granary.push.p.v", "before", "p/before/v").status());
  ASSERT_OK(cluster->Kill(2));
  // Two of three still make a quorum; a publish may meet an election first, then succeeds.
  absl::Status after;
  ASSERT_TRUE(testing::Eventually(
      [&] {
        after = js->Publish("granary.push.p.v", "after", "p/after/v").status();
        return after.ok();
      },
      absl::Seconds(20)))
      << after;
  ASSERT_OK_AND_ASSIGN(StreamState state, js->GetStreamState(kPushStream));
  EXPECT_EQ(state.messages, 2u);
  // A single server refuses three replicas, saying why.
  ASSERT_OK_AND_ASSIGN(auto single, testing::NatsServer::Start());
  EXPECT_FALSE(DeclareStreams(*Connect(single->url()), settings).ok());
}

}  // namespace
}  // namespace granary::bus
