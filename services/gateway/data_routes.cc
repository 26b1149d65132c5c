// Serving, ingestion and materializer methods: reads and writes of feature data need the
// READ_* / WRITE_* action on each view or feature service they touch; job and dead-letter
// calls need DESCRIBE (to look) or UPDATE (to act) on the project they belong to.
#include <set>

#include "absl/strings/str_cat.h"
#include "granary/deadletter/v1/deadletter.pb.h"
#include "granary/ingestion/v1/ingestion.pb.h"
#include "granary/materialization/v1/materialization.pb.h"
#include "granary/serving/v1/serving.pb.h"

#include "services/gateway/catalog_objects.h"
#include "services/gateway/route_helpers.h"
#include "services/gateway/routes.h"

namespace granary::gateway {
namespace {

namespace v1 = registry::v1;
namespace dl = deadletter::v1;
namespace mat = materialization::v1;

// Checks `action` on the view of each "view:feature" reference (a feature view or an
// on-demand view, whichever the catalog has), once per view.
absl::Status AddViewChecks(AccessPlan& plan, Catalogs& catalogs, Permission::Action action,
                           const google::protobuf::RepeatedPtrField<std::string>& refs,
                           absl::string_view field) {
  auto catalog = catalogs.Find(plan.project);
  std::set<std::string> views;
  for (int i = 0; i < refs.size(); ++i) {
    size_t colon = refs[i].find(':');
    if (colon == std::string::npos || colon == 0) {
      return absl::InvalidArgumentError(
          absl::StrCat(field, "[", i, "]: '", refs[i], "' is not a \"view:feature\" reference"));
    }
    views.insert(refs[i].substr(0, colon));
  }
  std::set<std::string> sources;
  for (const std::string& view : views) {
    const v1::OnDemandFeatureView* on_demand =
        catalog.ok() ? (*catalog)->FindOnDemandFeatureView(view) : nullptr;
    AddCheck(plan, catalogs, plan.project, action,
             on_demand != nullptr ? v1::ON_DEMAND_FEATURE_VIEW : v1::FEATURE_VIEW, view);
    // An on-demand view computes from its source views: reading it reads them, so the caller
    // must be allowed those too (else an identity expression would hand them out).
    if (on_demand != nullptr) {
      for (const auto& source : on_demand->sources()) {
        if (source.has_feature_view()) sources.insert(source.feature_view().feature_view());
      }
    }
  }
  for (const std::string& source : sources) {
    if (views.count(source) == 0) {
      AddCheck(plan, catalogs, plan.project, action, v1::FEATURE_VIEW, source);
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<AccessPlan> PlanOnlineRead(const std::string& bytes, Catalogs& catalogs) {
  auto request = ParseRequest<serving::v1::GetOnlineFeaturesRequest>(bytes);
  if (!request.ok()) return request.status();
  AccessPlan plan;
  plan.project = ResolveProject(request->project(), bytes, 1000, catalogs, plan);
  if (request->has_features()) {
    absl::Status status = AddViewChecks(plan, catalogs, Permission::READ_ONLINE,
                                        request->features().val(), "features");
    if (!status.ok()) return status;
  } else {
    AddCheck(plan, catalogs, plan.project, Permission::READ_ONLINE, v1::FEATURE_SERVICE,
             request->feature_service());
  }
  return plan;
}

absl::StatusOr<AccessPlan> PlanPush(const ingestion::v1::PushRequest& request, Catalogs& catalogs) {
  AccessPlan plan;
  plan.project = ProjectOr(request.project(), catalogs);
  // Online and offline at once must be granted by one permission (Feast's rule).
  Permission::Action action = Permission::WRITE_ONLINE;
  Permission::Action and_action = Permission::ACTION_UNSPECIFIED;
  switch (request.to()) {
    case ingestion::v1::OFFLINE:
      action = Permission::WRITE_OFFLINE;
      break;
    case ingestion::v1::ONLINE_AND_OFFLINE:
      and_action = Permission::WRITE_OFFLINE;
      break;
    default:
      break;
  }
  auto catalog = catalogs.Find(plan.project);
  if (!catalog.ok() && !absl::IsNotFound(catalog.status())) return catalog.status();
  std::vector<std::string> views;
  if (catalog.ok()) {
    for (const auto& view : (*catalog)->repo().feature_views()) {
      if (view.stream_source() == request.push_source_name()) views.push_back(view.name());
    }
  }
  // The views the push source feeds (Feast's rule); a source no view uses is checked itself,
  // so that nobody writes its offline table unchecked.
  for (const std::string& view : views) {
    AddCheck(plan, catalogs, plan.project, action, v1::FEATURE_VIEW, view);
    plan.checks.back().and_action = and_action;
  }
  if (views.empty()) {
    AddCheck(plan, catalogs, plan.project, action, v1::DATA_SOURCE, request.push_source_name());
    plan.checks.back().and_action = and_action;
  }
  return plan;
}

template <typename Request>
absl::StatusOr<AccessPlan> PlanMaterialize(const std::string& bytes, Catalogs& catalogs) {
  auto request = ParseRequest<Request>(bytes);
  if (!request.ok()) return request.status();
  AccessPlan plan;
  plan.project = ResolveProject(request->project(), bytes, 1, catalogs, plan);
  std::vector<std::string> views(request->feature_views().begin(), request->feature_views().end());
  if (views.empty()) {
    // Every online view of the project.
    auto catalog = catalogs.Find(plan.project);
    if (!catalog.ok()) return catalog.status();
    for (const auto& view : (*catalog)->repo().feature_views()) {
      if (!view.has_online() || view.online()) views.push_back(view.name());
    }
  }
  for (const std::string& view : views) {
    AddCheck(plan, catalogs, plan.project, Permission::WRITE_ONLINE, v1::FEATURE_VIEW, view);
  }
  return plan;
}

absl::StatusOr<AccessPlan> PlanHistorical(const std::string& bytes, Catalogs& catalogs) {
  auto request = ParseRequest<mat::GetHistoricalFeaturesRequest>(bytes);
  if (!request.ok()) return request.status();
  // A query of the caller's own runs with the materializer's database rights, over every
  // table there: no permission can say which tables it may read, so it is not forwarded.
  if (request->has_entity_sql()) {
    return absl::PermissionDeniedError(
        "entity_sql is not accepted through the gateway: send the entity rows (entity_table)");
  }
  AccessPlan plan;
  plan.project = ResolveProject(request->project(), bytes, 1, catalogs, plan);
  if (request->has_features()) {
    absl::Status status = AddViewChecks(plan, catalogs, Permission::READ_OFFLINE,
                                        request->features().val(), "features");
    if (!status.ok()) return status;
  } else {
    AddCheck(plan, catalogs, plan.project, Permission::READ_OFFLINE, v1::FEATURE_SERVICE,
             request->feature_service());
  }
  return plan;
}

// A call on one job: the job's project decides (the proxy asks the materializer for it).
template <typename Request>
PlanFn OnJob(Permission::Action action) {
  return [action](const std::string& bytes, Catalogs&) -> absl::StatusOr<AccessPlan> {
    auto request = ParseRequest<Request>(bytes);
    if (!request.ok()) return request.status();
    if (request->job_id().empty()) return absl::InvalidArgumentError("job_id: required");
    AccessPlan plan;
    plan.job_id = request->job_id();
    plan.job_action = action;
    return plan;
  };
}

template <typename Request>
PlanFn OnDeadLetters(Permission::Action action) {
  return [action](const std::string& bytes, Catalogs& catalogs) -> absl::StatusOr<AccessPlan> {
    auto request = ParseRequest<Request>(bytes);
    if (!request.ok()) return request.status();
    // Acting on every project's dead letters would reach projects this gateway does not
    // serve (and so cannot authorize): through the gateway a change names its project.
    if (action != Permission::DESCRIBE && request->filter().project().empty()) {
      return absl::InvalidArgumentError("filter.project: required through the gateway");
    }
    AccessPlan plan;
    // A list naming no project is filtered to the projects the caller may DESCRIBE.
    if (action == Permission::DESCRIBE && request->filter().project().empty()) return plan;
    plan.project = request->filter().project();
    AddCheck(plan, catalogs, plan.project, action, v1::PROJECT, plan.project);
    return plan;
  };
}

bool MayDescribeProject(const auth::Identity& who, Authorizer& authorizer,
                        const std::string& project) {
  AccessPlan plan;
  AddCheck(plan, authorizer.catalogs(), project, Permission::DESCRIBE, v1::PROJECT, project);
  return authorizer.Allows(who, plan.checks.front());
}

bool MayDescribeView(const auth::Identity& who, Authorizer& authorizer, const std::string& project,
                     const std::string& view) {
  AccessPlan plan;
  AddCheck(plan, authorizer.catalogs(), project, Permission::DESCRIBE, v1::FEATURE_VIEW, view);
  return authorizer.Allows(who, plan.checks.front());
}

// A job names its views (and its errors may quote them): the caller must see every one.
bool MayDescribe(const auth::Identity& who, Authorizer& authorizer, const mat::Job& job) {
  if (!MayDescribeProject(who, authorizer, job.project())) return false;
  for (const auto& range : job.ranges()) {
    if (!MayDescribeView(who, authorizer, job.project(), range.feature_view())) return false;
  }
  return true;
}

// A dead letter holds rows of its view.
bool MayDescribe(const auth::Identity& who, Authorizer& authorizer, const dl::DeadLetter& letter) {
  return MayDescribeProject(who, authorizer, letter.project()) &&
         (letter.feature_view().empty() ||
          MayDescribeView(who, authorizer, letter.project(), letter.feature_view()));
}

// A single job or dead letter: refused unless the caller may DESCRIBE its project and views.
template <typename Response>
absl::Status RequireDescribable(std::string* bytes, const AccessPlan&, const auth::Identity& who,
                                Authorizer& authorizer) {
  Response response;
  if (!response.ParseFromString(*bytes)) return absl::InternalError("bad response from backend");
  if (!MayDescribe(who, authorizer, response)) {
    return absl::PermissionDeniedError(absl::StrCat("'", who.user, "' may not DESCRIBE project '",
                                                    response.project(), "' or its views"));
  }
  return absl::OkStatus();
}

// Lists of jobs or dead letters keep those the caller may DESCRIBE (project and views).
template <typename Response, typename Items>
FilterFn KeepDescribable(Items* (Response::*items)()) {
  return [items](std::string* bytes, const AccessPlan&, const auth::Identity& who,
                 Authorizer& authorizer) -> absl::Status {
    Response response;
    if (!response.ParseFromString(*bytes)) return absl::InternalError("bad response from backend");
    Items* list = (response.*items)();
    auto end = std::stable_partition(list->begin(), list->end(), [&](const auto& item) {
      return MayDescribe(who, authorizer, item);
    });
    list->DeleteSubrange(static_cast<int>(end - list->begin()),
                         static_cast<int>(list->end() - end));
    *bytes = response.SerializeAsString();
    return absl::OkStatus();
  };
}

}  // namespace

void AddDataRoutes(const std::function<void(std::string, Route)>& add) {
  for (const char* service :
       {"/granary.serving.v1.ServingService/", "/feast.serving.ServingService/"}) {
    add(absl::StrCat(service, "GetFeastServingInfo"),
        Route{Upstream::kServing, false, false,
              [](const std::string&, Catalogs&) -> absl::StatusOr<AccessPlan> {
                return AccessPlan{};  // any authenticated caller
              }});
    add(absl::StrCat(service, "GetOnlineFeatures"),
        Route{Upstream::kServing, false, false, PlanOnlineRead});
  }

  const std::string ingestion = "/granary.ingestion.v1.IngestionService/";
  add(ingestion + "Push",
      Route{Upstream::kIngestion, false, false,
            [](const std::string& bytes, Catalogs& catalogs) -> absl::StatusOr<AccessPlan> {
              auto request = ParseRequest<ingestion::v1::PushRequest>(bytes);
              if (!request.ok()) return request.status();
              auto plan = PlanPush(*request, catalogs);
              if (plan.ok()) ResolveProject(request->project(), bytes, 1, catalogs, *plan);
              return plan;
            }});
  // Each batch of the stream is checked on its own.
  add(ingestion + "PushStream",
      Route{Upstream::kIngestion, true, true,
            [](const std::string& bytes, Catalogs& catalogs) -> absl::StatusOr<AccessPlan> {
              auto request = ParseRequest<ingestion::v1::PushStreamRequest>(bytes);
              if (!request.ok()) return request.status();
              auto plan = PlanPush(request->batch(), catalogs);
              if (plan.ok() && request->batch().project().empty()) {
                request->mutable_batch()->set_project(plan->project);
                plan->rewritten = request->SerializeAsString();
              }
              return plan;
            }});

  const std::string jobs = "/granary.materialization.v1.MaterializationService/";
  add(jobs + "Materialize",
      Route{Upstream::kMaterializer, false, false, PlanMaterialize<mat::MaterializeRequest>});
  add(jobs + "MaterializeIncremental", Route{Upstream::kMaterializer, false, false,
                                             PlanMaterialize<mat::MaterializeIncrementalRequest>});
  add(jobs + "GetJob",
      Route{Upstream::kMaterializer, false, false, OnJob<mat::GetJobRequest>(Permission::DESCRIBE),
            RequireDescribable<mat::Job>});
  add(jobs + "ListJobs",
      Route{Upstream::kMaterializer, false, false,
            [](const std::string& bytes, Catalogs& catalogs) -> absl::StatusOr<AccessPlan> {
              auto request = ParseRequest<mat::ListJobsRequest>(bytes);
              if (!request.ok()) return request.status();
              AccessPlan plan;
              plan.project = request->project();
              // A named project must exist and be visible; every job is filtered anyway.
              if (!plan.project.empty()) {
                auto catalog = catalogs.Find(plan.project);
                if (!catalog.ok()) return catalog.status();
                AddCheck(plan, catalogs, plan.project, Permission::DESCRIBE, v1::PROJECT,
                         plan.project);
              }
              return plan;
            },
            KeepDescribable(&mat::ListJobsResponse::mutable_jobs)});
  // Their answers are the job too: kept from a caller who may not see every view it covers.
  add(jobs + "CancelJob",
      Route{Upstream::kMaterializer, false, false, OnJob<mat::CancelJobRequest>(Permission::UPDATE),
            RequireDescribable<mat::Job>});
  add(jobs + "WatchJob",
      Route{Upstream::kMaterializer, false, true, OnJob<mat::WatchJobRequest>(Permission::DESCRIBE),
            RequireDescribable<mat::Job>});
  add(jobs + "GetHistoricalFeatures", Route{Upstream::kMaterializer, false, true, PlanHistorical});

  const std::string letters = "/granary.deadletter.v1.DeadLetterService/";
  add(letters + "ListDeadLetters",
      Route{Upstream::kMaterializer, false, false,
            OnDeadLetters<dl::ListDeadLettersRequest>(Permission::DESCRIBE),
            KeepDescribable(&dl::ListDeadLettersResponse::mutable_letters)});
  add(letters + "GetDeadLetter",
      Route{Upstream::kMaterializer, false, false,
            [](const std::string& bytes, Catalogs&) -> absl::StatusOr<AccessPlan> {
              auto request = ParseRequest<dl::GetDeadLetterRequest>(bytes);
              if (!request.ok()) return request.status();
              return AccessPlan{};
            },
            RequireDescribable<dl::DeadLetter>});
  add(letters + "ReplayDeadLetters",
      Route{Upstream::kMaterializer, false, false,
            OnDeadLetters<dl::ReplayDeadLettersRequest>(Permission::UPDATE)});
  add(letters + "PurgeDeadLetters",
      Route{Upstream::kMaterializer, false, false,
            OnDeadLetters<dl::PurgeDeadLettersRequest>(Permission::UPDATE)});
}

}  // namespace granary::gateway
