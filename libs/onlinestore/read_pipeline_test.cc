// ReadPipeline against a real Redis: concurrent reads share round trips and each gets its own
// fields; deadlines are kept while Redis is stalled; one read's error reply spares the others;
// an outage fails reads fast and service resumes when Redis returns.
#include "libs/onlinestore/read_pipeline.h"

#include <atomic>
#include <cstdlib>
#include <map>
#include <optional>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/notification.h"
#include "absl/time/clock.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

#include "libs/onlinestore/test_read.h"
#include "libs/redis/client.h"
#include "libs/testing/redis_server.h"
#include "libs/testing/status_matchers.h"

namespace granary::onlinestore {
namespace {

using ::granary::testing::RedisServer;
using ::granary::testing::StatusIs;
using ::testing::ElementsAre;
using ::testing::Optional;

// A read that, asked whether it may be read on its caller's thread, lets `asked` go and then
// watches for 200 ms whether the pipeline takes it for a batch meanwhile. It says no, so it is
// read on the I/O thread.
class ProbeRead : public TestRead {
 public:
  ProbeRead(std::vector<std::string> keys, std::vector<std::string> fields,
            absl::Notification* asked)
      : TestRead(std::move(keys), std::move(fields)), asked_(asked) {}

  absl::Span<const HashGet> gets() const override {
    taken_.store(true);
    return TestRead::gets();
  }
  bool MayReadOnCaller() const override {
    if (!asked_->HasBeenNotified()) asked_->Notify();
    const absl::Time until = absl::Now() + absl::Milliseconds(200);
    while (!taken_.load() && absl::Now() < until) absl::SleepFor(absl::Milliseconds(1));
    taken_while_asked_ = taken_.load();
    return false;
  }
  bool taken_while_asked() const { return taken_while_asked_; }

 private:
  absl::Notification* asked_;
  mutable std::atomic<bool> taken_{false};
  mutable bool taken_while_asked_ = false;
};

class ReadPipelineTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_OK_AND_ASSIGN(redis_, RedisServer::Start());
    admin_ = std::make_unique<redis::Client>(OptionsFor(*redis_));
    for (int i = 0; i < 100; ++i) {
      ASSERT_OK(admin_
                    ->Command({"HSET", absl::StrCat("k", i), "a", absl::StrCat("a", i), "b",
                               absl::StrCat("b", i)})
                    .status());
    }
  }

  // Most tests hold the I/O thread in a callback, so they read there; see the tests of
  // reading on the caller's thread at the end.
  ReadPipelineOptions Options(bool read_on_caller = false) {
    return {.redis = OptionsFor(*redis_),
            .read_on_caller_when_idle = read_on_caller,
            .on_round_trip = RecordLargestBatch(&largest_batch_)};
  }
  // Reads until one is done on the calling thread: the connection is open and the I/O thread
  // has let go of it (it holds it a moment after answering the read that opened it; the
  // pipeline gives no signal of that, so this retries, each try a real read).
  static void Connect(ReadPipeline& pipeline) {
    for (int attempt = 0; attempt < 1000; ++attempt) {
      TestRead warm({"k0"}, {"a"});
      std::thread::id reader;
      warm.set_on_field([&] { reader = std::this_thread::get_id(); });
      pipeline.Submit(&warm);
      ASSERT_TRUE(warm.Wait(absl::Seconds(10)));
      ASSERT_OK(warm.status());
      if (reader == std::this_thread::get_id()) return;
    }
    FAIL() << "no read was ever done on the caller's thread";
  }

  std::unique_ptr<RedisServer> redis_;
  std::unique_ptr<redis::Client> admin_;
  std::atomic<int64_t> largest_batch_{0};
};

TEST_F(ReadPipelineTest, EachReadGetsItsOwnFieldsInOrder) {
  ReadPipeline pipeline(Options());
  TestRead read({"k1", "missing", "k2"}, {"b", "nope", "a"});
  pipeline.Submit(&read);
  ASSERT_TRUE(read.Wait());
  ASSERT_OK(read.status());
  EXPECT_THAT(read.values(0),
              ElementsAre(Optional(std::string("b1")), std::nullopt, Optional(std::string("a1"))));
  EXPECT_THAT(read.values(1), ElementsAre(std::nullopt, std::nullopt, std::nullopt));
  EXPECT_THAT(read.values(2),
              ElementsAre(Optional(std::string("b2")), std::nullopt, Optional(std::string("a2"))));
}

TEST_F(ReadPipelineTest, ReadsQueuedWhileOneIsOnTheWireShareTheNextRoundTrip) {
  auto owned = std::make_unique<ReadPipeline>(Options());
  ReadPipeline& pipeline = *owned;
  // The first read holds the I/O thread in its callback until the others are queued.
  absl::Notification holding, others_queued;
  TestRead first({"k0"}, {"a"});
  first.set_on_field([&] {
    holding.Notify();
    others_queued.WaitForNotification();
  });
  pipeline.Submit(&first);
  holding.WaitForNotification();
  std::vector<std::unique_ptr<TestRead>> others;
  for (int i = 1; i < 50; ++i) {
    others.push_back(std::make_unique<TestRead>(std::vector<std::string>{absl::StrCat("k", i)},
                                                std::vector<std::string>{"a", "b"}));
    pipeline.Submit(others.back().get());
  }
  others_queued.Notify();
  ASSERT_TRUE(first.Wait());
  ASSERT_OK(first.status());
  for (int i = 1; i < 50; ++i) {
    TestRead& r = *others[i - 1];
    ASSERT_TRUE(r.Wait());
    ASSERT_OK(r.status());
    EXPECT_THAT(r.values(0),
                ElementsAre(Optional(absl::StrCat("a", i)), Optional(absl::StrCat("b", i))));
  }
  owned.reset();  // the round-trip callback runs after the last Done: join the I/O thread
  EXPECT_EQ(largest_batch_.load(), 49);
}

class ManyReadsTest : public ReadPipelineTest, public ::testing::WithParamInterface<bool> {};

TEST_P(ManyReadsTest, ManyThreadsManyReads) {
  ReadPipeline pipeline(Options(/*read_on_caller=*/GetParam()));
  std::vector<std::thread> threads;
  std::atomic<int> wrong{0};
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int n = 0; n < 300; ++n) {
        int i = (t * 31 + n * 7) % 100;
        TestRead r({absl::StrCat("k", i), absl::StrCat("k", (i + 1) % 100)}, {"b"});
        pipeline.Submit(&r);
        if (!r.Wait() || !r.status().ok() || r.values(0)[0] != absl::StrCat("b", i) ||
            r.values(1)[0] != absl::StrCat("b", (i + 1) % 100)) {
          ++wrong;
        }
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(wrong.load(), 0);
}

INSTANTIATE_TEST_SUITE_P(OnTheIoThreadAndOnCallers, ManyReadsTest, ::testing::Bool());

TEST_F(ReadPipelineTest, OneReadsErrorReplySparesTheOthers) {
  ASSERT_OK(admin_->Command({"SET", "plain-string", "x"}).status());
  ReadPipeline pipeline(Options());
  absl::Notification holding, queued;
  TestRead first({"k0"}, {"a"});
  first.set_on_field([&] {
    holding.Notify();
    queued.WaitForNotification();
  });
  pipeline.Submit(&first);
  holding.WaitForNotification();
  TestRead before({"k3"}, {"a"});
  TestRead bad({"k4", "plain-string", "k5"}, {"a"});
  TestRead after({"k6"}, {"a"});
  pipeline.Submit(&before);
  pipeline.Submit(&bad);
  pipeline.Submit(&after);
  queued.Notify();
  ASSERT_TRUE(before.Wait() && bad.Wait() && after.Wait());
  // The key that is not a hash fails alone; the read's other keys are read.
  ASSERT_OK(bad.status());
  EXPECT_THAT(bad.get_errors(), ElementsAre(::testing::Pair(1, ::testing::HasSubstr("WRONGTYPE"))));
  EXPECT_THAT(bad.values(0), ElementsAre(Optional(std::string("a4"))));
  EXPECT_THAT(bad.values(2), ElementsAre(Optional(std::string("a5"))));
  ASSERT_OK(before.status());
  ASSERT_OK(after.status());
  EXPECT_THAT(before.values(0), ElementsAre(Optional(std::string("a3"))));
  EXPECT_THAT(after.values(0), ElementsAre(Optional(std::string("a6"))));
}

TEST_F(ReadPipelineTest, DeadlinesAreKeptWhileRedisIsStalled) {
  ReadPipeline pipeline(Options());
  // Redis holds every client's commands for 3 s (UNPAUSE would be held too).
  ASSERT_OK(admin_->Command({"CLIENT", "PAUSE", "3000", "ALL"}).status());
  // `patient` goes out first and stalls; `hasty` is on the wire behind it or still queued
  // (either way it must be answered at its deadline, not when Redis comes back), and
  // `queued` is surely still queued, held behind the stalled batch.
  TestRead patient({"k2"}, {"a"}, absl::Seconds(30));
  pipeline.Submit(&patient);
  TestRead hasty({"k1"}, {"a"}, absl::Milliseconds(200));
  pipeline.Submit(&hasty);
  ASSERT_TRUE(hasty.Wait());
  EXPECT_THAT(hasty.status(), StatusIs(absl::StatusCode::kDeadlineExceeded));
  TestRead queued({"k3"}, {"a"}, absl::Milliseconds(200));
  pipeline.Submit(&queued);
  ASSERT_TRUE(queued.Wait());
  EXPECT_THAT(queued.status(), StatusIs(absl::StatusCode::kDeadlineExceeded));
  ASSERT_TRUE(patient.Wait());
  // Ordering, not a clock bound: the patient read is answered only once the pause ends, and
  // the hasty ones were answered before it.
  EXPECT_LT(hasty.done_at(), patient.done_at());
  EXPECT_LT(queued.done_at(), patient.done_at());
  ASSERT_OK(patient.status());
  EXPECT_THAT(patient.values(0), ElementsAre(Optional(std::string("a2"))));
  // The connection is still in step: the next read gets its own reply.
  TestRead next({"k7"}, {"b"});
  pipeline.Submit(&next);
  ASSERT_TRUE(next.Wait());
  ASSERT_OK(next.status());
  EXPECT_THAT(next.values(0), ElementsAre(Optional(std::string("b7"))));
}

TEST_F(ReadPipelineTest, AReadWhoseDeadlinePassedIsNotSent) {
  ReadPipeline pipeline(Options());
  TestRead late({"k1"}, {"a"}, -absl::Seconds(1));
  pipeline.Submit(&late);
  ASSERT_TRUE(late.Wait());
  EXPECT_THAT(late.status(), StatusIs(absl::StatusCode::kDeadlineExceeded));
  EXPECT_THAT(late.values(0), ElementsAre(std::nullopt));
}

TEST_F(ReadPipelineTest, OutageFailsFastAndServiceResumesByItself) {
  ReadPipeline pipeline(Options());
  TestRead warm({"k1"}, {"a"});
  pipeline.Submit(&warm);
  ASSERT_TRUE(warm.Wait());
  ASSERT_OK(warm.status());

  ASSERT_OK(redis_->Stop());
  TestRead down({"k1"}, {"a"}, absl::Seconds(20));
  pipeline.Submit(&down);
  ASSERT_TRUE(down.Wait());
  // UNAVAILABLE, not DEADLINE_EXCEEDED: it failed at once rather than waiting out its deadline.
  EXPECT_THAT(down.status(), StatusIs(absl::StatusCode::kUnavailable));

  ASSERT_OK(redis_->Restart());
  ASSERT_OK(admin_->Command({"HSET", "k1", "a", "back"}).status());
  // Reads fail fast during the reconnect backoff (at most a second), then succeed.
  absl::Time give_up = absl::Now() + absl::Seconds(20);
  absl::Status last;
  while (absl::Now() < give_up) {
    TestRead r({"k1"}, {"a"});
    pipeline.Submit(&r);
    ASSERT_TRUE(r.Wait());
    last = r.status();
    if (last.ok()) {
      EXPECT_THAT(r.values(0), ElementsAre(Optional(std::string("back"))));
      break;
    }
    EXPECT_THAT(last, StatusIs(absl::StatusCode::kUnavailable));
    absl::SleepFor(absl::Milliseconds(20));  // a retry loop, not synchronization
  }
  ASSERT_OK(last);
}

TEST_F(ReadPipelineTest, AnIdlePipelineReadsOnTheCallersThread) {
  ReadPipeline pipeline(Options(/*read_on_caller=*/true));
  // The first read connects, on the I/O thread: a caller never waits for a connection.
  TestRead first({"k4"}, {"a"});
  std::thread::id connector;
  first.set_on_field([&] { connector = std::this_thread::get_id(); });
  pipeline.Submit(&first);
  ASSERT_TRUE(first.Wait(absl::Seconds(10)));
  EXPECT_NE(connector, std::this_thread::get_id());
  Connect(pipeline);
  TestRead read({"k4"}, {"a"});
  std::thread::id reader;
  read.set_on_field([&] { reader = std::this_thread::get_id(); });
  pipeline.Submit(&read);
  // Answered before Submit returned, on this thread: no hand-over.
  ASSERT_TRUE(read.Wait(absl::ZeroDuration()));
  EXPECT_EQ(reader, std::this_thread::get_id());
  ASSERT_OK(read.status());
  EXPECT_THAT(read.values(0), ElementsAre(Optional(std::string("a4"))));
}

TEST_F(ReadPipelineTest, AReadThatMayNotWaitOnItsCallerIsHandedOverEvenWhenIdle) {
  ReadPipeline pipeline(Options(/*read_on_caller=*/true));
  Connect(pipeline);
  TestRead read({"k4"}, {"a"});
  read.set_may_read_on_caller(false);
  std::thread::id reader;
  read.set_on_field([&] { reader = std::this_thread::get_id(); });
  pipeline.Submit(&read);
  ASSERT_TRUE(read.Wait(absl::Seconds(10)));
  EXPECT_NE(reader, std::this_thread::get_id());
  EXPECT_NE(reader, std::thread::id());
  ASSERT_OK(read.status());
  EXPECT_THAT(read.values(0), ElementsAre(Optional(std::string("a4"))));
}

TEST_F(ReadPipelineTest, ReadsQueuedBehindACallerReadingAreLeftToTheIoThread) {
  ReadPipeline pipeline(Options(/*read_on_caller=*/true));
  Connect(pipeline);
  absl::Notification holding, others_queued;
  TestRead first({"k0"}, {"a"});
  first.set_on_field([&] {
    holding.Notify();
    others_queued.WaitForNotification();
  });
  std::thread caller([&] { pipeline.Submit(&first); });  // reads on `caller`, held there
  holding.WaitForNotification();
  TestRead second({"k5"}, {"b"});
  std::thread::id reader;
  second.set_on_field([&] { reader = std::this_thread::get_id(); });
  pipeline.Submit(&second);  // the connection is busy: queued
  others_queued.Notify();
  caller.join();
  ASSERT_TRUE(second.Wait());
  ASSERT_OK(second.status());
  EXPECT_THAT(second.values(0), ElementsAre(Optional(std::string("b5"))));
  EXPECT_NE(reader, std::this_thread::get_id());
  EXPECT_NE(reader, std::thread::id());
}

TEST_F(ReadPipelineTest, DeadlinesAreKeptBehindACallerStuckOnAStalledRedis) {
  ReadPipelineOptions options = Options(/*read_on_caller=*/true);
  options.caller_wait = absl::Seconds(30);  // the caller stays for the whole pause
  ReadPipeline pipeline(options);
  Connect(pipeline);
  ASSERT_OK(admin_->Command({"CLIENT", "PAUSE", "3000", "ALL"}).status());
  TestRead patient({"k2"}, {"a"}, absl::Seconds(30));
  std::thread caller([&] { pipeline.Submit(&patient); });  // stuck reading until the pause ends
  TestRead hasty({"k1"}, {"a"}, absl::Milliseconds(200));
  // Submitted while `caller` reads (or before: then `caller` takes it into its batch).
  pipeline.Submit(&hasty);
  ASSERT_TRUE(hasty.Wait());
  EXPECT_THAT(hasty.status(), StatusIs(absl::StatusCode::kDeadlineExceeded));
  caller.join();
  ASSERT_TRUE(patient.Wait());
  EXPECT_LT(hasty.done_at(), patient.done_at());  // answered before the pause ended
  ASSERT_OK(patient.status());
}

// A caller reading on its own thread (a gRPC queue thread, in serving) waits for Redis at
// most caller_wait: with Redis paused, Submit returns with the read still unanswered, and the
// I/O thread reads the rest of the batch and answers it once Redis answers. A read submitted
// meanwhile does not touch the connection on its caller's thread either.
TEST_F(ReadPipelineTest, ACallerLeavesABatchRedisHasNotAnsweredToTheIoThread) {
  ReadPipelineOptions options = Options(/*read_on_caller=*/true);
  options.caller_wait = absl::Milliseconds(20);
  ReadPipeline pipeline(options);
  Connect(pipeline);
  ASSERT_OK(admin_->Command({"CLIENT", "PAUSE", "2000", "ALL"}).status());
  TestRead patient({"k2", "k3"}, {"a", "b"}, absl::Seconds(30));
  std::thread::id patient_reader;
  patient.set_on_field([&] { patient_reader = std::this_thread::get_id(); });
  const absl::Time submitted = absl::Now();
  pipeline.Submit(&patient);
  // Without the hand-over, Submit would have returned only after the pause, the read answered.
  EXPECT_FALSE(patient.done());
  // It was read on this thread for caller_wait (the I/O thread would not have made it wait).
  EXPECT_GE(absl::Now() - submitted, options.caller_wait);
  TestRead second({"k4"}, {"b"}, absl::Seconds(30));
  std::thread::id second_reader;
  second.set_on_field([&] { second_reader = std::this_thread::get_id(); });
  pipeline.Submit(&second);
  EXPECT_FALSE(second.done());

  ASSERT_TRUE(patient.Wait());
  ASSERT_TRUE(second.Wait());
  ASSERT_OK(patient.status());
  EXPECT_THAT(patient.values(0),
              ElementsAre(Optional(std::string("a2")), Optional(std::string("b2"))));
  EXPECT_THAT(patient.values(1),
              ElementsAre(Optional(std::string("a3")), Optional(std::string("b3"))));
  ASSERT_OK(second.status());
  EXPECT_THAT(second.values(0), ElementsAre(Optional(std::string("b4"))));
  for (std::thread::id reader : {patient_reader, second_reader}) {
    EXPECT_NE(reader, std::this_thread::get_id());
    EXPECT_NE(reader, std::thread::id());
  }
  // Once the I/O thread is done with the batch, callers read on their own threads again.
  Connect(pipeline);
}

// Shutting down while the I/O thread waits for the rest of a batch a caller left to it, with
// another read queued behind that batch: both are failed at once, not when Redis answers,
// and the queued one is not sent.
TEST_F(ReadPipelineTest, ShuttingDownFailsABatchLeftToTheIoThreadAndWhatIsQueued) {
  redis::RedisOptions marker_options = OptionsFor(*redis_);
  marker_options.command_timeout = absl::Seconds(60);  // it waits out the pause
  redis::Client marker_client(marker_options);
  ASSERT_OK(marker_client.Command({"PING"}).status());
  // Declared before the pipeline: they outlive it, whatever fails.
  TestRead patient({"k2"}, {"a"}, absl::Seconds(30));
  TestRead hasty({"k1"}, {"a"}, absl::Milliseconds(300));
  TestRead queued({"k3"}, {"a"}, absl::Seconds(30));
  ReadPipelineOptions options = Options(/*read_on_caller=*/true);
  options.caller_wait = absl::Milliseconds(20);
  auto pipeline = std::make_unique<ReadPipeline>(options);
  Connect(*pipeline);
  ASSERT_OK(admin_->Command({"CLIENT", "PAUSE", "3000", "ALL"}).status());
  // The marker's command is held until the pause ends: when it is answered marks the end.
  absl::Time pause_over;
  std::thread marker([&] {
    EXPECT_OK(marker_client.Command({"PING"}).status());
    pause_over = absl::Now();
  });
  pipeline->Submit(&patient);
  EXPECT_FALSE(patient.done());  // sent, unanswered, left to the I/O thread
  // Answered at its deadline by the I/O thread, which can only be waiting for the rest of
  // `patient`'s batch then: the precondition of what follows.
  pipeline->Submit(&hasty);
  EXPECT_TRUE(hasty.Wait());
  EXPECT_THAT(hasty.status(), StatusIs(absl::StatusCode::kDeadlineExceeded));
  pipeline->Submit(&queued);  // queued behind the batch
  EXPECT_FALSE(queued.done());
  pipeline.reset();
  marker.join();
  for (TestRead* read : {&patient, &queued}) {
    ASSERT_TRUE(read->done());  // answered by the time the destructor returned
    EXPECT_THAT(read->status(), StatusIs(absl::StatusCode::kUnavailable));
    EXPECT_LT(read->done_at(), pause_over);
  }
}

// A caller whose read's processing outlasts caller_wait leaves the rest of the replies to
// the I/O thread in the middle of them: the replies are a megabyte, far more than the caller
// has read when it stops, so the I/O thread goes on inside a reply (hiredis's partly parsed
// reply; a whole hash's fields held so far: small hashes keep their fields in the order they
// were set, so the values before the cut are held when it comes). Every value still reaches
// its read, once.
TEST_F(ReadPipelineTest, TheIoThreadGoesOnInsideTheReplyWhereTheCallerStopped) {
  std::vector<std::string> keys, fields;
  for (int f = 0; f < 400; ++f) fields.push_back(absl::StrCat("f", f));
  auto value = [](size_t key, size_t field) {
    return absl::StrCat(key, "-", field, "-", std::string(40, 'v'));
  };
  for (size_t k = 0; k < 20; ++k) {
    keys.push_back(absl::StrCat("big", k));
    std::vector<std::string> hset = {"HSET", keys.back()};
    for (size_t f = 0; f < fields.size(); ++f) {
      hset.push_back(fields[f]);
      hset.push_back(value(k, f));
    }
    ASSERT_OK(admin_->Command(hset).status());
  }
  ReadPipelineOptions options = Options(/*read_on_caller=*/true);
  options.caller_wait = absl::Milliseconds(200);
  ReadPipeline pipeline(options);
  for (bool whole : {false, true}) {
    SCOPED_TRACE(whole ? "read whole" : "read by field");
    Connect(pipeline);
    TestRead read(keys, fields, absl::Seconds(30));
    if (whole) read.ReadWhole();
    const std::thread::id caller = std::this_thread::get_id();
    std::atomic<int> on_caller{0}, elsewhere{0};
    read.set_on_field([&] {
      if (std::this_thread::get_id() != caller) {
        ++elsewhere;
        return;
      }
      // Slow work on the first field, by construction (not a wait for another thread): the
      // caller's budget, which began before this field, is spent by the time it next needs
      // bytes from the socket.
      if (on_caller++ == 0) absl::SleepFor(options.caller_wait);
    });
    pipeline.Submit(&read);
    ASSERT_TRUE(read.Wait());
    ASSERT_OK(read.status());
    EXPECT_GT(on_caller.load(), 0);
    EXPECT_GT(elsewhere.load(), 0);
    for (size_t k = 0; k < keys.size(); ++k) {
      EXPECT_EQ(read.field_calls(k), static_cast<int>(fields.size())) << keys[k];
      for (size_t f = 0; f < fields.size(); ++f) {
        ASSERT_EQ(read.values(k)[f], value(k, f)) << keys[k] << " " << fields[f];
      }
    }
  }
}

// Like serving's reads: owns its gets and deletes itself in Done.
class SelfDeletingRead : public AsyncRead {
 public:
  SelfDeletingRead(int gets, absl::Duration timeout, absl::Notification* done, absl::Status* status)
      : deadline_(absl::Now() + timeout), done_(done), status_(status) {
    for (int i = 0; i < gets; ++i) keys_.push_back(absl::StrCat("k", i));
    for (const auto& k : keys_) gets_.push_back({k, &fields_});
  }
  absl::Span<const HashGet> gets() const override { return gets_; }
  absl::Time deadline() const override { return deadline_; }
  void OnField(size_t, size_t, const char*, size_t) override {}
  void OnGetError(size_t, absl::string_view) override {}
  void Done(absl::Status status) override {
    *status_ = status;
    done_->Notify();
    delete this;
  }

 private:
  absl::Time deadline_;
  std::vector<std::string> keys_;
  std::vector<std::string> fields_ = {"a"};
  std::vector<HashGet> gets_;
  absl::Notification* done_;
  absl::Status* status_;
};

TEST_F(ReadPipelineTest, AReadThatExpiresMidBatchAndIsGoneIsNotTouchedAgain) {
  ReadPipeline pipeline(Options());
  ASSERT_OK(admin_->Command({"CLIENT", "PAUSE", "1000", "ALL"}).status());
  absl::Notification done;
  absl::Status status;
  pipeline.Submit(new SelfDeletingRead(3, absl::Milliseconds(200), &done, &status));
  ASSERT_TRUE(done.WaitForNotificationWithTimeout(absl::Seconds(10)));
  EXPECT_THAT(status, StatusIs(absl::StatusCode::kDeadlineExceeded));
  // The rest of its replies arrive after the pause, and are dropped; the next read is fine.
  TestRead next({"k9"}, {"b"});
  pipeline.Submit(&next);
  ASSERT_TRUE(next.Wait());
  ASSERT_OK(next.status());
  EXPECT_THAT(next.values(0), ElementsAre(Optional(std::string("b9"))));
}

TEST(ReadPipelineAuthTest, ConnectingNeverOutlastsADeadline) {
  ASSERT_OK_AND_ASSIGN(auto redis, RedisServer::Start({.config_lines = {
                                                           "user reader on >s3cret ~* +@read +ping",
                                                       }}));
  redis::RedisOptions admin_options = OptionsFor(*redis);
  admin_options.command_timeout = absl::Seconds(60);  // it waits out the pause
  redis::Client admin(admin_options);
  redis::RedisOptions reader = OptionsFor(*redis);
  reader.user = "reader";
  reader.password = config::Secret::FromValue("s3cret");
  ReadPipeline pipeline({.redis = reader, .read_on_caller_when_idle = false});
  // The server holds AUTH like every other command while paused.
  ASSERT_OK(admin.Command({"CLIENT", "PAUSE", "2500", "ALL"}).status());
  // The admin's next command is held until the pause ends: when it is answered marks the end.
  absl::Time pause_over;
  std::thread marker([&] {
    EXPECT_OK(admin.Command({"PING"}).status());
    pause_over = absl::Now();
  });
  TestRead hasty({"k1"}, {"a"}, absl::Milliseconds(200));
  pipeline.Submit(&hasty);
  ASSERT_TRUE(hasty.Wait());
  marker.join();
  EXPECT_FALSE(hasty.status().ok());
  // Ordering, not a clock bound: answered at its deadline, before the pause ended.
  EXPECT_LT(hasty.done_at(), pause_over) << hasty.status();
}

// Submit may not touch a read once it is queued: the I/O thread may answer it at once and its
// owner free it. Here the I/O thread is let go while Submit asks the read its question; had
// Submit queued the read first, the I/O thread would take it during the question.
TEST_F(ReadPipelineTest, SubmitAsksAReadEverythingBeforeQueueingIt) {
  ReadPipeline pipeline(Options(/*read_on_caller=*/true));
  Connect(pipeline);
  absl::Notification holding, asked;
  TestRead first({"k0"}, {"a"});
  first.set_may_read_on_caller(false);
  first.set_on_field([&] {
    holding.Notify();
    asked.WaitForNotification();
  });
  pipeline.Submit(&first);
  holding.WaitForNotification();  // the I/O thread is inside first's batch
  ProbeRead probe({"k6"}, {"b"}, &asked);
  pipeline.Submit(&probe);
  EXPECT_FALSE(probe.taken_while_asked());
  ASSERT_TRUE(first.Wait());
  ASSERT_OK(first.status());
  ASSERT_TRUE(probe.Wait());
  ASSERT_OK(probe.status());
  EXPECT_THAT(probe.values(0), ElementsAre(Optional(std::string("b6"))));
}

}  // namespace
}  // namespace granary::onlinestore
