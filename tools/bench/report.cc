#include "tools/bench/report.h"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "nlohmann/json.hpp"

namespace granary::bench {

void Report::Print(std::ostream& out) const {
  out << "\n== " << name_ << " ==\n";
  out << absl::StrFormat("%-52s %14s %14s %8s  %-16s %s\n", "figure", "granary", "raw backend",
                         "ratio", "target", "");
  for (const Row& r : rows_) {
    std::string raw = r.raw > 0 ? absl::StrFormat("%.2f %s", r.raw, r.unit) : "-";
    std::string ratio = r.raw > 0 ? absl::StrFormat("%.2f", r.value / r.raw) : "-";
    out << absl::StrFormat("%-52s %14s %14s %8s  %-16s %s\n", r.name,
                           absl::StrFormat("%.2f %s", r.value, r.unit), raw, ratio, r.target,
                           r.target.empty() ? "" : (r.met ? "met" : "NOT MET"));
  }
  for (const Row& r : rows_) {
    if (r.raw > 0) out << "  raw backend for \"" << r.name << "\": " << r.raw_name << "\n";
  }
  for (const std::string& n : notes_) out << "  " << n << "\n";
}

absl::Status Report::WriteJson(const std::string& path) const {
  nlohmann::json j;
  j["benchmark"] = name_;
  j["rows"] = nlohmann::json::array();
  for (const Row& r : rows_) {
    j["rows"].push_back({{"name", r.name},
                         {"value", r.value},
                         {"unit", r.unit},
                         {"raw", r.raw},
                         {"raw_name", r.raw_name},
                         {"ratio", r.raw > 0 ? r.value / r.raw : 0.0},
                         {"target", r.target},
                         {"met", r.met}});
  }
  j["notes"] = notes_;
  std::error_code ec;
  std::filesystem::create_directories(std::filesystem::path(path).parent_path(), ec);
  std::ofstream out(path);
  if (!out) return absl::UnavailableError(absl::StrCat("cannot write ", path));
  out << j.dump(2) << "\n";
  return absl::OkStatus();
}

bool Report::AllMet() const {
  return std::all_of(rows_.begin(), rows_.end(), [](const Row& r) { return r.met; });
}

absl::Duration Percentile(std::vector<absl::Duration> samples, double p) {
  if (samples.empty()) return absl::ZeroDuration();
  std::sort(samples.begin(), samples.end());
  size_t rank = static_cast<size_t>(std::ceil(p / 100.0 * samples.size()));
  return samples[std::min(samples.size() - 1, rank == 0 ? 0 : rank - 1)];
}

double Ms(absl::Duration d) { return absl::ToDoubleMilliseconds(d); }

Spread SpreadOf(std::vector<double> values) {
  if (values.empty()) return {};
  std::sort(values.begin(), values.end());
  // The lower middle of an even count: a figure one of the runs printed.
  return {values[(values.size() - 1) / 2], values.front(), values.back()};
}

std::string Show(const Spread& spread, int decimals) {
  std::string out = absl::StrFormat("%.*f", decimals, spread.median);
  if (spread.low != spread.high) {
    absl::StrAppend(&out, " (", absl::StrFormat("%.*f", decimals, spread.low), "-",
                    absl::StrFormat("%.*f", decimals, spread.high), ")");
  }
  return out;
}

void Report::Publish(const std::string& path, std::ostream& out) const {
  Print(out);
  absl::Status written = WriteJson(path);
  out << (written.ok() ? "results: " + path : std::string(written.message())) << "\n";
}

}  // namespace granary::bench
