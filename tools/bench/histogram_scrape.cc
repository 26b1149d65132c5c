#include "tools/bench/histogram_scrape.h"

#include <cstdlib>
#include <limits>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"

namespace granary::bench {

HistogramScrape HistogramScrape::Parse(absl::string_view text, absl::string_view name,
                                       const std::vector<std::string>& labels) {
  HistogramScrape out;
  const std::string prefix = absl::StrCat(name, "_bucket{");
  for (absl::string_view line : absl::StrSplit(text, '\n')) {
    if (!absl::StartsWith(line, prefix)) continue;
    size_t close = line.rfind('}');
    if (close == absl::string_view::npos) continue;
    absl::string_view label_text = line.substr(prefix.size(), close - prefix.size());
    bool wanted = true;
    for (const std::string& label : labels) wanted = wanted && absl::StrContains(label_text, label);
    size_t le = label_text.find("le=\"");
    if (!wanted || le == absl::string_view::npos) continue;
    std::string bound(label_text.substr(le + 4, label_text.find('"', le + 4) - (le + 4)));
    double upper = bound == "+Inf" ? std::numeric_limits<double>::infinity()
                                   : std::strtod(bound.c_str(), nullptr);
    std::string value(line.substr(close + 1));
    out.cumulative_[upper] += std::strtod(value.c_str(), nullptr);
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
