#include "services/serving/response_builder.h"

#include <algorithm>
#include <cstring>

#include "google/protobuf/io/coded_stream.h"

namespace granary::serving {
namespace {

using google::protobuf::io::CodedOutputStream;

// Field tags of GetOnlineFeaturesResponse and its FeatureVector (length-delimited unless said).
constexpr uint8_t kMetadataTag = (1 << 3) | 2;
constexpr uint8_t kResultsTag = (2 << 3) | 2;
constexpr uint8_t kStatusTag = (3 << 3) | 0;  // varint
constexpr uint8_t kValuesTag = (1 << 3) | 2;
constexpr uint8_t kStatusesTag = (2 << 3) | 2;  // packed
constexpr uint8_t kTimestampsTag = (3 << 3) | 2;

size_t FieldSize(size_t payload) {
  return 1 + CodedOutputStream::VarintSize32(static_cast<uint32_t>(payload)) + payload;
}

uint8_t* WriteField(uint8_t tag, const char* data, size_t size, uint8_t* out) {
  *out++ = tag;
  out = CodedOutputStream::WriteVarint32ToArray(static_cast<uint32_t>(size), out);
  if (size > 0) memcpy(out, data, size);
  return out + size;
}

}  // namespace

void ResponseBuilder::Start(size_t rows, size_t columns) {
  rows_ = rows;
  columns_ = columns;
  cells_.assign(rows * columns, Cell());
  store_.clear();
  // About a typical value and timestamp per cell: grown once, not cell by cell.
  store_.reserve(rows * columns * 16);
}

ResponseBuilder::Bytes ResponseBuilder::Store(absl::string_view bytes) {
  Bytes b{static_cast<uint32_t>(store_.size()), static_cast<uint32_t>(bytes.size())};
  store_.append(bytes.data(), bytes.size());
  return b;
}

ResponseBuilder::Bytes ResponseBuilder::StoreValue(const types::v1::Value& value) {
  Bytes b{static_cast<uint32_t>(store_.size()), static_cast<uint32_t>(value.ByteSizeLong())};
  store_.resize(store_.size() + b.size);
  value.SerializeWithCachedSizesToArray(reinterpret_cast<uint8_t*>(&store_[b.offset]));
  return b;
}

ResponseBuilder::Bytes ResponseBuilder::StoreTimestamp(int64_t seconds, int32_t nanos) {
  // google.protobuf.Timestamp: seconds (1) and nanos (2), varints, omitted when zero.
  uint8_t buffer[2 + 10 + 10];
  uint8_t* p = buffer;
  if (seconds != 0) {
    *p++ = (1 << 3) | 0;
    p = CodedOutputStream::WriteVarint64ToArray(static_cast<uint64_t>(seconds), p);
  }
  if (nanos != 0) {
    *p++ = (2 << 3) | 0;
    p = CodedOutputStream::WriteVarint64ToArray(static_cast<uint64_t>(int64_t{nanos}), p);
  }
  return Store(
      absl::string_view(reinterpret_cast<const char*>(buffer), static_cast<size_t>(p - buffer)));
}

void ResponseBuilder::Set(size_t row, size_t column, v1::FieldStatus status, Bytes value,
                          Bytes timestamp) {
  Cell& cell = cells_[row * columns_ + column];
  cell.status = static_cast<uint8_t>(status);
  cell.value = value;
  cell.timestamp = timestamp;
}

std::string ResponseBuilder::Finish(absl::string_view metadata, size_t first_feature,
                                    size_t response_columns, ReadCounts* counts) const {
  const size_t columns = std::min(response_columns, columns_);
  // Sizes first, so the response is written once into a buffer of the right size.
  std::vector<size_t> column_sizes(columns, 0);
  size_t total = FieldSize(metadata.size()) + 2;  // + the status field
  for (size_t c = 0; c < columns; ++c) {
    size_t size = rows_ == 0 ? 0 : FieldSize(rows_);  // packed statuses, one byte each
    for (size_t r = 0; r < rows_; ++r) {
      const Cell& cell = cells_[r * columns_ + c];
      size += FieldSize(cell.value.size) + FieldSize(cell.timestamp.size);
      if (c < first_feature || counts == nullptr) continue;
      switch (cell.status) {
        case v1::PRESENT:
          ++counts->present;
          break;
        case v1::NULL_VALUE:
          ++counts->null_value;
          break;
        case v1::OUTSIDE_MAX_AGE:
          ++counts->outside_max_age;
          break;
        case v1::INVALID:
          ++counts->invalid;
          break;
        default:
          ++counts->not_found;
      }
    }
    column_sizes[c] = size;
    total += FieldSize(size);
  }

  std::string out(total, '\0');
  uint8_t* p = reinterpret_cast<uint8_t*>(&out[0]);
  p = WriteField(kMetadataTag, metadata.data(), metadata.size(), p);
  for (size_t c = 0; c < columns; ++c) {
    *p++ = kResultsTag;
    p = CodedOutputStream::WriteVarint32ToArray(static_cast<uint32_t>(column_sizes[c]), p);
    for (size_t r = 0; r < rows_; ++r) {
      const Bytes& v = cells_[r * columns_ + c].value;
      p = WriteField(kValuesTag, store_.data() + v.offset, v.size, p);
    }
    if (rows_ > 0) {
      *p++ = kStatusesTag;
      p = CodedOutputStream::WriteVarint32ToArray(static_cast<uint32_t>(rows_), p);
      for (size_t r = 0; r < rows_; ++r) *p++ = cells_[r * columns_ + c].status;
    }
    for (size_t r = 0; r < rows_; ++r) {
      const Bytes& t = cells_[r * columns_ + c].timestamp;
      p = WriteField(kTimestampsTag, store_.data() + t.offset, t.size, p);
    }
  }
  *p++ = kStatusTag;
  *p++ = 1;
  return out;
}

}  // namespace granary::serving
