// Feast's GetOnlineFeaturesResponse written straight to bytes. A response of R rows and C
// columns (join keys, then features) is a grid of cells, each a status and references to a
// value's and a timestamp's bytes kept in one store; Finish lays the columns out in wire order
// in one buffer. Stored values go from Redis into the response without being parsed into
// messages and serialized again, which is most of what building a response costs.
//
//   builder.Start(rows, columns);
//   ResponseBuilder::Bytes value = builder.Store(bytes_from_redis);
//   builder.Set(row, column, v1::PRESENT, value, timestamp);
//   std::string wire = builder.Finish(plan.metadata, join_keys, response_columns, &counts);
#ifndef GRANARY_SERVICES_SERVING_RESPONSE_BUILDER_H_
#define GRANARY_SERVICES_SERVING_RESPONSE_BUILDER_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "granary/serving/v1/serving.pb.h"
#include "granary/types/v1/value.pb.h"

namespace granary::serving {

// How a finished read's feature values came out, for metrics.
struct ReadCounts {
  size_t rows = 0;
  int64_t present = 0;
  int64_t null_value = 0;
  int64_t not_found = 0;
  int64_t outside_max_age = 0;
  // On-demand features whose expression failed for their row (status INVALID).
  int64_t invalid = 0;
  int64_t corrupt = 0;
};

class ResponseBuilder {
 public:
  // A stretch of the builder's byte store.
  struct Bytes {
    uint32_t offset = 0;
    uint32_t size = 0;
  };

  // Every cell starts NOT_FOUND, with an empty value and the epoch as its timestamp.
  void Start(size_t rows, size_t columns);
  Bytes Store(absl::string_view bytes);
  Bytes StoreValue(const types::v1::Value& value);
  Bytes StoreTimestamp(int64_t seconds, int32_t nanos);
  void Set(size_t row, size_t column, v1::FieldStatus status, Bytes value, Bytes timestamp);

  // A cell as set so far.
  v1::FieldStatus status(size_t row, size_t column) const {
    return static_cast<v1::FieldStatus>(cells_[row * columns_ + column].status);
  }
  absl::string_view value(size_t row, size_t column) const {
    return View(cells_[row * columns_ + column].value);
  }
  Bytes timestamp(size_t row, size_t column) const {
    return cells_[row * columns_ + column].timestamp;
  }
  absl::string_view View(Bytes bytes) const {
    return absl::string_view(store_.data() + bytes.offset, bytes.size);
  }

  // The serialized response of the first `response_columns` columns (those after are the read's
  // own), with `metadata` (a serialized GetOnlineFeaturesResponseMetadata) and status true.
  // Tallies the statuses of the response's columns from `first_feature` on.
  std::string Finish(absl::string_view metadata, size_t first_feature, size_t response_columns,
                     ReadCounts* counts) const;

 private:
  struct Cell {
    Bytes value;
    Bytes timestamp;
    uint8_t status = v1::NOT_FOUND;
  };

  size_t rows_ = 0;
  size_t columns_ = 0;
  std::vector<Cell> cells_;  // row-major
  std::string store_;
};

}  // namespace granary::serving

#endif  // GRANARY_SERVICES_SERVING_RESPONSE_BUILDER_H_
