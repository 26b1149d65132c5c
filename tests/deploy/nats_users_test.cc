// deploy/nats/nats.conf on a real nats-server: each service's user runs that service's own
// JetStream paths (declaring the streams and consumers, publishing, fetching and acknowledging,
// trimming, reading and deleting dead letters, watching catalog changes), and is refused what
// belongs to another: ingestion publishes only to granary.push.>, serving and the gateway
// publish nothing, nobody deletes a consumer, and nobody connects without a user.
//
// A refused publish is told apart from a slow one: after it, a round trip on the same
// connection (the server has handled everything the client sent before), then the stream is
// seen not to hold it, and the server's log names the violation.
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

#include "libs/bus/connection.h"
#include "libs/bus/jetstream.h"
#include "libs/bus/options.h"
#include "libs/bus/streams.h"
#include "libs/testing/eventually.h"
#include "libs/testing/nats_server.h"
#include "libs/testing/status_matchers.h"

namespace granary::testing {
namespace {

using ::testing::HasSubstr;

constexpr char kConf[] = "deploy/nats/nats.conf";
const char* const kServices[] = {"registry", "ingestion", "materializer", "serving", "gateway"};

// Starts with digits, as a generated hex password may: unquoted, nats-server would read it as a
// number and fail.
std::string Password(const std::string& service) { return absl::StrCat("12e4-of-", service); }

struct Client {
  std::shared_ptr<bus::Connection> nats;
  std::unique_ptr<bus::JetStream> js;
};

class NatsUsersTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    NatsServerOptions options{.config_file = kConf};
    for (std::string service : kServices) {
      std::string upper = service;
      for (char& c : upper) c = static_cast<char>(toupper(c));
      // A variable's value is a config value: quoted, as deploy/nats/nats.conf says.
      options.env.push_back(
          absl::StrCat("GRANARY_NATS_", upper, "_PASSWORD=\"", Password(service), "\""));
    }
    auto server = NatsServer::Start(options);
    ASSERT_OK(server);
    server_ = server->release();
  }
  static void TearDownTestSuite() { delete server_; }

  static bus::NatsOptions As(const std::string& service, const std::string& password) {
    bus::NatsOptions options;
    options.url = server_->url();
    options.user = absl::StrCat("granary-", service);
    options.password = config::Secret::FromValue(password);
    options.name = service;
    return options;
  }

  // Connected as the service's user; publishes that are not stored fail after a second (only
  // refused publishes are expected to).
  static Client Connect(const std::string& service) {
    Client c;
    auto nats = bus::Connection::Open(As(service, Password(service)));
    EXPECT_OK(nats);
    if (!nats.ok()) return c;
    c.nats = *nats;
    EXPECT_TRUE(c.nats->WaitConnected(absl::Seconds(30)));
    auto js = bus::JetStream::Create(c.nats, {.publish_timeout = absl::Seconds(1)});
    EXPECT_OK(js);
    if (js.ok()) c.js = *std::move(js);
    return c;
  }

  static uint64_t Messages(const std::string& stream) {
    Client admin = Connect("materializer");
    auto state = admin.js->GetStreamState(stream);
    EXPECT_OK(state);
    return state.ok() ? state->messages : 0;
  }

  // The server's log once it holds `text` (it writes a violation as it answers it, so a
  // round trip does not guarantee the line is in the file yet).
  static std::string LogWith(const std::string& text) {
    std::string log;
    Eventually([&] { return absl::StrContains(log = Log(), text); }, absl::Seconds(10));
    return log;
  }

  static std::string Log() {
    std::ifstream in(server_->log_path());
    std::stringstream text;
    text << in.rdbuf();
    return text.str();
  }

  // The publish is refused: it fails, the stream does not hold it, and the server logged it.
  static void ExpectPublishRefused(const std::string& service, const std::string& subject,
                                   const std::string& stream) {
    Client c = Connect(service);
    const uint64_t before = Messages(stream);
    EXPECT_FALSE(c.js->Publish(subject, "x", absl::StrCat(service, subject)).ok())
        << service << " " << subject;
    ASSERT_OK(c.nats->Ping(absl::Seconds(30)));
    EXPECT_EQ(Messages(stream), before) << service << " " << subject;
    const std::string line = absl::StrCat("Publish Violation - User \"granary-", service,
                                          "\", Subject \"", subject, "\"");
    EXPECT_THAT(LogWith(line), HasSubstr(line));
  }

  static NatsServer* server_;
};

NatsServer* NatsUsersTest::server_ = nullptr;

TEST_F(NatsUsersTest, EachJetStreamServiceDeclaresWhatItMayAndOnlyTheMaterializerConsumers) {
  // As the services do: the registry and ingestion declare the streams and only compare the
  // consumers; the materializer, which consumes, creates them.
  for (const char* service : {"registry", "ingestion", "materializer"}) {
    Client c = Connect(service);
    const bool consumes = std::string(service) == "materializer";
    auto differences = bus::DeclareStreams(*c.js, bus::JetStreamSettings{}, consumes);
    ASSERT_OK(differences) << service;
    EXPECT_THAT(*differences, ::testing::IsEmpty()) << service;
  }
  // Ingestion cannot make or remake a consumer (a max_deliver of its choosing would drop
  // batches the writers never stored).
  Client ingestion = Connect("ingestion");
  EXPECT_FALSE(ingestion.js
                   ->EnsureConsumer({.stream = bus::kPushStream,
                                     .durable = "rogue",
                                     .filter_subject = bus::kPushSubjects,
                                     .ack_wait = absl::Seconds(30),
                                     .max_ack_pending = 10})
                   .ok());
  ASSERT_OK(ingestion.nats->Ping(absl::Seconds(30)));
  LogWith("Subject \"$JS.API.CONSUMER.");
  EXPECT_THAT(Log(), ::testing::ContainsRegex("Publish Violation - User \"granary-ingestion\", "
                                              "Subject \"\\$JS.API.CONSUMER.(DURABLE.)?CREATE."
                                              "GRANARY_PUSH"));
}

// Replies (acks, fetched batches, dead letters read) travel on each user's own inboxes: no
// other user may listen there, and serving and the gateway, which ask nothing, have none.
TEST_F(NatsUsersTest, NobodyReadsAnotherUsersReplies) {
  struct Case {
    const char* service;
    std::string subject;
  };
  for (const Case& c :
       {Case{"serving", "_INBOX.>"}, Case{"gateway", "_INBOX_granary-registry.>"},
        Case{"ingestion", "_INBOX_granary-materializer.>"}, Case{"registry", "_INBOX.>"}}) {
    Client client = Connect(c.service);
    auto subscription = client.nats->Subscribe(c.subject, [](auto, auto) {});
    ASSERT_OK(client.nats->Ping(absl::Seconds(30)));
    const std::string line = absl::StrCat("Subscription Violation - User \"granary-", c.service,
                                          "\", Subject \"", c.subject, "\"");
    EXPECT_THAT(LogWith(line), HasSubstr(line));
  }
}

TEST_F(NatsUsersTest, NobodyConnectsWithoutAUserOrWithAWrongPassword) {
  bus::NatsOptions anonymous;
  anonymous.url = server_->url();
  anonymous.connect_timeout = absl::Seconds(5);
  auto nobody = bus::Connection::Open(anonymous);
  EXPECT_FALSE(nobody.ok() && (*nobody)->Ping(absl::Seconds(5)).ok());
  EXPECT_THAT(LogWith("authentication error - User \"\""),
              HasSubstr("authentication error - User \"\""));
  bus::NatsOptions wrong = As("ingestion", "not-the-password");
  wrong.connect_timeout = absl::Seconds(5);
  auto connection = bus::Connection::Open(wrong);
  EXPECT_FALSE(connection.ok() && (*connection)->Ping(absl::Seconds(5)).ok());
  EXPECT_THAT(LogWith("authentication error - User \"granary-ingestion\""),
              HasSubstr("authentication error - User \"granary-ingestion\""));
}

TEST_F(NatsUsersTest, IngestionPublishesPushedBatchesAndNothingElse) {
  {
    Client materializer = Connect("materializer");
    ASSERT_OK(bus::DeclareStreams(*materializer.js, bus::JetStreamSettings{}).status());
  }
  Client ingestion = Connect("ingestion");
  const uint64_t pushed = Messages(bus::kPushStream);
  ASSERT_OK(ingestion.js->Publish("granary.push.shop.stats", "batch", "ingestion-1").status());
  EXPECT_EQ(Messages(bus::kPushStream), pushed + 1);

  ExpectPublishRefused("ingestion", "granary.tasks.shop", bus::kTaskStream);
  ExpectPublishRefused("ingestion", "granary.cleanup.shop", bus::kCleanupStream);
  ExpectPublishRefused("ingestion", "granary.deadletter.online-writer", bus::kDeadLetterStream);

  // Nor can it take the writers' messages: its fetch gets nothing, the materializer's gets
  // the batch.
  ASSERT_OK_AND_ASSIGN(auto stolen, ingestion.js->Bind(bus::kPushStream, bus::kOnlineWriter));
  auto none = stolen->Fetch(1, absl::Seconds(1));
  EXPECT_TRUE(!none.ok() || none->empty());
  ASSERT_OK(ingestion.nats->Ping(absl::Seconds(30)));
  const std::string stolen_line =
      "Publish Violation - User \"granary-ingestion\", Subject "
      "\"$JS.API.CONSUMER.MSG.NEXT.GRANARY_PUSH.online-writer\"";
  EXPECT_THAT(LogWith(stolen_line), HasSubstr(stolen_line));
  Client materializer = Connect("materializer");
  ASSERT_OK_AND_ASSIGN(auto source, materializer.js->Bind(bus::kPushStream, bus::kOnlineWriter));
  bool acked = false;
  ASSERT_TRUE(Eventually(
      [&] {
        auto got = source->Fetch(10, absl::Seconds(5));
        if (!got.ok()) return false;
        for (auto& m : *got) {
          if (m->data() == "batch")
            acked = m->Ack().ok();
          else
            EXPECT_OK(m->Ack());
        }
        return acked;
      },
      absl::Seconds(60)));
}

TEST_F(NatsUsersTest, TheMaterializerRunsItsPathsAndCannotDeleteConsumers) {
  Client materializer = Connect("materializer");
  ASSERT_OK(bus::DeclareStreams(*materializer.js, bus::JetStreamSettings{}).status());
  // Tasks it queues, and takes.
  ASSERT_OK(materializer.js->Publish("granary.tasks.shop", "task", "task-1").status());
  ASSERT_OK_AND_ASSIGN(auto tasks, materializer.js->Bind(bus::kTaskStream, bus::kTaskRunner));
  ASSERT_TRUE(Eventually(
      [&] {
        auto got = tasks->Fetch(1, absl::Seconds(5));
        return got.ok() && !got->empty() && (*got)[0]->Ack().ok();
      },
      absl::Seconds(60)));
  // A dead letter it writes, reads and deletes (an operator's purge through its API).
  ASSERT_OK_AND_ASSIGN(bus::PublishAck letter,
                       materializer.js->Publish("granary.deadletter.online-writer", "dead", "d1"));
  ASSERT_OK_AND_ASSIGN(bus::StoredMessage stored,
                       materializer.js->GetMessage(bus::kDeadLetterStream, letter.sequence));
  EXPECT_EQ(stored.data, "dead");
  EXPECT_OK(materializer.js->DeleteMessage(bus::kDeadLetterStream, letter.sequence));
  // The push stream's trimming and the consumers' state (lag).
  ASSERT_OK(materializer.js->Publish("granary.push.shop.stats", "b", "m-1").status());
  ASSERT_OK_AND_ASSIGN(bus::StreamState push, materializer.js->GetStreamState(bus::kPushStream));
  EXPECT_OK(materializer.js->PurgeBelow(bus::kPushStream, push.last_sequence));
  EXPECT_OK(materializer.js->GetConsumerState(bus::kPushStream, bus::kOfflineWriter).status());

  EXPECT_FALSE(materializer.js->DeleteConsumer(bus::kPushStream, bus::kOfflineWriter).ok());
  EXPECT_OK(materializer.js->GetConsumerState(bus::kPushStream, bus::kOfflineWriter).status());
  ExpectPublishRefused("materializer", "granary.registry.changed.shop", bus::kPushStream);
}

TEST_F(NatsUsersTest, ServingAndTheGatewayOnlyWatchCatalogChanges) {
  {
    Client registry = Connect("registry");
    ASSERT_OK(bus::DeclareStreams(*registry.js, bus::JetStreamSettings{}, false).status());
  }
  for (const char* service : {"serving", "gateway"}) {
    ExpectPublishRefused(service, "granary.push.shop.stats", bus::kPushStream);
    Client watcher = Connect(service);
    absl::Mutex mu;
    std::vector<std::string> seen;
    ASSERT_OK_AND_ASSIGN(
        auto subscription,
        watcher.nats->Subscribe("granary.registry.changed.>",
                                [&](absl::string_view subject, absl::string_view data) {
                                  absl::MutexLock lock(&mu);
                                  seen.push_back(absl::StrCat(subject, "=", data));
                                }));
    ASSERT_OK(watcher.nats->Ping(absl::Seconds(30)));
    // A forged announcement from ingestion, then the registry's: only the registry's arrives
    // (the first was handled by the server before the second was sent).
    Client ingestion = Connect("ingestion");
    ASSERT_OK(ingestion.nats->Publish("granary.registry.changed.shop", "forged"));
    ASSERT_OK(ingestion.nats->Ping(absl::Seconds(30)));
    Client registry = Connect("registry");
    ASSERT_OK(registry.nats->Publish("granary.registry.changed.shop", "7"));
    ASSERT_TRUE(Eventually(
        [&] {
          absl::MutexLock lock(&mu);
          return !seen.empty();
        },
        absl::Seconds(30)));
    absl::MutexLock lock(&mu);
    EXPECT_THAT(seen, ::testing::ElementsAre("granary.registry.changed.shop=7")) << service;
  }
}

}  // namespace
}  // namespace granary::testing
