#include "services/gateway/view_health.h"

#include <thread>

#include "absl/synchronization/notification.h"
#include "gtest/gtest.h"

namespace granary::gateway {
namespace {

using Key = std::pair<std::string, std::string>;
const Key kPV{"p", "v"};

// Two materializer replicas' metrics, as the test sets them, and a clock the test moves.
struct Replicas {
  std::map<std::string, std::string> text;
  absl::Time now = absl::FromUnixSeconds(1700000000);
  ViewHealth health{{"http://a/metrics", "http://b/metrics"},
                    absl::Seconds(1),
                    [this](const std::string& url) -> absl::StatusOr<std::string> {
                      auto it = text.find(url);
                      if (it == text.end()) return absl::UnavailableError("refused");
                      return it->second;
                    },
                    [this] { return now; }};
};

std::string Metrics(double age, double pushed) {
  return "# TYPE granary_materializer_newest_event_age_seconds gauge\n"
         "granary_materializer_newest_event_age_seconds{project=\"p\",feature_view=\"v\"} " +
         std::to_string(age) +
         "\n"
         "granary_materializer_pushed_rows_total{project=\"p\",feature_view=\"v\"} " +
         std::to_string(pushed) + "\nother_metric 3\n";
}

TEST(ViewHealthTest, YoungestAgeAndSummedRateOverReplicas) {
  Replicas r;
  r.text["http://a/metrics"] = Metrics(30, 100);
  r.text["http://b/metrics"] = Metrics(12, 50);
  HealthSample first = r.health.Sample();
  EXPECT_TRUE(first.errors.empty());
  ASSERT_TRUE(first.views.count(kPV));
  EXPECT_EQ(first.views[kPV].newest_event_age_seconds, 12);
  // One sample: no rate yet.
  EXPECT_FALSE(first.views[kPV].pushed_rows_per_second.has_value());
  EXPECT_FALSE(first.rates_known);

  r.now += absl::Seconds(10);
  r.text["http://a/metrics"] = Metrics(1, 400);  // +300
  r.text["http://b/metrics"] = Metrics(5, 250);  // +200
  HealthSample second = r.health.Sample();
  EXPECT_EQ(second.views[kPV].newest_event_age_seconds, 1);
  ASSERT_TRUE(second.views[kPV].pushed_rows_per_second.has_value());
  EXPECT_DOUBLE_EQ(*second.views[kPV].pushed_rows_per_second, 50);  // 500 rows / 10 s
  EXPECT_TRUE(second.rates_known);
}

TEST(ViewHealthTest, CallsWithinTheIntervalShareOneScrape) {
  Replicas r;
  r.text["http://a/metrics"] = Metrics(30, 100);
  r.text["http://b/metrics"] = Metrics(12, 50);
  HealthSample first = r.health.Sample();
  r.text["http://a/metrics"] = Metrics(1, 900);
  r.now += ViewHealth::kMinInterval / 2;
  HealthSample again = r.health.Sample();
  EXPECT_EQ(again.sampled_at, first.sampled_at);
  EXPECT_EQ(again.views[kPV].newest_event_age_seconds, 12);
}

TEST(ViewHealthTest, AnUnreadableReplicaIsNamedAndGivesNoRate) {
  Replicas r;
  r.text["http://a/metrics"] = Metrics(30, 100);
  r.text["http://b/metrics"] = Metrics(12, 50);
  r.health.Sample();
  r.now += absl::Seconds(10);
  r.text.erase("http://b/metrics");
  r.text["http://a/metrics"] = Metrics(2, 130);
  HealthSample partial = r.health.Sample();
  ASSERT_EQ(partial.errors.size(), 1u);
  EXPECT_EQ(partial.errors[0], "metrics of http://b/metrics: refused");
  EXPECT_EQ(partial.views[kPV].newest_event_age_seconds, 2);
  // Half the replicas' counters against all of them would be a false drop.
  EXPECT_FALSE(partial.views[kPV].pushed_rows_per_second.has_value());
}

TEST(ViewHealthTest, ACounterThatWentBackGivesNoRate) {
  Replicas r;
  r.text["http://a/metrics"] = Metrics(30, 1000);
  r.text["http://b/metrics"] = Metrics(12, 50);
  r.health.Sample();
  r.now += absl::Seconds(10);
  r.text["http://a/metrics"] = Metrics(3, 10);  // replica a restarted
  HealthSample after = r.health.Sample();
  EXPECT_FALSE(after.views[kPV].pushed_rows_per_second.has_value());
}

TEST(ViewHealthTest, ADnsNameIsReadAtEveryAddressAndEachIsRatedOnItsOwn) {
  std::map<std::string, std::string> text;
  std::vector<std::string> addresses = {"10.0.0.1"};
  absl::Time now = absl::FromUnixSeconds(1700000000);
  ViewHealth health(
      {"dns+http://materializers:9573/metrics"}, absl::Seconds(1),
      [&](const std::string& url) -> absl::StatusOr<std::string> {
        auto it = text.find(url);
        if (it == text.end()) return absl::UnavailableError("refused");
        return it->second;
      },
      [&] { return now; },
      [&](const std::string& host) -> absl::StatusOr<std::vector<std::string>> {
        EXPECT_EQ(host, "materializers");
        return addresses;
      });
  text["http://10.0.0.1:9573/metrics"] = Metrics(30, 100);
  health.Sample();
  // A second replica appears with counters of its own: comparing them with the first one's
  // would make a rate of 1,000 rows; it gets none until it has a history of its own.
  now += absl::Seconds(10);
  addresses = {"10.0.0.1", "10.0.0.2"};
  text["http://10.0.0.1:9573/metrics"] = Metrics(5, 200);
  text["http://10.0.0.2:9573/metrics"] = Metrics(2, 1000);
  HealthSample joined = health.Sample();
  EXPECT_TRUE(joined.errors.empty());
  EXPECT_EQ(joined.views[kPV].newest_event_age_seconds, 2);
  EXPECT_FALSE(joined.rates_known);
  EXPECT_FALSE(joined.views[kPV].pushed_rows_per_second.has_value());
  now += absl::Seconds(10);
  text["http://10.0.0.1:9573/metrics"] = Metrics(1, 400);   // +300 over 20 s: 15/s
  text["http://10.0.0.2:9573/metrics"] = Metrics(1, 1100);  // +100 over 10 s: 10/s
  HealthSample both = health.Sample();
  ASSERT_TRUE(both.rates_known);
  EXPECT_DOUBLE_EQ(*both.views[kPV].pushed_rows_per_second, 25);

  addresses.clear();
  now += absl::Seconds(10);
  HealthSample none = health.Sample();
  ASSERT_EQ(none.errors.size(), 1u);
  EXPECT_EQ(none.errors[0], "metrics of dns+http://materializers:9573/metrics: no address");
}

TEST(ViewHealthTest, WhileOneReadRunsOtherCallersGetTheLastFigures) {
  absl::Time now = absl::FromUnixSeconds(1700000000);
  absl::Notification entered, release;
  bool block = false;
  ViewHealth health(
      {"http://a/metrics"}, absl::Seconds(1),
      [&](const std::string&) -> absl::StatusOr<std::string> {
        if (block) {
          entered.Notify();
          release.WaitForNotification();
          return Metrics(1, 200);
        }
        return Metrics(30, 100);
      },
      [&] { return now; });
  HealthSample first = health.Sample();
  now += absl::Seconds(10);
  block = true;
  HealthSample slow;
  std::thread reader([&] { slow = health.Sample(); });
  entered.WaitForNotification();
  // The read is stuck at the endpoint: this caller does not wait for it (bounded, so that a
  // caller that did wait fails the test instead of hanging it).
  HealthSample meanwhile;
  absl::Notification answered;
  std::thread other([&] {
    meanwhile = health.Sample();
    answered.Notify();
  });
  const bool without_waiting = answered.WaitForNotificationWithTimeout(absl::Seconds(30));
  release.Notify();
  other.join();
  ASSERT_TRUE(without_waiting);
  EXPECT_EQ(meanwhile.sampled_at, first.sampled_at);
  EXPECT_EQ(meanwhile.views[kPV].newest_event_age_seconds, 30);
  reader.join();
  EXPECT_EQ(slow.views[kPV].newest_event_age_seconds, 1);
}

TEST(ViewHealthTest, DnsUrlsTakeAnIpv6HostAPortAndAPathOrNot) {
  std::vector<std::string> hosts, urls;
  ViewHealth health(
      {"dns+http://[fd00::1]:9573/m", "dns+http://materializers", "dns+http://materializers"},
      absl::Seconds(1),
      [&](const std::string& url) -> absl::StatusOr<std::string> {
        urls.push_back(url);
        return Metrics(1, 1);
      },
      nullptr,
      [&](const std::string& host) -> absl::StatusOr<std::vector<std::string>> {
        hosts.push_back(host);
        return std::vector<std::string>{host == "materializers" ? "10.0.0.9" : "[fd00::1]"};
      });
  HealthSample sample = health.Sample();
  EXPECT_TRUE(sample.errors.empty());
  EXPECT_EQ(hosts, (std::vector<std::string>{"fd00::1", "materializers", "materializers"}));
  // Read as many times as named, counted once each.
  EXPECT_EQ(urls, (std::vector<std::string>{"http://[fd00::1]:9573/m", "http://10.0.0.9/metrics",
                                            "http://10.0.0.9/metrics"}));
}

}  // namespace
}  // namespace granary::gateway
