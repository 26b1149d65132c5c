#include "services/registry/test_repo.h"

#include <cstdlib>

#include "google/protobuf/text_format.h"
#include "granary/registry/v1/objects.pb.h"

namespace granary::registry::testing {
namespace {

constexpr char kDriverRepo[] = R"pb(
  project { name: "driver_stats" description: "Feast's driver example" }
  entities { name: "driver" join_key: "driver_id" value_type: INT64 }
  data_sources {
    name: "driver_stats_source"
    postgres { table: "driver_stats" }
    timestamp_field: "event_timestamp"
    created_timestamp_column: "created"
  }
  data_sources {
    name: "driver_stats_push"
    push { batch_source: "driver_stats_source" }
  }
  data_sources {
    name: "vals_to_add"
    request { schema { name: "val_to_add" dtype: INT64 } }
  }
  feature_views {
    name: "driver_hourly_stats"
    entities: "driver"
    schema { name: "conv_rate" dtype: FLOAT }
    schema { name: "acc_rate" dtype: FLOAT }
    schema { name: "avg_daily_trips" dtype: INT64 }
    ttl { seconds: 86400 }
    batch_source: "driver_stats_source"
    stream_source: "driver_stats_push"
    tags { key: "team" value: "driver_performance" }
  }
  on_demand_feature_views {
    name: "transformed_conv_rate"
    sources { feature_view { feature_view: "driver_hourly_stats" features: "conv_rate" } }
    sources { request_source: "vals_to_add" }
    schema { name: "conv_rate_plus_val" dtype: DOUBLE }
    transformation {
      mode: "expression"
      expressions { key: "conv_rate_plus_val" value: "conv_rate + val_to_add" }
    }
  }
  feature_services {
    name: "driver_activity"
    features { feature_view: "driver_hourly_stats" features: "conv_rate" features: "acc_rate" }
    features { feature_view: "transformed_conv_rate" }
  }
  permissions {
    name: "readers"
    types: FEATURE_VIEW
    types: FEATURE_SERVICE
    name_patterns: ".*"
    actions: DESCRIBE
    actions: READ_ONLINE
    policy { roles: "reader" }
  }
)pb";

}  // namespace

v1::FeatureRepo DriverRepo(const std::string& project) {
  v1::FeatureRepo repo;
  if (!google::protobuf::TextFormat::ParseFromString(kDriverRepo, &repo)) std::abort();
  repo.mutable_project()->set_name(project);
  return repo;
}

}  // namespace granary::registry::testing
