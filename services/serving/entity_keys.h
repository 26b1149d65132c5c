// The entity rows of a request, checked against a read plan and turned into the Redis keys to
// read: one per row and key group, all in one buffer. Join-key values are taken in the type the
// entity declares (the type is part of the key); an int32 for an INT64 entity and an int64 that
// fits for an INT32 one are converted, since either way the value is the same number.
//
//   EntityKeys keys;
//   RETURN_IF_ERROR(keys.Build(plan, request.entities(), max_rows));
//   store.ReadAsync(...keys.gets()...);
#ifndef GRANARY_SERVICES_SERVING_ENTITY_KEYS_H_
#define GRANARY_SERVICES_SERVING_ENTITY_KEYS_H_

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "google/protobuf/map.h"
#include "granary/types/v1/value.pb.h"

#include "libs/onlinestore/online_store.h"
#include "services/serving/read_plan.h"

namespace granary::serving {

using EntityColumns = google::protobuf::Map<std::string, types::v1::RepeatedValue>;

class EntityKeys {
 public:
  EntityKeys() = default;
  // The gets point into this object.
  EntityKeys(const EntityKeys&) = delete;
  EntityKeys& operator=(const EntityKeys&) = delete;

  // INVALID_ARGUMENT naming the column (and row) for a join key the plan needs and the request
  // lacks, a column no requested view is keyed by, columns of unequal lengths, a value of the
  // wrong type, no rows, or more than `max_rows` rows.
  absl::Status Build(const ReadPlan& plan, const EntityColumns& entities, size_t max_rows);

  size_t rows() const { return rows_; }
  // Row-major: gets()[row * plan.groups.size() + group].
  const std::vector<onlinestore::HashGet>& gets() const { return gets_; }
  // The request's column of each of the plan's join keys, in plan order.
  const std::vector<const types::v1::RepeatedValue*>& columns() const { return columns_; }

 private:
  size_t rows_ = 0;
  std::vector<const types::v1::RepeatedValue*> columns_;
  std::string buffer_;
  std::vector<onlinestore::HashGet> gets_;
};

}  // namespace granary::serving

#endif  // GRANARY_SERVICES_SERVING_ENTITY_KEYS_H_
