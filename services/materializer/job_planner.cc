#include "services/materializer/job_planner.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

#include "libs/base/proto_time.h"
#include "libs/base/status_macros.h"

namespace granary::materializer {
namespace {

namespace v1 = materialization::v1;

// Times are kept to the microsecond, as PostgreSQL and the registry keep them: what a job
// records is exactly where the next incremental one starts.
absl::Time Micros(absl::Time t) {
  if (t == absl::InfinitePast() || t == absl::InfiniteFuture()) return t;
  return absl::UnixEpoch() + absl::Floor(t - absl::UnixEpoch(), absl::Microseconds(1));
}

absl::StatusOr<int> ShardsOf(int requested, const PlanOptions& options) {
  if (requested < 0 || requested > 1024) {
    return absl::InvalidArgumentError(
        absl::StrCat("shards: ", requested, " is not between 0 and 1024"));
  }
  return requested == 0 ? options.shards : requested;
}

// Within the years a protobuf Timestamp (and the registry) holds: 1 to 9999.
absl::Status InRange(absl::Time t, const char* field) {
  if (t < absl::FromUnixSeconds(-62135596800) || t >= absl::FromUnixSeconds(253402300800)) {
    return absl::InvalidArgumentError(absl::StrCat(field, ": outside years 1 to 9999"));
  }
  return absl::OkStatus();
}

absl::Status RequireTime(bool has, const char* field) {
  if (!has) return absl::InvalidArgumentError(absl::StrCat(field, ": required"));
  return absl::OkStatus();
}

// The tasks of `plan.ranges`: each range cut into spans, each span into shards.
absl::Status AddTasks(int shards, const PlanOptions& options, JobPlan& plan) {
  for (const JobPlan::Range& range : plan.ranges) {
    absl::Time from = range.start;
    while (from < range.end) {
      absl::Time to = range.end;
      if (options.task_span > absl::ZeroDuration() && from != absl::InfinitePast() &&
          range.end - from > options.task_span) {
        to = from + options.task_span;
      }
      for (int s = 0; s < shards; ++s) {
        plan.tasks.push_back({range.feature_view, from, to, s, shards});
        if (static_cast<int>(plan.tasks.size()) > options.max_tasks) {
          return absl::InvalidArgumentError(
              absl::StrCat("the job would have more than ", options.max_tasks,
                           " tasks: ask for fewer shards or views, or a shorter range"));
        }
      }
      from = to;
    }
  }
  return absl::OkStatus();
}

JobPlan NewPlan(const registry_client::Catalog& catalog, v1::JobKind kind) {
  JobPlan plan;
  plan.project = catalog.project();
  plan.kind = kind;
  plan.registry_version = catalog.version();
  return plan;
}

}  // namespace

absl::Time EarliestTime() { return absl::FromUnixSeconds(-62135596800); }

absl::StatusOr<std::vector<const registry::v1::FeatureView*>> ViewsToMaterialize(
    const registry_client::Catalog& catalog, const std::vector<std::string>& names) {
  std::vector<const registry::v1::FeatureView*> out;
  if (names.empty()) {
    for (const auto& view : catalog.repo().feature_views()) {
      if ((!view.has_online() || view.online()) && !view.batch_source().empty() &&
          !view.entities().empty()) {
        out.push_back(&view);
      }
    }
    if (out.empty()) {
      return absl::FailedPreconditionError(absl::StrCat(
          "project ", catalog.project(), " has no online feature view with a batch source"));
    }
    return out;
  }
  std::vector<std::string> missing;
  for (const std::string& name : names) {
    const registry::v1::FeatureView* view = catalog.FindFeatureView(name);
    // A write-time on-demand view is stored with its source's rows: materializing it is
    // materializing its source (whose writes compute it).
    if (const auto* od = catalog.FindOnDemandFeatureView(name);
        view == nullptr && od != nullptr &&
        od->mode() == registry::v1::OnDemandFeatureView::ON_WRITE) {
      for (const auto& source : od->sources()) {
        if (source.has_feature_view()) {
          view = catalog.FindFeatureView(source.feature_view().feature_view());
        }
      }
    }
    if (view == nullptr) {
      missing.push_back(name);
      continue;
    }
    if (view->has_online() && !view->online()) {
      return absl::FailedPreconditionError(
          absl::StrCat("feature view ", name, " is not online: there is nothing to materialize"));
    }
    if (view->batch_source().empty()) {
      return absl::FailedPreconditionError(
          absl::StrCat("feature view ", name, " has no batch source to materialize from"));
    }
    if (view->entities().empty()) {
      return absl::FailedPreconditionError(absl::StrCat(
          "feature view ", name, " has no entities: materializing it is not supported yet"));
    }
    bool repeated = false;
    for (const auto* seen : out) repeated = repeated || seen == view;
    if (!repeated) out.push_back(view);
  }
  if (!missing.empty()) {
    return absl::NotFoundError(absl::StrCat("feature_views: project ", catalog.project(),
                                            " has no feature view ", absl::StrJoin(missing, ", ")));
  }
  return out;
}

absl::StatusOr<JobPlan> PlanMaterialize(const v1::MaterializeRequest& request,
                                        const registry_client::Catalog& catalog,
                                        const PlanOptions& options) {
  RETURN_IF_ERROR(RequireTime(request.has_start_time(), "start_time"));
  RETURN_IF_ERROR(RequireTime(request.has_end_time(), "end_time"));
  const absl::Time start = Micros(base::FromProtoTime(request.start_time()));
  const absl::Time end = Micros(base::FromProtoTime(request.end_time()));
  RETURN_IF_ERROR(InRange(start, "start_time"));
  RETURN_IF_ERROR(InRange(end, "end_time"));
  if (end <= start) {
    return absl::InvalidArgumentError(absl::StrCat(
        "end_time: ", absl::FormatTime(end), " is not after start_time ", absl::FormatTime(start)));
  }
  ASSIGN_OR_RETURN(int shards, ShardsOf(request.shards(), options));
  std::vector<std::string> names(request.feature_views().begin(), request.feature_views().end());
  ASSIGN_OR_RETURN(auto views, ViewsToMaterialize(catalog, names));
  JobPlan plan = NewPlan(catalog, v1::MATERIALIZE);
  for (const auto* view : views) plan.ranges.push_back({view->name(), start, end});
  RETURN_IF_ERROR(AddTasks(shards, options, plan));
  return plan;
}

absl::StatusOr<JobPlan> PlanIncremental(const v1::MaterializeIncrementalRequest& request,
                                        const registry_client::Catalog& catalog,
                                        const LastEndFn& last_end, const PlanOptions& options) {
  RETURN_IF_ERROR(RequireTime(request.has_end_time(), "end_time"));
  const absl::Time end = Micros(base::FromProtoTime(request.end_time()));
  RETURN_IF_ERROR(InRange(end, "end_time"));
  ASSIGN_OR_RETURN(int shards, ShardsOf(request.shards(), options));
  std::vector<std::string> names(request.feature_views().begin(), request.feature_views().end());
  ASSIGN_OR_RETURN(auto views, ViewsToMaterialize(catalog, names));
  JobPlan plan = NewPlan(catalog, v1::MATERIALIZE_INCREMENTAL);
  for (const auto* view : views) {
    ASSIGN_OR_RETURN(std::optional<absl::Time> last, last_end(view->name()));
    absl::Time start = EarliestTime();
    if (last.has_value()) {
      start = *last;
    } else if (const absl::Duration ttl = base::FromProtoDuration(view->ttl());
               ttl > absl::ZeroDuration() && end - EarliestTime() > ttl) {
      start = Micros(end - ttl);
    }
    if (start >= end) continue;  // materialized up to `end` already
    plan.ranges.push_back({view->name(), start, end});
  }
  RETURN_IF_ERROR(AddTasks(shards, options, plan));
  return plan;
}

}  // namespace granary::materializer
