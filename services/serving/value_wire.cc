#include "services/serving/value_wire.h"

#include "google/protobuf/io/coded_stream.h"
#include "granary/types/v1/value.pb.h"

namespace granary::serving {
namespace {

using google::protobuf::io::CodedInputStream;

constexpr int kVarint = 0, kFixed64 = 1, kLengthDelimited = 2, kFixed32 = 5;
constexpr int kNullField = 19;

// The wire type of each of Value's fields (-1: no such field).
int ExpectedWireType(uint32_t field) {
  switch (field) {
    case 1:   // bytes_val
    case 2:   // string_val
    case 11:  // the lists
    case 12:
    case 13:
    case 14:
    case 15:
    case 16:
    case 17:
    case 18:
      return kLengthDelimited;
    case 3:  // int32_val
    case 4:  // int64_val
    case 7:  // bool_val
    case 8:  // unix_timestamp_val
    case kNullField:
      return kVarint;
    case 5:  // double_val
      return kFixed64;
    case 6:  // float_val
      return kFixed32;
    default:
      return -1;
  }
}

// Skips one field's payload; false when it runs past the end or uses a group.
bool SkipPayload(CodedInputStream& in, int wire_type) {
  uint64_t v64;
  uint32_t v32;
  switch (wire_type) {
    case kVarint:
      return in.ReadVarint64(&v64);
    case kFixed64:
      return in.ReadLittleEndian64(&v64);
    case kFixed32:
      return in.ReadLittleEndian32(&v32);
    case kLengthDelimited:
      return in.ReadVarint32(&v32) && in.Skip(static_cast<int>(v32));
    default:
      return false;
  }
}

}  // namespace

ValueState InspectValue(absl::string_view bytes) {
  if (bytes.empty()) return ValueState::kNull;
  CodedInputStream in(reinterpret_cast<const uint8_t*>(bytes.data()),
                      static_cast<int>(bytes.size()));
  uint32_t last_field = 0;
  bool nested = false;
  while (uint32_t tag = in.ReadTag()) {
    uint32_t field = tag >> 3;
    int wire_type = static_cast<int>(tag & 7);
    int expected = ExpectedWireType(field);
    if (expected >= 0 && wire_type != expected) return ValueState::kCorrupt;
    if (!SkipPayload(in, wire_type)) return ValueState::kCorrupt;
    if (expected >= 0) last_field = field;  // a oneof: the last one set wins
    nested = nested || (expected == kLengthDelimited);
  }
  // Not a tag of 0 or a malformed varint, but the end of the bytes.
  if (!in.ConsumedEntireMessage()) return ValueState::kCorrupt;
  if (nested) {
    // Strings must be UTF-8 and lists well formed: as strict as the client's parser.
    thread_local types::v1::Value scratch;
    if (!scratch.ParseFromArray(bytes.data(), static_cast<int>(bytes.size()))) {
      return ValueState::kCorrupt;
    }
  }
  return last_field == 0 || last_field == kNullField ? ValueState::kNull : ValueState::kPresent;
}

bool ParseTimestamp(absl::string_view bytes, int64_t* seconds, int32_t* nanos) {
  CodedInputStream in(reinterpret_cast<const uint8_t*>(bytes.data()),
                      static_cast<int>(bytes.size()));
  uint64_t s = 0, n = 0;
  while (uint32_t tag = in.ReadTag()) {
    uint32_t field = tag >> 3;
    int wire_type = static_cast<int>(tag & 7);
    if (field == 1 && wire_type == kVarint) {
      if (!in.ReadVarint64(&s)) return false;
    } else if (field == 2 && wire_type == kVarint) {
      if (!in.ReadVarint64(&n)) return false;
    } else if (!SkipPayload(in, wire_type)) {
      return false;
    }
  }
  if (!in.ConsumedEntireMessage()) return false;
  *seconds = static_cast<int64_t>(s);
  *nanos = static_cast<int32_t>(static_cast<int64_t>(n));
  // Timestamp's own range, 0001-01-01 to 9999-12-31: clients refuse anything outside it.
  constexpr int64_t kMinSeconds = -62'135'596'800, kMaxSeconds = 253'402'300'799;
  return *nanos >= 0 && *nanos < 1'000'000'000 && *seconds >= kMinSeconds &&
         *seconds <= kMaxSeconds;
}

bool ParseRowViewVersion(absl::string_view bytes, int64_t* view_version) {
  CodedInputStream in(reinterpret_cast<const uint8_t*>(bytes.data()),
                      static_cast<int>(bytes.size()));
  uint64_t version = 0;
  while (uint32_t tag = in.ReadTag()) {
    if ((tag >> 3) == 3 && (tag & 7) == kVarint) {
      if (!in.ReadVarint64(&version)) return false;
    } else if (!SkipPayload(in, static_cast<int>(tag & 7))) {
      return false;
    }
  }
  if (!in.ConsumedEntireMessage()) return false;
  *view_version = static_cast<int64_t>(version);
  return true;
}

}  // namespace granary::serving
