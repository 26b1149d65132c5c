#include "tools/bench/serving_stack.h"

#include <random>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/time/clock.h"
#include "granary/registry/v1/repo.pb.h"
#include "granary/types/v1/online_row.pb.h"
#include <hiredis/hiredis.h>

#include "libs/base/proto_time.h"
#include "libs/base/status_macros.h"
#include "libs/keys/entity_key.h"
#include "libs/keys/hash_field.h"
#include "libs/redis/connection.h"
#include "libs/testing/grpc_probes.h"

namespace granary::bench {
namespace {

namespace reg = registry::v1;

constexpr int kRowsPerPipeline = 500;

std::string FeatureName(int i) { return absl::StrFormat("f%03d", i); }

reg::FeatureRepo BenchRepo(const std::vector<BenchView>& views) {
  reg::FeatureRepo repo;
  repo.mutable_project()->set_name(kBenchProject);
  auto* source = repo.add_data_sources();
  source->set_name("events");
  source->mutable_postgres()->set_table("events");
  source->set_timestamp_field("event_timestamp");
  for (const BenchView& v : views) {
    auto* entity = repo.add_entities();
    entity->set_name(v.name + "_entity");
    entity->set_join_key(v.join_key);
    entity->set_value_type(types::v1::ValueType::INT64);
    auto* view = repo.add_feature_views();
    view->set_name(v.name);
    view->add_entities(entity->name());
    view->set_batch_source("events");
    view->mutable_ttl()->set_seconds(86400);
    for (int i = 0; i < v.features; ++i) {
      auto* field = view->add_schema();
      field->set_name(FeatureName(i));
      field->set_dtype(types::v1::ValueType::DOUBLE);
    }
    // kOnDemandOutputs outputs computed from the view's first features, for the on-demand part.
    auto* od = repo.add_on_demand_feature_views();
    od->set_name(OnDemandViewOf(v));
    auto* projection = od->add_sources()->mutable_feature_view();
    projection->set_feature_view(v.name);
    for (int i = 0; i <= kOnDemandOutputs && i < v.features; ++i) {
      projection->add_features(FeatureName(i));
    }
    for (int i = 0; i < kOnDemandOutputs && i + 1 < v.features; ++i) {
      auto* field = od->add_schema();
      field->set_name(absl::StrFormat("o%d", i));
      field->set_dtype(types::v1::ValueType::DOUBLE);
      (*od->mutable_transformation()->mutable_expressions())[field->name()] =
          absl::StrFormat("%s * 0.5 + %s", FeatureName(i), FeatureName(i + 1));
    }
    auto* stored = repo.add_on_demand_feature_views();
    *stored = *od;
    stored->set_name(WriteTimeViewOf(v));
    stored->set_mode(registry::v1::OnDemandFeatureView::ON_WRITE);
  }
  return repo;
}

// Appends one HSET of key and (field, value) pairs.
absl::Status AppendHset(redis::Connection& conn, const std::string& key,
                        const std::vector<std::string>& fields,
                        const std::vector<std::string>& values) {
  std::vector<const char*> argv = {"HSET", key.data()};
  std::vector<size_t> lens = {4, key.size()};
  for (size_t i = 0; i < fields.size(); ++i) {
    argv.push_back(fields[i].data());
    lens.push_back(fields[i].size());
    argv.push_back(values[i].data());
    lens.push_back(values[i].size());
  }
  return conn.Append(static_cast<int>(argv.size()), argv.data(), lens.data());
}

}  // namespace

std::vector<serving::v1::GetOnlineFeaturesRequest> BenchRequests(const BenchView& view,
                                                                 int entities, int rows,
                                                                 int count) {
  std::mt19937_64 rng(42);
  std::uniform_int_distribution<int64_t> pick(0, entities - 1);
  serving::v1::GetOnlineFeaturesRequest base;
  for (int i = 0; i < view.features; ++i) {
    base.mutable_features()->add_val(absl::StrFormat("%s:f%03d", view.name, i));
  }
  std::vector<serving::v1::GetOnlineFeaturesRequest> out(count, base);
  for (auto& r : out) {
    auto& column = (*r.mutable_entities())[view.join_key];
    for (int i = 0; i < rows; ++i) column.add_val()->set_int64_val(pick(rng));
  }
  return out;
}

absl::StatusOr<std::unique_ptr<ServingStack>> ServingStack::Start(
    const ServingStackOptions& options) {
  auto stack = std::unique_ptr<ServingStack>(new ServingStack());
  std::vector<std::string> section = {"max_entity_rows: 1000"};
  section.insert(section.end(), options.serving_config.begin(), options.serving_config.end());
  ASSIGN_OR_RETURN(stack->stack_, testing::TestStack::Start({.repo = BenchRepo(options.views),
                                                             .bin_dir = options.bin_dir}));
  ASSIGN_OR_RETURN(stack->serving_,
                   stack->stack_->Spawn("serving", {.section = absl::StrJoin(section, ", "),
                                                    .server = "log_level: warning",
                                                    .env = options.serving_env}));
  // Healthy is Redis reachable; ready is the catalog loaded too: serving's catalog version,
  // refreshed at each scrape (its "catalog updated" line is info, below this log level).
  const std::string version =
      absl::StrCat("granary_serving_catalog_version{project=\"", kBenchProject, "\"}");
  for (const absl::Time give_up = absl::Now() + absl::Seconds(30);
       stack->serving_->Metric(version) <= 0;) {
    if (absl::Now() > give_up) {
      return absl::DeadlineExceededError("serving did not load the bench catalog within 30s");
    }
    absl::SleepFor(absl::Milliseconds(100));
  }
  return stack;
}

absl::StatusOr<std::string> ServingStack::ServingScrape() const {
  return testing::HttpGet("127.0.0.1", serving_->metrics_port(), "/metrics");
}

absl::Status ServingStack::Populate(const BenchView& view, int entities) {
  redis::RedisOptions options;
  options.host = stack_->redis().host();
  options.port = stack_->redis().port();
  options.command_timeout = absl::Seconds(60);
  ASSIGN_OR_RETURN(auto conn, redis::Connection::Open(options));
  std::vector<std::string> fields = {keys::TimestampField(view.name),
                                     keys::CreatedField(view.name)};
  std::vector<std::string> raw_fields = {FeatureName(view.features),
                                         FeatureName(view.features + 1)};
  for (int i = 0; i < view.features; ++i) {
    fields.push_back(keys::FeatureField(view.name, FeatureName(i)));
    raw_fields.push_back(FeatureName(i));
  }
  const std::string timestamp = base::ToProtoTime(absl::Now()).SerializeAsString();
  types::v1::OnlineRowMeta meta;  // as the materializer writes it (incarnation unknown here)
  meta.set_created_seconds(absl::ToUnixSeconds(absl::Now()));
  const std::string created = meta.SerializeAsString();
  std::vector<std::string> values(fields.size());
  // The write-time twin's outputs, as the writers store them beside the row.
  const int outputs = std::min(kOnDemandOutputs, view.features - 1);
  const std::string stored_view = WriteTimeViewOf(view);
  std::vector<std::string> stored_fields = {keys::TimestampField(stored_view),
                                            keys::CreatedField(stored_view)};
  for (int o = 0; o < outputs; ++o) {
    stored_fields.push_back(keys::FeatureField(stored_view, absl::StrFormat("o%d", o)));
  }
  std::vector<std::string> stored_values(stored_fields.size());
  for (size_t i = 0; i < stored_fields.size(); ++i) {
    raw_fields.push_back(absl::StrFormat("s%03d", i));
  }
  std::vector<std::string> raw_values;
  for (int first = 0; first < entities; first += kRowsPerPipeline) {
    int last = std::min(entities, first + kRowsPerPipeline);
    for (int id = first; id < last; ++id) {
      types::v1::Value key_value;
      key_value.set_int64_val(id);
      ASSIGN_OR_RETURN(std::string key,
                       keys::RedisKey({{view.join_key, key_value}}, kBenchProject));
      values[0] = timestamp;
      values[1] = created;
      for (int i = 0; i < view.features; ++i) {
        types::v1::Value v;
        v.set_double_val(id + i / 1000.0);
        values[i + 2] = v.SerializeAsString();
      }
      RETURN_IF_ERROR(AppendHset(*conn, key, fields, values));
      stored_values[0] = timestamp;
      stored_values[1] = created;
      for (int o = 0; o < outputs; ++o) {
        types::v1::Value v;
        v.set_double_val((id + o / 1000.0) * 0.5 + (id + (o + 1) / 1000.0));
        stored_values[o + 2] = v.SerializeAsString();
      }
      RETURN_IF_ERROR(AppendHset(*conn, key, stored_fields, stored_values));
      // The raw twin: as many fields as serving's hash (the read ones, then as many as the
      // write-time view's), values of the same sizes.
      raw_values.assign(values.begin(), values.end());
      raw_values.insert(raw_values.end(), stored_values.begin(), stored_values.end());
      RETURN_IF_ERROR(AppendHset(*conn, absl::StrFormat("raw%d:%012d", fields.size(), id),
                                 raw_fields, raw_values));
    }
    for (int i = 0; i < 3 * (last - first); ++i) {
      bool failed = false;
      RETURN_IF_ERROR(
          conn->ReadRaw([&](const redisReply& r) { failed = r.type == REDIS_REPLY_ERROR; }));
      if (failed) return absl::InternalError("HSET failed while populating");
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<RawFigures> ServingStack::RedisBenchmark(int fields, int entities, int clients,
                                                        int pipeline, int requests,
                                                        bool whole) const {
  std::vector<std::string> args = {"-c",
                                   absl::StrCat(clients),
                                   "-n",
                                   absl::StrCat(requests),
                                   "-r",
                                   absl::StrCat(entities),
                                   "-P",
                                   absl::StrCat(pipeline),
                                   whole ? "HGETALL" : "HMGET",
                                   absl::StrFormat("raw%d:__rand_int__", fields)};
  for (int i = 0; !whole && i < fields; ++i) args.push_back(FeatureName(i));
  return RunRedisBenchmark(stack_->redis().port(), args);
}

std::vector<std::vector<std::vector<std::string>>> ServingStack::RawRequests(int fields,
                                                                             int entities,
                                                                             int pipeline,
                                                                             int count) {
  std::mt19937 random(7);
  std::uniform_int_distribution<int> id(0, std::max(0, entities - 1));
  std::vector<std::vector<std::vector<std::string>>> requests(count);
  for (auto& request : requests) {
    for (int p = 0; p < pipeline; ++p) {
      request.push_back({"HGETALL", absl::StrFormat("raw%d:%012d", fields, id(random))});
    }
  }
  return requests;
}

}  // namespace granary::bench
