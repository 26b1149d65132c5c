// What a GetOnlineFeatures request of one shape reads, worked out once per catalog: the join
// keys the request must supply (with their types), the feature views grouped by the entity key
// they are stored under (one hash read per entity row and group), each group's hash fields
// (timestamp fields first, so a row's age is known before its features are decoded), and the
// response column each field fills. Serving caches plans (PlanCache), so the catalog is never
// walked per request.
//
//   ASSIGN_OR_RETURN(FeatureSelection selection, FeatureSelection::FromRequest(request));
//   ASSIGN_OR_RETURN(std::shared_ptr<const ReadPlan> plan, BuildReadPlan(catalog, selection));
#ifndef GRANARY_SERVICES_SERVING_READ_PLAN_H_
#define GRANARY_SERVICES_SERVING_READ_PLAN_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "granary/serving/v1/serving.pb.h"
#include "granary/types/v1/value.pb.h"

#include "libs/onlinestore/online_store.h"
#include "libs/registry_client/catalog.h"

namespace granary::serving {

// "view:feature", parsed.
struct FeatureRef {
  std::string view;
  std::string feature;
};

// What a request asks for: a feature service, or feature references.
struct FeatureSelection {
  std::string feature_service;
  std::vector<FeatureRef> refs;
  bool full_feature_names = false;

  // INVALID_ARGUMENT naming the entry for a malformed reference, or when nothing is asked.
  static absl::StatusOr<FeatureSelection> FromRequest(const v1::GetOnlineFeaturesRequest& request);
};

struct JoinKey {
  std::string name;
  types::v1::ValueType::Enum type = types::v1::ValueType::INVALID;
  std::string entity;  // the entity that declares it, for messages
};

struct PlannedView {
  std::string name;
  absl::Duration ttl;  // zero: values never age out
  // The view's incarnation (meta.created_version): a row stamped with another one was written
  // for a view of the same name since deleted, and is not served.
  int64_t view_version = 0;
};

// The views stored under one entity key shape: read with one hash read per entity row.
struct KeyGroup {
  // Indices into ReadPlan::join_keys in ascending name order (the key's order); empty for
  // views without entities, which share the dummy key.
  std::vector<int> join_keys;
  // The start of every key of this group (libs/keys JoinKeysPrefix).
  std::string key_prefix;
  std::vector<PlannedView> views;
  // The fields read: views[i]'s timestamp field at index i, its "_created:" field at
  // views.size() + i, then one per distinct feature.
  std::vector<std::string> fields;
  // The same in the Redis protocol, ready to copy into every read's command.
  std::string encoded_fields;
  // For fields[2 * views.size() + k]: which view it belongs to and the response columns (indices
  // into ReadPlan::feature_names) it fills (more than one when a service selects a feature
  // twice under different aliases).
  struct Feature {
    int view;
    std::vector<int> columns;
  };
  std::vector<Feature> features;
  // When the request asks for at least ReadPlanOptions::whole_hash_share of the fields the
  // catalog stores under this key shape: each hash is read whole, its fields picked out by
  // their positions (onlinestore::HashGet::whole_hash).
  bool read_whole = false;
  onlinestore::FieldPositions positions;
};

// A column of request_context that on-demand views read.
struct RequestColumn {
  std::string name;
  types::v1::ValueType::Enum type = types::v1::ValueType::INVALID;
  std::string view;  // the first on-demand view that reads it, for messages
};

// An on-demand view the request reads: computed from its inputs once the Redis read is done.
struct PlannedOnDemand {
  std::string view;
  // Where each input of its program (transforms::ViewProgram::inputs() order) is found: a
  // feature column of the grid (an index after the join keys, possibly a hidden one), or a
  // request column (an index into ReadPlan::request_columns).
  struct Input {
    int column = -1;
    int request = -1;
  };
  std::vector<Input> inputs;
  // Per output of its program: the response feature columns it fills (none when not asked),
  // and whether it is asked for at all (only those are evaluated).
  std::vector<std::vector<int>> outputs;
  std::vector<bool> wanted;
};

struct ReadPlan {
  std::string project;
  uint64_t catalog_serial = 0;
  // The entity columns the request must supply, in response order.
  std::vector<JoinKey> join_keys;
  absl::flat_hash_map<std::string, int> join_key_index;
  // The feature columns, after the join keys in the response.
  std::vector<std::string> feature_names;
  // The response's metadata (every column's name), serialized once for all responses.
  std::string metadata;
  std::vector<KeyGroup> groups;
  // Features read only as inputs of on-demand views: columns after feature_names in the read's
  // grid, left out of the response.
  size_t hidden_columns = 0;
  std::vector<RequestColumn> request_columns;
  std::vector<PlannedOnDemand> on_demand;
  // The catalog's repo, which the on-demand views compile from (on the thread that computes
  // them, keyed by catalog_serial); null when there are none.
  std::shared_ptr<const registry::v1::FeatureRepo> repo;
};

struct ReadPlanOptions {
  // A key shape's hashes are read whole when the request asks for at least this share of the
  // fields the catalog stores in them (every view, and write-time on-demand view, keyed by the
  // same join keys: a timestamp and a created field each, and one per feature); 0 never.
  // Measured (services/serving/README.md): 52 of 59 fields (bench: 252 of 259), both far cheaper
  // for Redis whole while it keeps the hash as a flat list; where it keeps a hash table (more
  // than hash-max-listpack-entries fields, or a value over hash-max-listpack-value bytes)
  // HGETALL of everything costs it ~1.5x an HMGET of everything, so the default stays high.
  double whole_hash_share = 0.75;
};

// NOT_FOUND naming an unknown feature service, view or feature; FAILED_PRECONDITION for a view
// not served online (an on-demand view's sources included) or an on-demand view that does not
// compile; INVALID_ARGUMENT when two features would share a name in the response. An on-demand
// view's source features are read in the same round trip, returned only when asked for.
absl::StatusOr<std::shared_ptr<const ReadPlan>> BuildReadPlan(
    const registry_client::Catalog& catalog, const FeatureSelection& selection,
    const ReadPlanOptions& options = {});

}  // namespace granary::serving

#endif  // GRANARY_SERVICES_SERVING_READ_PLAN_H_
