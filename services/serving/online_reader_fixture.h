// The fixture of OnlineReader's tests: a real Redis holding values in Feast's layout, the
// test catalog (services/serving/test_catalog.h), a fake clock, and helpers to write rows and
// read answers.
#ifndef GRANARY_SERVICES_SERVING_ONLINE_READER_FIXTURE_H_
#define GRANARY_SERVICES_SERVING_ONLINE_READER_FIXTURE_H_

#include <atomic>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/synchronization/notification.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "prometheus/registry.h"

#include "libs/base/proto_time.h"
#include "libs/keys/entity_key.h"
#include "libs/keys/hash_field.h"
#include "libs/onlinestore/redis_online_store.h"
#include "libs/testing/redis_server.h"
#include "libs/testing/status_matchers.h"
#include "libs/testing/values.h"
#include "services/serving/online_reader.h"
#include "services/serving/test_catalog.h"

// The share of a hash a request must ask for to read it whole: the default, or (BUILD's
// variants of online_reader_test) 0 so every hash is read by field, or a tiny one so every hash
// is read whole; the same assertions hold for all three.
#ifndef GRANARY_TEST_WHOLE_HASH_SHARE
#define GRANARY_TEST_WHOLE_HASH_SHARE 0.75
#endif

namespace granary::serving {

inline constexpr double kWholeHashShare = GRANARY_TEST_WHOLE_HASH_SHARE;

inline const absl::Time kNow = absl::FromUnixSeconds(1'700'010'000);

class OnlineReaderTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_OK_AND_ASSIGN(redis_, ::granary::testing::RedisServer::Start());
    redis::RedisOptions options;
    options.host = redis_->host();
    options.port = redis_->port();
    store_ = std::make_shared<onlinestore::RedisOnlineStore>(
        options, onlinestore::AsyncReadOptions{
                     .connections = 1, .on_round_trip = [this](absl::Duration, size_t gets) {
                       round_trips_.fetch_add(1);
                       last_batch_gets_.store(static_cast<int64_t>(gets));
                     }});
    writer_ = store_->NewSession();
    catalogs_["shop"] = testing::TestCatalog("shop");
    metrics_ = std::make_shared<ServingMetrics>(registry_);
    UseComputeThreads(0);
  }

  // Serves `repo` from now on; its catalog.
  std::shared_ptr<const registry_client::Catalog> UseCatalog(registry::v1::FeatureRepo repo) {
    std::shared_ptr<const registry_client::Catalog> catalog = testing::CatalogOf(std::move(repo));
    absl::MutexLock lock(&mu_);
    catalogs_["shop"] = catalog;
    return catalog;
  }

  // Answers with on-demand features computed on `threads` threads of their own (0: on the
  // thread that completes the read).
  void UseComputeThreads(int threads) {
    reader_ = std::make_unique<OnlineReader>(
        OnlineReaderOptions{.default_project = "shop",
                            .projects = {"shop", "unapplied"},
                            .max_entity_rows = 100,
                            .max_request_time = absl::Seconds(10),
                            .compute_threads = threads,
                            .plan = {.whole_hash_share = kWholeHashShare}},
        [this](const std::string& project)
            -> absl::StatusOr<std::shared_ptr<const registry_client::Catalog>> {
          absl::MutexLock lock(&mu_);
          auto it = catalogs_.find(project);
          if (it == catalogs_.end()) return absl::UnavailableError("not loaded");
          return it->second;
        },
        store_, clock_, metrics_);
  }

  // Writes one row of a view as Feast's materialization would.
  void Write(const std::string& view, std::vector<std::pair<std::string, types::v1::Value>> entity,
             absl::Time event_time, std::vector<std::pair<std::string, types::v1::Value>> values,
             int64_t view_version = 0) {
    std::vector<std::pair<std::string, types::v1::Value>> key_values = entity;
    if (key_values.empty())
      key_values.push_back({keys::kDummyJoinKey, ::granary::testing::Str("")});
    ASSERT_OK_AND_ASSIGN(std::string key, keys::RedisKey(key_values, "shop"));
    onlinestore::ViewWrite write;
    write.view = view;
    write.view_version = view_version;
    onlinestore::RowWrite row{key, event_time, /*created_time=*/event_time, {}};
    for (auto& [feature, value] : values) {
      write.feature_fields.push_back(keys::FeatureField(view, feature));
      row.values.push_back(value.SerializeAsString());
    }
    write.rows.push_back(std::move(row));
    ASSERT_OK(writer_->WriteNewer(write, absl::Now() + absl::Seconds(10)).status());
  }

  absl::StatusOr<v1::GetOnlineFeaturesResponse> Read(const v1::GetOnlineFeaturesRequest& request,
                                                     absl::Time deadline = absl::InfiniteFuture()) {
    absl::StatusOr<std::string> answer;
    absl::Notification done;
    reader_->Read(request, deadline, [&](absl::StatusOr<std::string> a) {
      answer = std::move(a);
      done.Notify();
    });
    if (!done.WaitForNotificationWithTimeout(absl::Seconds(30))) {
      return absl::InternalError("no answer");
    }
    if (!answer.ok()) return answer.status();
    // The bytes must be exactly a response: what a client will parse.
    v1::GetOnlineFeaturesResponse response;
    if (!response.ParseFromString(*answer)) return absl::InternalError("unparsable response");
    if (response.SerializeAsString() != *answer) {
      return absl::InternalError("not the canonical encoding of the response");
    }
    return response;
  }

  // A counter's value, by its status label ("" for a counter without labels).
  double Counter(const std::string& name, const std::string& status) {
    for (const auto& family : registry_.Collect()) {
      if (family.name != name) continue;
      for (const auto& metric : family.metric) {
        if (status.empty() && metric.label.empty()) return metric.counter.value;
        for (const auto& label : metric.label) {
          if (label.value == status) return metric.counter.value;
        }
      }
    }
    return -1;
  }

  std::unique_ptr<::granary::testing::RedisServer> redis_;
  std::shared_ptr<onlinestore::RedisOnlineStore> store_;
  std::unique_ptr<onlinestore::OnlineStoreSession> writer_;
  base::FakeClock clock_{kNow};
  prometheus::Registry registry_;
  std::shared_ptr<ServingMetrics> metrics_;
  absl::Mutex mu_;
  std::map<std::string, std::shared_ptr<const registry_client::Catalog>> catalogs_;
  std::unique_ptr<OnlineReader> reader_;
  std::atomic<int> round_trips_{0};
  std::atomic<int64_t> last_batch_gets_{0};
};

inline v1::GetOnlineFeaturesRequest Request(std::vector<std::string> refs,
                                            std::vector<int64_t> drivers) {
  v1::GetOnlineFeaturesRequest r;
  for (auto& ref : refs) r.mutable_features()->add_val(ref);
  auto& column = (*r.mutable_entities())["driver_id"];
  for (int64_t d : drivers) column.add_val()->set_int64_val(d);
  return r;
}

}  // namespace granary::serving

#endif  // GRANARY_SERVICES_SERVING_ONLINE_READER_FIXTURE_H_
