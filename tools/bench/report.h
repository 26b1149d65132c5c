// What every benchmark prints: rows of (figure, value, raw backend's value, ratio, target),
// as a table for people and a JSON file for tools, plus latency percentiles from all samples.
//
//   Report report("registry");
//   report.Add({.name = "apply 1000 views", .value = 812, .unit = "ms", .raw = 95,
//               .raw_name = "COPY of the same rows", .target = "< 2000 ms", .met = true});
//   report.Print(std::cout);
//   report.WriteJson("bench-results/registry.json");
#ifndef GRANARY_TOOLS_BENCH_REPORT_H_
#define GRANARY_TOOLS_BENCH_REPORT_H_

#include <ostream>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/time.h"

namespace granary::bench {

struct Row {
  std::string name;
  double value = 0;
  std::string unit;
  // The same figure for the raw backend, measured in the same run (0: none).
  double raw = 0;
  std::string raw_name;
  // The target, as text, and whether the value meets it.
  std::string target;
  bool met = true;
};

class Report {
 public:
  explicit Report(std::string name) : name_(std::move(name)) {}
  void Add(Row row) { rows_.push_back(std::move(row)); }
  void Note(std::string line) { notes_.push_back(std::move(line)); }
  void Print(std::ostream& out) const;
  absl::Status WriteJson(const std::string& path) const;
  // Print to `out`, then WriteJson(path), saying where the results went (or why they did not).
  void Publish(const std::string& path, std::ostream& out) const;
  bool AllMet() const;

 private:
  std::string name_;
  std::vector<Row> rows_;
  std::vector<std::string> notes_;
};

// The median of repeated runs' figures and their range, as published ("0.91 (0.85-1.10)").
struct Spread {
  double median = 0;
  double low = 0;
  double high = 0;
};
Spread SpreadOf(std::vector<double> values);
std::string Show(const Spread& spread, int decimals = 2);

// The p-th percentile (0..100) of the samples, by nearest rank.
absl::Duration Percentile(std::vector<absl::Duration> samples, double p);
double Ms(absl::Duration d);

}  // namespace granary::bench

#endif  // GRANARY_TOOLS_BENCH_REPORT_H_
