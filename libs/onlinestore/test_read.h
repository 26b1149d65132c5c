// The reads ReadPipeline's tests submit: TestRead records what arrives and checks the
// AsyncRead contract (nothing after Done, Done once).
#ifndef GRANARY_LIBS_ONLINESTORE_TEST_READ_H_
#define GRANARY_LIBS_ONLINESTORE_TEST_READ_H_

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "absl/synchronization/notification.h"
#include "absl/time/clock.h"
#include "gtest/gtest.h"

#include "libs/onlinestore/online_store.h"
#include "libs/redis/options.h"
#include "libs/testing/redis_server.h"

namespace granary::onlinestore {

inline redis::RedisOptions OptionsFor(const testing::RedisServer& server) {
  redis::RedisOptions o;
  o.host = server.host();
  o.port = server.port();
  o.command_timeout = absl::Seconds(10);
  return o;
}

// An on_round_trip callback that keeps the largest batch seen in `largest`.
inline std::function<void(absl::Duration, size_t)> RecordLargestBatch(
    std::atomic<int64_t>* largest) {
  return [largest](absl::Duration, size_t gets) {
    int64_t seen = largest->load();
    while (static_cast<int64_t>(gets) > seen &&
           !largest->compare_exchange_weak(seen, static_cast<int64_t>(gets))) {
    }
  };
}

// Reads the given fields of the given keys; records what arrives and checks the contract.
class TestRead : public AsyncRead {
 public:
  TestRead(std::vector<std::string> keys, std::vector<std::string> fields,
           absl::Duration timeout = absl::Seconds(10))
      : keys_(std::move(keys)), fields_(std::move(fields)), deadline_(absl::Now() + timeout) {
    for (const std::string& k : keys_) gets_.push_back({k, &fields_});
    values_.assign(keys_.size(),
                   std::vector<std::optional<std::string>>(fields_.size(), std::nullopt));
    field_calls_.assign(keys_.size(), 0);
  }

  absl::Span<const HashGet> gets() const override { return gets_; }
  absl::Time deadline() const override { return deadline_; }
  void OnField(size_t get, size_t field, const char* data, size_t size) override {
    if (done_.HasBeenNotified()) ADD_FAILURE() << "OnField after Done";
    if (data != nullptr) values_[get][field] = std::string(data, size);
    ++field_calls_[get];
    if (on_field_) on_field_();
  }
  void OnGetError(size_t get, absl::string_view reason) override {
    if (done_.HasBeenNotified()) ADD_FAILURE() << "OnGetError after Done";
    get_errors_[get] = std::string(reason);
  }
  bool MayReadOnCaller() const override { return may_read_on_caller_; }
  void set_may_read_on_caller(bool may) { may_read_on_caller_ = may; }
  // Every hash is read whole (HGETALL) from now on.
  void ReadWhole() {
    for (size_t i = 0; i < fields_.size(); ++i) positions_[fields_[i]] = i;
    for (HashGet& get : gets_) get.whole_hash = &positions_;
  }
  void Done(absl::Status status) override {
    if (done_.HasBeenNotified()) ADD_FAILURE() << "Done twice";
    status_ = std::move(status);
    done_at_ = absl::Now();
    done_.Notify();
  }

  // Runs on the pipeline's thread at each field (to hold the thread while others queue).
  void set_on_field(std::function<void()> fn) { on_field_ = std::move(fn); }
  bool Wait(absl::Duration timeout = absl::Seconds(30)) {
    return done_.WaitForNotificationWithTimeout(timeout);
  }
  const absl::Status& status() const { return status_; }
  const std::vector<std::optional<std::string>>& values(size_t get) const { return values_[get]; }
  // How many times OnField came for the get (once per field when it was read).
  int field_calls(size_t get) const { return field_calls_[get]; }
  bool done() const { return done_.HasBeenNotified(); }
  absl::Time done_at() const { return done_at_; }
  const std::map<size_t, std::string>& get_errors() const { return get_errors_; }

 private:
  bool may_read_on_caller_ = true;
  std::vector<std::string> keys_;
  std::vector<std::string> fields_;
  absl::Time deadline_;
  std::vector<HashGet> gets_;
  FieldPositions positions_;
  std::vector<std::vector<std::optional<std::string>>> values_;
  std::vector<int> field_calls_;
  std::function<void()> on_field_;
  std::map<size_t, std::string> get_errors_;
  absl::Status status_;
  absl::Time done_at_;
  absl::Notification done_;
};

}  // namespace granary::onlinestore

#endif  // GRANARY_LIBS_ONLINESTORE_TEST_READ_H_
