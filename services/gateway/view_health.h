// What the UI's health page shows per feature view that only the materializers know: the age
// of the newest event each has written online, and how many pushed rows per second they apply.
// Read from their Prometheus endpoints (gateway.ui.metrics), several replicas combined: the
// youngest age, the sum of rates.
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
  using Clock = std::function<absl::Time()>;

  // `fetch` defaults to an HTTP GET with `timeout`.
  ViewHealth(std::vector<std::string> urls, absl::Duration timeout, Fetch fetch = nullptr,
             Clock clock = nullptr);

  // Scrapes every endpoint, at most once per `kMinInterval` (callers in between get the last
  // sample): many open pages cost the materializers one scrape.
  HealthSample Sample();

  static constexpr absl::Duration kMinInterval = absl::Seconds(2);
  static constexpr absl::Duration kRateWindow = absl::Seconds(60);

 private:
  using Totals = std::map<std::pair<std::string, std::string>, double>;

  const std::vector<std::string> urls_;
  Fetch fetch_;
  Clock clock_;
  absl::Mutex mu_;
  std::optional<HealthSample> last_ ABSL_GUARDED_BY(mu_);
  // Pushed-row totals per sample, oldest first, over kRateWindow.
  std::deque<std::pair<absl::Time, Totals>> history_ ABSL_GUARDED_BY(mu_);
};

}  // namespace granary::gateway

#endif  // GRANARY_SERVICES_GATEWAY_VIEW_HEALTH_H_
