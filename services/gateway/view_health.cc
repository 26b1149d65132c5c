#include "services/gateway/view_health.h"

#include <netdb.h>

#include <algorithm>
#include <set>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include <arpa/inet.h>
#include <sys/socket.h>

#include "libs/auth/http_fetch.h"
#include "libs/base/log.h"
#include "libs/metrics/metrics_text.h"

namespace granary::gateway {
namespace {

constexpr char kAge[] = "granary_materializer_newest_event_age_seconds";
constexpr char kPushed[] = "granary_materializer_pushed_rows_total";
constexpr char kDnsScheme[] = "dns+http://";

absl::StatusOr<std::vector<std::string>> GetAddrInfo(const std::string& host) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* found = nullptr;
  int rc = getaddrinfo(host.c_str(), nullptr, &hints, &found);
  if (rc != 0) return absl::UnavailableError(absl::StrCat("cannot resolve: ", gai_strerror(rc)));
  // One address per pod: IPv4 where there is one (a dual-stack name has both, and reading a
  // pod twice would count its rate twice), else IPv6.
  std::set<std::string> v4, v6;
  for (addrinfo* a = found; a != nullptr; a = a->ai_next) {
    char text[INET6_ADDRSTRLEN] = {};
    if (a->ai_family == AF_INET) {
      inet_ntop(AF_INET, &reinterpret_cast<sockaddr_in*>(a->ai_addr)->sin_addr, text, sizeof(text));
      v4.insert(text);
    } else if (a->ai_family == AF_INET6) {
      inet_ntop(AF_INET6, &reinterpret_cast<sockaddr_in6*>(a->ai_addr)->sin6_addr, text,
                sizeof(text));
      v6.insert(absl::StrCat("[", text, "]"));
    }
  }
  freeaddrinfo(found);
  const std::set<std::string>& addresses = v4.empty() ? v6 : v4;
  return std::vector<std::string>(addresses.begin(), addresses.end());
}

}  // namespace

ViewHealth::ViewHealth(std::vector<std::string> urls, absl::Duration timeout, Fetch fetch,
                       Clock clock, Resolve resolve)
    : urls_(std::move(urls)),
      fetch_(std::move(fetch)),
      clock_(std::move(clock)),
      resolve_(std::move(resolve)) {
  if (!fetch_) {
    fetch_ = [timeout](const std::string& url) -> absl::StatusOr<std::string> {
      auth::HttpRequest request;
      request.url = url;
      request.timeout = timeout;
      // Metrics endpoints speak plain HTTP inside a cluster; nothing secret is sent.
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
  if (!resolve_) resolve_ = GetAddrInfo;
}

std::vector<ViewHealth::Read> ViewHealth::ReadAll() {
  std::vector<Read> reads;
  for (const std::string& url : urls_) {
    if (!absl::StartsWith(url, kDnsScheme)) {
      reads.push_back({url, fetch_(url)});
      continue;
    }
    // dns+http://host:port/path: every address of host, now. The host may be [IPv6].
    const std::string rest = url.substr(sizeof(kDnsScheme) - 1);
    const size_t slash = rest.find_first_of("/?");
    const std::string authority = rest.substr(0, slash);
    const std::string path = slash == std::string::npos ? "/metrics" : rest.substr(slash);
    const size_t bracket = authority.rfind(']');
    const size_t colon = authority.rfind(':');
    const bool has_port =
        colon != std::string::npos && (bracket == std::string::npos || colon > bracket);
    std::string host = has_port ? authority.substr(0, colon) : authority;
    const std::string port = has_port ? authority.substr(colon) : "";
    if (host.size() > 2 && host.front() == '[' && host.back() == ']') {
      host = host.substr(1, host.size() - 2);
    }
    absl::StatusOr<std::vector<std::string>> addresses = resolve_(host);
    if (!addresses.ok() || addresses->empty()) {
      reads.push_back(
          {url, addresses.ok() ? absl::UnavailableError("no address") : addresses.status()});
      continue;
    }
    for (const std::string& address : *addresses) {
      const std::string one = absl::StrCat("http://", address, port, path);
      reads.push_back({one, fetch_(one)});
    }
  }
  // An endpoint reached by two entries is read and counted once.
  std::set<std::string> seen;
  reads.erase(std::remove_if(reads.begin(), reads.end(),
                             [&seen](const Read& r) { return !seen.insert(r.endpoint).second; }),
              reads.end());
  return reads;
}

HealthSample ViewHealth::Sample() {
  {
    absl::MutexLock lock(&mu_);
    const bool fresh = last_.has_value() && clock_() - last_->sampled_at < kMinInterval;
    if (fresh || (reading_ && last_.has_value())) return *last_;
    if (reading_) {
      // The first figures: wait for the read in progress.
      mu_.Await(absl::Condition(
          +[](ViewHealth* self) ABSL_NO_THREAD_SAFETY_ANALYSIS { return !self->reading_; }, this));
      if (last_.has_value()) return *last_;
    }
    reading_ = true;
  }
  // Nothing in the read throws (errors are statuses), so reading_ is always cleared below.
  std::vector<Read> reads = ReadAll();
  absl::MutexLock lock(&mu_);
  // Stamped when the read ended: a slow read is not older than it looks.
  last_ = Combine(reads, clock_());
  reading_ = false;
  return *last_;
}

HealthSample ViewHealth::Combine(const std::vector<Read>& reads, absl::Time now) {
  HealthSample sample;
  sample.sampled_at = now;
  bool every_rate = true;
  std::map<std::string, std::deque<std::pair<absl::Time, Totals>>> kept;
  for (const Read& read : reads) {
    absl::StatusOr<std::vector<metrics::MetricSample>> parsed =
        read.text.ok() ? metrics::ParseMetricsText(*read.text) : read.text.status();
    if (!parsed.ok()) {
      sample.errors.push_back(
          absl::StrCat("metrics of ", read.endpoint, ": ", parsed.status().message()));
      base::LogWarning("cannot read a materializer's metrics for the UI's health page")
          .With("endpoint", read.endpoint)
          .With("error", parsed.status().message());
      every_rate = false;
      continue;
    }
    Totals pushed;
    for (const metrics::MetricSample& m : *parsed) {
      auto project = m.labels.find("project");
      auto view = m.labels.find("feature_view");
      if (project == m.labels.end() || view == m.labels.end()) continue;
      std::pair<std::string, std::string> key{project->second, view->second};
      if (m.name == kAge) {
        // The replica that wrote last knows the newest event.
        std::optional<double>& age = sample.views[key].newest_event_age_seconds;
        age = age.has_value() ? std::min(*age, m.value) : m.value;
      } else if (m.name == kPushed) {
        pushed[key] = m.value;
        sample.views[key];
      }
    }
    // This endpoint's own history: a replica is compared only with itself.
    auto& history = kept[read.endpoint];
    history = std::move(history_[read.endpoint]);
    while (!history.empty() && now - history.front().first > kRateWindow) history.pop_front();
    bool rated = false;
    if (!history.empty() && now - history.front().first >= absl::Seconds(1)) {
      const auto& [then, before] = history.front();
      const double seconds = absl::ToDoubleSeconds(now - then);
      std::map<std::pair<std::string, std::string>, double> rates;
      rated = true;
      for (const auto& [key, total] : pushed) {
        auto it = before.find(key);
        // A view first counted since then had pushed nothing then.
        const double delta = total - (it == before.end() ? 0 : it->second);
        if (delta < 0) rated = false;  // the process restarted: its counters began again
        rates[key] = delta / seconds;
      }
      if (rated) {
        for (const auto& [key, rate] : rates) {
          std::optional<double>& sum = sample.views[key].pushed_rows_per_second;
          sum = sum.value_or(0) + rate;
        }
      } else {
        history.clear();
      }
    }
    every_rate = every_rate && rated;
    history.emplace_back(now, std::move(pushed));
  }
  // Endpoints not read this time (a pod gone) are forgotten.
  history_ = std::move(kept);
  sample.rates_known = every_rate && !reads.empty();
  if (!sample.rates_known) {
    // Half the replicas' rates would look like a drop: all or none.
    for (auto& [key, figures] : sample.views) figures.pushed_rows_per_second.reset();
  }
  return sample;
}

}  // namespace granary::gateway
