// What the UI's health page shows per feature view that only the materializers know: the age
// of the newest event each has written online, and how many pushed rows per second they apply.
// Read from their Prometheus endpoints (gateway.ui.metrics), several replicas combined: the
// youngest age, the sum of each replica's own rate.
#ifndef GRANARY_SERVICES_GATEWAY_VIEW_HEALTH_H_
#define GRANARY_SERVICES_GATEWAY_VIEW_HEALTH_H_

#include <deque>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"

namespace granary::gateway {

struct ViewFigures {
  std::optional<double> newest_event_age_seconds;
  // Over the last minute of samples; absent until two samples are at least a second apart.
  std::optional<double> pushed_rows_per_second;
};

struct HealthSample {
  absl::Time sampled_at;
  // By (project, feature view).
  std::map<std::pair<std::string, std::string>, ViewFigures> views;
  // One per endpoint that could not be read ("metrics of http://...: ...").
  std::vector<std::string> errors;
  // Rates were computed: a view without one pushed nothing in the window.
  bool rates_known = false;
};

class ViewHealth {
 public:
  using Fetch = std::function<absl::StatusOr<std::string>(const std::string& url)>;
  // The addresses ("10.0.0.7", "[fd00::7]") a host name stands for now.
  using Resolve = std::function<absl::StatusOr<std::vector<std::string>>(const std::string& host)>;
  using Clock = std::function<absl::Time()>;

  // Each URL is read as is, or, written dns+http://host:port/path, at every address the name
  // resolves to on each read (a headless Service's pods). `fetch` defaults to an HTTP GET with
  // `timeout`, `resolve` to getaddrinfo.
  ViewHealth(std::vector<std::string> urls, absl::Duration timeout, Fetch fetch = nullptr,
             Clock clock = nullptr, Resolve resolve = nullptr);

  // The figures, read again when the last read finished more than kMinInterval ago. One read
  // runs at a time, outside the lock: callers meanwhile get the last figures (the first ones
  // wait for them), so many open pages cost the materializers one read and a slow endpoint
  // holds one caller, not all.
  HealthSample Sample();

  static constexpr absl::Duration kMinInterval = absl::Seconds(2);
  static constexpr absl::Duration kRateWindow = absl::Seconds(60);

 private:
  using Totals = std::map<std::pair<std::string, std::string>, double>;
  struct Read {
    std::string endpoint;  // the URL read
    absl::StatusOr<std::string> text;
  };

  std::vector<Read> ReadAll();
  HealthSample Combine(const std::vector<Read>& reads, absl::Time now)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  const std::vector<std::string> urls_;
  Fetch fetch_;
  Clock clock_;
  Resolve resolve_;
  absl::Mutex mu_;
  bool reading_ ABSL_GUARDED_BY(mu_) = false;
  std::optional<HealthSample> last_ ABSL_GUARDED_BY(mu_);
  // Pushed-row totals per endpoint, oldest first, over kRateWindow: a rate compares a process's
  // counters with its own, never another replica's.
  std::map<std::string, std::deque<std::pair<absl::Time, Totals>>> history_ ABSL_GUARDED_BY(mu_);
};

}  // namespace granary::gateway

#endif  // GRANARY_SERVICES_GATEWAY_VIEW_HEALTH_H_
