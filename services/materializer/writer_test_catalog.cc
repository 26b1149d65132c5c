#include "services/materializer/writer_test_catalog.h"

#include "google/protobuf/text_format.h"

#include "libs/base/proto_time.h"

namespace granary::materializer {

std::shared_ptr<const registry_client::Catalog> WriterTestCatalog() {
  registry::v1::Snapshot snapshot;
  snapshot.set_version(5);
  google::protobuf::TextFormat::ParseFromString(
      R"pb(
        project { name: "shop" }
        entities { name: "driver" join_key: "driver_id" value_type: INT64 }
        data_sources {
          name: "stats_table"
          timestamp_field: "ts"
          created_timestamp_column: "created"
          postgres { table: "stats" }
        }
        data_sources {
          name: "stats_push"
          push { batch_source: "stats_table" }
        }
        data_sources {
          name: "missing_table"
          timestamp_field: "ts"
          postgres { table: "missing" }
        }
        data_sources {
          name: "ghost_push"
          push { batch_source: "missing_table" }
        }
        feature_views {
          name: "driver_stats"
          entities: "driver"
          schema { name: "note" dtype: STRING }
          schema { name: "seen" dtype: UNIX_TIMESTAMP }
          stream_source: "stats_push"
          meta { created_version: 3 }
        }
        feature_views {
          name: "driver_trips"
          entities: "driver"
          schema { name: "trips" dtype: INT64 }
          stream_source: "stats_push"
          meta { created_version: 4 }
        }
        on_demand_feature_views {
          name: "note_shout"
          mode: ON_WRITE
          sources { feature_view { feature_view: "driver_stats" features: "note" } }
          schema { name: "shout" dtype: STRING }
          transformation {
            expressions {
              key: "shout"
              value: "if note == 'bad' then error('a bad note') end\nreturn note:upper() .. '!'"
            }
          }
          meta { created_version: 5 }
        }
      )pb",
      snapshot.mutable_repo());
  return std::make_shared<registry_client::Catalog>(std::move(snapshot));
}

events::v1::PushBatch TestBatch(const std::string& batch_id, const std::vector<TestRow>& rows,
                                const std::string& push_source) {
  events::v1::PushBatch batch;
  batch.set_project("shop");
  batch.set_push_source(push_source);
  batch.set_feature_view("driver_stats");
  batch.set_batch_id(batch_id);
  batch.set_online(true);
  batch.set_offline(true);
  batch.add_join_keys("driver_id");
  batch.add_features("note");
  batch.add_features("seen");
  batch.set_registry_version(5);
  batch.set_view_version(3);
  *batch.mutable_received_time() = base::ToProtoTime(absl::Now());
  for (const TestRow& r : rows) {
    events::v1::PushRow* row = batch.add_rows();
    row->add_join_values()->set_int64_val(r.driver);
    *row->mutable_event_time() = base::ToProtoTime(r.event);
    *row->mutable_created_time() = base::ToProtoTime(r.created);
    row->add_features()->set_string_val(r.note);
    row->add_features()->set_unix_timestamp_val(r.seen_seconds);
  }
  return batch;
}

}  // namespace granary::materializer
