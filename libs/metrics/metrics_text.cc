#include "libs/metrics/metrics_text.h"

#include <cmath>
#include <cstdlib>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"

namespace granary::metrics {
namespace {

bool NameChar(char c) { return absl::ascii_isalnum(c) || c == '_' || c == ':'; }

// `{a="x",b="y\"z"}` from `text` (at its '{'), advancing it past the '}'.
bool ParseLabels(absl::string_view& text, std::map<std::string, std::string>* labels) {
  text.remove_prefix(1);
  while (true) {
    while (!text.empty() && (text.front() == ' ' || text.front() == ',')) text.remove_prefix(1);
    if (text.empty()) return false;
    if (text.front() == '}') {
      text.remove_prefix(1);
      return true;
    }
    size_t n = 0;
    while (n < text.size() && NameChar(text[n])) ++n;
    if (n == 0 || n + 1 >= text.size() || text[n] != '=' || text[n + 1] != '"') return false;
    std::string key(text.substr(0, n));
    text.remove_prefix(n + 2);
    std::string value;
    while (true) {
      if (text.empty()) return false;
      char c = text.front();
      text.remove_prefix(1);
      if (c == '"') break;
      if (c == '\\' && !text.empty()) {
        char e = text.front();
        text.remove_prefix(1);
        value.push_back(e == 'n' ? '\n' : e);
      } else {
        value.push_back(c);
      }
    }
    (*labels)[key] = std::move(value);
  }
}

bool ParseValue(absl::string_view text, double* value) {
  std::string word(text.substr(0, text.find(' ')));
  if (word == "+Inf") {
    *value = INFINITY;
  } else if (word == "-Inf") {
    *value = -INFINITY;
  } else if (word == "NaN") {
    *value = NAN;
  } else {
    char* end = nullptr;
    *value = std::strtod(word.c_str(), &end);
    if (word.empty() || end != word.c_str() + word.size()) return false;
  }
  return true;
}

}  // namespace

absl::StatusOr<std::vector<MetricSample>> ParseMetricsText(absl::string_view text) {
  std::vector<MetricSample> samples;
  int number = 0;
  for (absl::string_view line : absl::StrSplit(text, '\n')) {
    ++number;
    line = absl::StripAsciiWhitespace(line);
    if (line.empty() || line.front() == '#') continue;
    MetricSample sample;
    size_t n = 0;
    while (n < line.size() && NameChar(line[n])) ++n;
    sample.name = std::string(line.substr(0, n));
    line.remove_prefix(n);
    bool ok = !sample.name.empty();
    if (ok && !line.empty() && line.front() == '{') ok = ParseLabels(line, &sample.labels);
    line = absl::StripLeadingAsciiWhitespace(line);
    if (!ok || !ParseValue(line, &sample.value)) {
      return absl::InvalidArgumentError(absl::StrCat("metrics line ", number, ": not a sample"));
    }
    samples.push_back(std::move(sample));
  }
  return samples;
}

}  // namespace granary::metrics
