#include "libs/transforms/write_time.h"

#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "google/protobuf/text_format.h"
#include "gtest/gtest.h"

#include "libs/keys/hash_field.h"
#include "libs/testing/status_matchers.h"

namespace granary::transforms {
namespace {

using ::granary::testing::StatusIs;
using registry::v1::FeatureRepo;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using types::v1::Value;

FeatureRepo Repo() {
  FeatureRepo repo;
  EXPECT_TRUE(google::protobuf::TextFormat::ParseFromString(
      R"pb(
        feature_views {
          name: "stats"
          entities: "driver"
          schema { name: "conv_rate" dtype: DOUBLE }
          schema { name: "trips" dtype: INT64 }
          ttl { seconds: 3600 }
          online: true
        }
        feature_views {
          name: "other"
          schema { name: "x" dtype: DOUBLE }
        }
        on_demand_feature_views {
          name: "stored"
          mode: ON_WRITE
          sources { feature_view { feature_view: "stats" } }
          schema { name: "doubled" dtype: DOUBLE }
          schema { name: "label" dtype: STRING }
          transformation {
            expressions { key: "doubled" value: "conv_rate * 2" }
            expressions { key: "label" value: "trips > 5 and 'busy' or nil" }
          }
          meta { created_version: 7 }
        }
        on_demand_feature_views {
          name: "computed"
          sources { feature_view { feature_view: "stats" } }
          schema { name: "tripled" dtype: DOUBLE }
          transformation { expressions { key: "tripled" value: "conv_rate * 3" } }
        }
      )pb",
      &repo));
  return repo;
}

std::string Bytes(double v) {
  Value value;
  value.set_double_val(v);
  return value.SerializeAsString();
}
std::string Bytes(int64_t v) {
  Value value;
  value.set_int64_val(v);
  return value.SerializeAsString();
}

TEST(WriteTimeTest, AViewIsStoredUnderItsOwnNameWithItsSourcesEntitiesAndTtl) {
  const FeatureRepo repo = Repo();
  ASSERT_OK_AND_ASSIGN(registry::v1::FeatureView stored,
                       StoredViewOf(repo, repo.on_demand_feature_views(0)));
  EXPECT_EQ(stored.name(), "stored");
  EXPECT_THAT(stored.entities(), ElementsAre("driver"));
  EXPECT_EQ(stored.ttl().seconds(), 3600);
  EXPECT_TRUE(stored.online());
  EXPECT_EQ(stored.meta().created_version(), 7);
  ASSERT_EQ(stored.schema_size(), 2);
  EXPECT_EQ(stored.schema(1).name(), "label");

  // Only write-time views, and only those of that source.
  EXPECT_THAT(WriteTimeViewsOf(repo, "stats"), ElementsAre(&repo.on_demand_feature_views(0)));
  EXPECT_TRUE(WriteTimeViewsOf(repo, "other").empty());

  FeatureRepo orphan = repo;
  orphan.mutable_feature_views()->DeleteSubrange(0, 1);
  EXPECT_THAT(StoredViewOf(orphan, orphan.on_demand_feature_views(0)),
              StatusIs(absl::StatusCode::kNotFound, HasSubstr("'stats'")));
}

TEST(WriteTimeTest, EachRowsOutputsAreComputedAndStampedLikeItsRow) {
  const FeatureRepo repo = Repo();
  onlinestore::ViewWrite write;
  write.view = "stats";
  write.key_ttl = absl::Hours(2);
  const absl::Time t = absl::FromUnixSeconds(1700000000);
  // Values in the order the write names them: trips first here.
  const std::vector<std::string> features = {"trips", "conv_rate"};
  write.rows.push_back({"k1", t, t + absl::Seconds(1), {Bytes(int64_t{9}), Bytes(0.25)}});
  write.rows.push_back({"k2", t, t, {Bytes(int64_t{1}), Bytes(0.5)}});
  // conv_rate not written (nil): doubled fails for that row alone.
  write.rows.push_back({"k3", t, t, {Bytes(int64_t{6}), ""}});
  int64_t failed = 0;
  ASSERT_OK_AND_ASSIGN(std::vector<onlinestore::ViewWrite> derived,
                       DeriveWrites(1, repo, write, features, &failed));
  ASSERT_EQ(derived.size(), 1u);
  const onlinestore::ViewWrite& d = derived[0];
  EXPECT_EQ(d.view, "stored");
  EXPECT_EQ(d.view_version, 7);
  EXPECT_EQ(d.key_ttl, absl::Hours(2));
  EXPECT_EQ(d.guard_view, "stats");  // guarded by the stored source row
  EXPECT_THAT(d.feature_fields, ElementsAre(keys::FeatureField("stored", "doubled"),
                                            keys::FeatureField("stored", "label")));
  ASSERT_EQ(d.rows.size(), 3u);
  EXPECT_EQ(d.rows[0].key, "k1");
  EXPECT_EQ(d.rows[0].event_time, t);
  EXPECT_EQ(d.rows[0].created_time, t + absl::Seconds(1));
  Value v;
  ASSERT_TRUE(v.ParseFromString(d.rows[0].values[0]));
  EXPECT_EQ(v.double_val(), 0.5);
  ASSERT_TRUE(v.ParseFromString(d.rows[0].values[1]));
  EXPECT_EQ(v.string_val(), "busy");
  // nil is stored as null, a failure as the failed marker.
  ASSERT_TRUE(v.ParseFromString(d.rows[1].values[1]));
  EXPECT_TRUE(v.has_null_val());
  EXPECT_EQ(d.rows[2].values[0], keys::FailedValue());
  ASSERT_TRUE(v.ParseFromString(d.rows[2].values[1]));
  EXPECT_EQ(v.string_val(), "busy");
  EXPECT_EQ(failed, 1);

  // Rows of one key with equal times: the source keeps the first, and only its outputs are
  // derived (a later equal row is not newer for the source, but would pass the derived guard).
  onlinestore::ViewWrite ties;
  ties.view = "stats";
  ties.rows.push_back({"k", t, t, {Bytes(int64_t{9}), Bytes(0.25)}});
  ties.rows.push_back({"k", t, t, {Bytes(int64_t{9}), Bytes(4.0)}});
  ties.rows.push_back({"other", t, t, {Bytes(int64_t{9}), Bytes(1.0)}});
  ties.rows.push_back({"other", t + absl::Seconds(1), t, {Bytes(int64_t{9}), Bytes(2.0)}});
  ASSERT_OK_AND_ASSIGN(derived, DeriveWrites(1, repo, ties, features, &failed));
  ASSERT_EQ(derived[0].rows.size(), 2u);
  ASSERT_TRUE(v.ParseFromString(derived[0].rows[0].values[0]));
  EXPECT_EQ(derived[0].rows[0].key, "k");
  EXPECT_EQ(v.double_val(), 0.5);
  ASSERT_TRUE(v.ParseFromString(derived[0].rows[1].values[0]));
  EXPECT_EQ(derived[0].rows[1].key, "other");
  EXPECT_EQ(v.double_val(), 4.0);  // the newer of its two rows

  // A view nothing write-time reads derives nothing.
  write.view = "other";
  ASSERT_OK_AND_ASSIGN(derived, DeriveWrites(1, repo, write, {"x"}, &failed));
  EXPECT_TRUE(derived.empty());
}

}  // namespace
}  // namespace granary::transforms
