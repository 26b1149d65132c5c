#include "services/serving/test_catalog.h"

#include <cstdlib>

#include "google/protobuf/text_format.h"

namespace granary::serving::testing {
namespace {

constexpr char kRepo[] = R"pb(
  entities { name: "driver" join_key: "driver_id" value_type: INT64 }
  entities { name: "customer" join_key: "customer_id" value_type: STRING }
  entities { name: "zone" join_key: "zone_id" value_type: INT32 }
  data_sources {
    name: "events"
    postgres { table: "events" }
    timestamp_field: "event_timestamp"
  }
  data_sources {
    name: "boosts"
    request { schema { name: "boost" dtype: DOUBLE } }
  }
  feature_views {
    name: "driver_stats"
    entities: "driver"
    schema { name: "conv_rate" dtype: FLOAT }
    schema { name: "acc_rate" dtype: FLOAT }
    schema { name: "trips" dtype: INT64 }
    ttl { seconds: 3600 }
    batch_source: "events"
    meta { created_version: 4 }
  }
  feature_views {
    name: "driver_profile"
    entities: "driver"
    schema { name: "name" dtype: STRING }
    schema { name: "rating" dtype: DOUBLE }
    batch_source: "events"
  }
  feature_views {
    name: "driver_customer"
    entities: "customer"
    entities: "driver"
    schema { name: "orders" dtype: INT64 }
    ttl { seconds: 86400 }
    batch_source: "events"
  }
  feature_views {
    name: "zone_demand"
    entities: "zone"
    schema { name: "demand" dtype: DOUBLE }
    batch_source: "events"
  }
  feature_views {
    name: "global_stats"
    schema { name: "active_drivers" dtype: INT64 }
    batch_source: "events"
  }
  feature_views {
    name: "offline_only"
    entities: "driver"
    schema { name: "history" dtype: INT64 }
    batch_source: "events"
    online: false
  }
  on_demand_feature_views {
    name: "conv_plus"
    sources { feature_view { feature_view: "driver_stats" features: "conv_rate" } }
    schema { name: "conv_rate_plus" dtype: DOUBLE }
    transformation { expressions { key: "conv_rate_plus" value: "conv_rate + 1" } }
  }
  on_demand_feature_views {
    name: "boosted"
    sources {
      feature_view { feature_view: "driver_stats" features: "conv_rate" features: "trips" }
    }
    sources { request_source: "boosts" }
    schema { name: "boosted_rate" dtype: DOUBLE }
    schema { name: "trips_label" dtype: STRING }
    transformation {
      expressions { key: "boosted_rate" value: "conv_rate * boost" }
      expressions {
        key: "trips_label"
        value: "if trips == nil then return nil end\nif trips > 5 then return 'busy' end\nreturn 'quiet'"
      }
    }
  }
  feature_services {
    name: "ranking"
    features { feature_view: "driver_stats" features: "conv_rate" features: "acc_rate" }
    features { feature_view: "driver_profile" alias: "profile" }
  }
  feature_services {
    name: "twice"
    features { feature_view: "driver_stats" features: "conv_rate" alias: "a" }
    features { feature_view: "driver_stats" features: "conv_rate" alias: "b" }
  }
  feature_services {
    name: "with_odfv"
    features { feature_view: "conv_plus" }
  }
)pb";

}  // namespace

registry::v1::FeatureRepo TestRepo(const std::string& project) {
  registry::v1::FeatureRepo repo;
  if (!google::protobuf::TextFormat::ParseFromString(kRepo, &repo)) std::abort();
  repo.mutable_project()->set_name(project);
  return repo;
}

std::shared_ptr<const registry_client::Catalog> CatalogOf(registry::v1::FeatureRepo repo,
                                                          int64_t version) {
  registry::v1::Snapshot snapshot;
  snapshot.set_version(version);
  snapshot.mutable_committed_time()->set_seconds(1'700'000'000);
  *snapshot.mutable_repo() = std::move(repo);
  return std::make_shared<const registry_client::Catalog>(std::move(snapshot));
}

std::shared_ptr<const registry_client::Catalog> TestCatalog(const std::string& project,
                                                            int64_t version) {
  return CatalogOf(TestRepo(project), version);
}

}  // namespace granary::serving::testing
