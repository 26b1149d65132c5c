#include "libs/trace/trace_context.h"

#include <algorithm>
#include <limits>

#include "absl/random/random.h"
#include "absl/strings/escaping.h"

namespace granary::trace {
namespace {

// "00-" + 32 + "-" + 16 + "-" + 2.
constexpr size_t kVersion00Length = 55;

bool IsLowerHex(absl::string_view s) {
  return std::all_of(s.begin(), s.end(),
                     [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); });
}

template <size_t N>
bool ReadHex(absl::string_view hex, std::array<uint8_t, N>* out) {
  if (hex.size() != 2 * N || !IsLowerHex(hex)) return false;
  std::string bytes = absl::HexStringToBytes(hex);
  std::copy(bytes.begin(), bytes.end(), out->begin());
  return std::any_of(out->begin(), out->end(), [](uint8_t b) { return b != 0; });
}

template <size_t N>
std::string Hex(const std::array<uint8_t, N>& bytes) {
  return absl::BytesToHexString(
      absl::string_view(reinterpret_cast<const char*>(bytes.data()), bytes.size()));
}

template <size_t N>
std::array<uint8_t, N> RandomNonZero() {
  // One generator per thread, seeded from the OS: no lock on the request path.
  thread_local absl::BitGen gen;
  std::array<uint8_t, N> out{};
  do {
    for (uint8_t& b : out) b = absl::Uniform<uint8_t>(gen);
  } while (std::all_of(out.begin(), out.end(), [](uint8_t b) { return b == 0; }));
  return out;
}

}  // namespace

std::string TraceContext::TraceIdHex() const { return Hex(trace_id); }
std::string TraceContext::SpanIdHex() const { return Hex(span_id); }

std::string TraceContext::Traceparent() const {
  std::string out = "00-";
  out.reserve(kVersion00Length);
  out += Hex(trace_id);
  out += '-';
  out += Hex(span_id);
  out += sampled ? "-01" : "-00";
  return out;
}

std::optional<TraceContext> ParseTraceparent(absl::string_view value) {
  if (value.size() < kVersion00Length) return std::nullopt;
  absl::string_view version = value.substr(0, 2);
  if (!IsLowerHex(version) || version == "ff") return std::nullopt;
  // Version 00 has exactly these fields; a later version may append more after a '-'.
  if (version == "00" ? value.size() != kVersion00Length
                      : (value.size() > kVersion00Length && value[kVersion00Length] != '-')) {
    return std::nullopt;
  }
  if (value[2] != '-' || value[35] != '-' || value[52] != '-') return std::nullopt;
  TraceContext context;
  if (!ReadHex(value.substr(3, 32), &context.trace_id)) return std::nullopt;
  if (!ReadHex(value.substr(36, 16), &context.span_id)) return std::nullopt;
  absl::string_view flags = value.substr(53, 2);
  if (!IsLowerHex(flags)) return std::nullopt;
  uint8_t flag_byte = static_cast<uint8_t>(absl::HexStringToBytes(flags)[0]);
  context.sampled = (flag_byte & 0x01) != 0;
  return context;
}

std::string TraceIdOf(absl::string_view traceparent) {
  std::optional<TraceContext> context = ParseTraceparent(traceparent);
  return context ? context->TraceIdHex() : std::string();
}

SpanId NewSpanId() { return RandomNonZero<8>(); }
TraceId NewTraceId() { return RandomNonZero<16>(); }

bool SampledAtRatio(const TraceId& trace_id, double ratio) {
  if (ratio >= 1.0) return true;
  if (ratio <= 0.0) return false;
  uint64_t low = 0;
  for (size_t i = 8; i < 16; ++i) low = (low << 8) | trace_id[i];
  const double bound = ratio * static_cast<double>(std::numeric_limits<uint64_t>::max());
  return static_cast<double>(low) < bound;
}

TraceContext ChildOf(const std::optional<TraceContext>& parent, double sample_ratio) {
  TraceContext child;
  if (parent) {
    child.trace_id = parent->trace_id;
    child.sampled = parent->sampled;
  } else {
    child.trace_id = NewTraceId();
    child.sampled = SampledAtRatio(child.trace_id, sample_ratio);
  }
  child.span_id = NewSpanId();
  return child;
}

}  // namespace granary::trace
