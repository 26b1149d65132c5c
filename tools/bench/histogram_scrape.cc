#include "tools/bench/histogram_scrape.h"

#include <cstdlib>
#include <limits>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"

#include "libs/metrics/metrics_text.h"

namespace granary::bench {

HistogramScrape HistogramScrape::Parse(absl::string_view text, absl::string_view name,
                                       const std::vector<std::string>& labels) {
  HistogramScrape out;
  // A scrape that does not parse has no observations to offer.
  absl::StatusOr<std::vector<metrics::MetricSample>> samples = metrics::ParseMetricsText(text);
  if (!samples.ok()) return out;
  // `key="value"` as printed, into the label it names.
  std::vector<std::pair<std::string, std::string>> wanted;
  for (const std::string& label : labels) {
    std::vector<std::string> kv = absl::StrSplit(label, absl::MaxSplits('=', 1));
    std::string value = kv.size() == 2 ? kv[1] : "";
    if (value.size() >= 2 && value.front() == '"' && value.back() == '"') {
      value = value.substr(1, value.size() - 2);
    }
    wanted.emplace_back(kv[0], value);
  }
  const std::string bucket = absl::StrCat(name, "_bucket");
  for (const metrics::MetricSample& sample : *samples) {
    if (sample.name != bucket) continue;
    auto le = sample.labels.find("le");
    bool match = le != sample.labels.end();
    for (const auto& [key, value] : wanted) {
      auto it = sample.labels.find(key);
      match = match && it != sample.labels.end() && it->second == value;
    }
    if (!match) continue;
    const double upper = le->second == "+Inf" ? std::numeric_limits<double>::infinity()
                                              : std::strtod(le->second.c_str(), nullptr);
    out.cumulative_[upper] += sample.value;
  }
  return out;
}

HistogramScrape HistogramScrape::Minus(const HistogramScrape& earlier) const {
  HistogramScrape out = *this;
  for (auto& [bound, count] : out.cumulative_) {
    auto it = earlier.cumulative_.find(bound);
    if (it != earlier.cumulative_.end()) count -= it->second;
  }
  return out;
}

double HistogramScrape::count() const {
  return cumulative_.empty() ? 0 : cumulative_.rbegin()->second;
}

double HistogramScrape::Quantile(double q) const {
  const double total = count();
  if (total <= 0) return 0;
  const double rank = q * total;
  double lower = 0, below = 0;
  for (const auto& [upper, cumulative] : cumulative_) {
    if (cumulative >= rank) {
      if (upper == std::numeric_limits<double>::infinity()) return lower;
      const double in_bucket = cumulative - below;
      return in_bucket <= 0 ? upper : lower + (upper - lower) * (rank - below) / in_bucket;
    }
    lower = upper;
    below = cumulative;
  }
  return lower;
}

}  // namespace granary::bench
