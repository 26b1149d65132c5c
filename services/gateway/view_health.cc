#include "services/gateway/view_health.h"

#include <algorithm>

#include "absl/strings/str_cat.h"

#include "libs/auth/http_fetch.h"
#include "services/gateway/metrics_text.h"

namespace granary::gateway {
namespace {

constexpr char kAge[] = "granary_materializer_newest_event_age_seconds";
constexpr char kPushed[] = "granary_materializer_pushed_rows_total";

}  // namespace

ViewHealth::ViewHealth(std::vector<std::string> urls, absl::Duration timeout, Fetch fetch,
                       Clock clock)
    : urls_(std::move(urls)), fetch_(std::move(fetch)), clock_(std::move(clock)) {
  if (!fetch_) {
    fetch_ = [timeout](const std::string& url) -> absl::StatusOr<std::string> {
      auth::HttpRequest request;
      request.url = url;
      request.timeout = timeout;
      // Metrics endpoints speak plain HTTP inside a cluster.
      request.allow_plain_http = true;
      auto response = auth::HttpFetch(request);
      if (!response.ok()) return response.status();
      if (response->status != 200) {
        return absl::UnavailableError(absl::StrCat("HTTP ", response->status));
      }
      return std::move(response->body);
    };
  }
  if (!clock_) clock_ = [] { return absl::Now(); };
}

HealthSample ViewHealth::Sample() {
  absl::MutexLock lock(&mu_);
  const absl::Time now = clock_();
  if (last_.has_value() && now - last_->sampled_at < kMinInterval) return *last_;
  HealthSample sample;
  sample.sampled_at = now;
  Totals pushed;
  for (const std::string& url : urls_) {
    absl::StatusOr<std::string> text = fetch_(url);
    absl::StatusOr<std::vector<MetricSample>> parsed =
        text.ok() ? ParseMetricsText(*text) : text.status();
    if (!parsed.ok()) {
      sample.errors.push_back(absl::StrCat("metrics of ", url, ": ", parsed.status().message()));
      continue;
    }
    for (const MetricSample& m : *parsed) {
      auto project = m.labels.find("project");
      auto view = m.labels.find("feature_view");
      if (project == m.labels.end() || view == m.labels.end()) continue;
      std::pair<std::string, std::string> key{project->second, view->second};
      if (m.name == kAge) {
        // The replica that wrote last knows the newest event.
        std::optional<double>& age = sample.views[key].newest_event_age_seconds;
        age = age.has_value() ? std::min(*age, m.value) : m.value;
      } else if (m.name == kPushed) {
        pushed[key] += m.value;
        sample.views[key];
      }
    }
  }
  // A rate needs an older sample of the same endpoints; one whose read failed is not one.
  if (sample.errors.empty()) {
    while (!history_.empty() && now - history_.front().first > kRateWindow) history_.pop_front();
    if (!history_.empty() && now - history_.front().first >= absl::Seconds(1)) {
      const auto& [then, before] = history_.front();
      const double seconds = absl::ToDoubleSeconds(now - then);
      sample.rates_known = true;
      for (const auto& [key, total] : pushed) {
        auto it = before.find(key);
        // A view first seen since then had written nothing then.
        const double delta = total - (it == before.end() ? 0 : it->second);
        // Negative: a replica restarted and its counter began again; no honest rate.
        if (delta >= 0) sample.views[key].pushed_rows_per_second = delta / seconds;
      }
    }
    history_.emplace_back(now, std::move(pushed));
  } else {
    history_.clear();
  }
  last_ = sample;
  return sample;
}

}  // namespace granary::gateway
