// GET /api/v1/projects/{project}/history, /jobs and /health: what the UI shows beside the
// definitions. Each backend call goes through the route table like any other (history and
// jobs need DESCRIBE on the project, and jobs and dead letters are kept only when the caller
// may DESCRIBE every view they name; the health route's feature views are those the caller may
// DESCRIBE), so the UI cannot show more than the caller's gRPC calls would.
#include <functional>
#include <map>
#include <set>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "granary/deadletter/v1/deadletter.pb.h"
#include "granary/materialization/v1/materialization.pb.h"
#include "granary/registry/v1/registry_service.pb.h"

#include "services/gateway/http_api.h"

namespace granary::gateway {
namespace {

using json = nlohmann::json;
namespace mat = materialization::v1;

constexpr int kHealthJobs = 20;
// Pages of 1,000 dead letters counted per project at most (`dead_letters_capped` says so, and
// the page shows "at least").
constexpr int kDeadLetterPages = 10;

json ProtoToJson(const google::protobuf::Message& message) {
  absl::StatusOr<std::string> text = PrintProtoJson(message);
  return text.ok() ? json::parse(*text, nullptr, false) : json(nullptr);
}

}  // namespace

absl::StatusOr<std::string> HttpApi::ExtraBackend(const std::string& method,
                                                  const std::string& request, Call& call) {
  AuditEntry entry = call.entry;
  entry.method = method;
  entry.resources.clear();
  entry.decision.clear();
  absl::StatusOr<std::string> answer =
      backend_->Unary(method, request, call.who, timeout_, call.traceparent, &entry);
  ProxyDeps& deps = backend_->deps();
  entry.status = absl::StatusCodeToString(answer.status().code());
  entry.latency = deps.clock->Now() - entry.time;
  if (!entry.decision.empty() && deps.audit != nullptr) deps.audit->Write(entry);
  return answer;
}

HttpResponse HttpApi::History(const std::string& project, const HttpRequest& request, Call& call) {
  registry::v1::ListHistoryRequest list;
  list.set_project(project);
  int32_t page_size = 0;
  absl::Status query = ReadPageQuery(request, &page_size, list.mutable_page_token());
  if (!query.ok()) {
    call.entry.decision = "invalid";
    return ErrorResponse(query);
  }
  list.set_page_size(page_size);
  // A project that does not exist is NOT_FOUND (the permission check alone would say 403).
  auto catalog = backend_->deps().authorizer->catalogs().Find(project);
  if (!catalog.ok()) {
    call.entry.decision = "invalid";
    return ErrorResponse(catalog.status());
  }
  auto answer =
      Backend("/granary.registry.v1.RegistryService/ListHistory", list.SerializeAsString(), call);
  if (!answer.ok()) return ErrorResponse(answer.status());
  registry::v1::ListHistoryResponse response;
  return ProtoJson(*answer, &response);
}

HttpResponse HttpApi::Jobs(const std::string& project, const HttpRequest& request, Call& call) {
  mat::ListJobsRequest list;
  list.set_project(project);
  int32_t page_size = 0;
  absl::Status query = ReadPageQuery(
      request, &page_size, list.mutable_page_token(),
      {{"state", [&list](const std::string& value) {
          mat::JobState state = mat::JOB_STATE_UNSPECIFIED;
          if (!mat::JobState_Parse(value, &state) || state == mat::JOB_STATE_UNSPECIFIED) {
            return absl::InvalidArgumentError(
                absl::StrCat("state: no job state \"", value,
                             "\" (PENDING, RUNNING, SUCCEEDED, FAILED, CANCELLED)"));
          }
          list.set_state(state);
          return absl::OkStatus();
        }}});
  if (!query.ok()) {
    call.entry.decision = "invalid";
    return ErrorResponse(query);
  }
  list.set_page_size(page_size);
  auto answer = Backend("/granary.materialization.v1.MaterializationService/ListJobs",
                        list.SerializeAsString(), call);
  if (!answer.ok()) return ErrorResponse(answer.status());
  mat::ListJobsResponse response;
  return ProtoJson(*answer, &response);
}

HttpResponse HttpApi::Health(const std::string& project, const HttpRequest& request, Call& call) {
  if (!request.query.empty()) {
    call.entry.decision = "invalid";
    return ErrorResponse(absl::InvalidArgumentError(
        absl::StrCat("query: unknown parameter \"", request.query.begin()->first, "\"")));
  }
  // The views the caller may see decide what the page shows: their TTLs from the catalog.
  registry::v1::ListObjectsRequest list;
  list.set_project(project);
  list.set_page_size(1000);
  auto views_answer = Backend("/granary.registry.v1.RegistryService/ListFeatureViews",
                              list.SerializeAsString(), call);
  if (!views_answer.ok()) return ErrorResponse(views_answer.status());
  registry::v1::ListFeatureViewsResponse views;
  if (!views.ParseFromString(*views_answer)) {
    return ErrorResponse(absl::InternalError("bad response from the registry"));
  }
  json errors = json::array();
  HealthSample sample;
  if (health_ != nullptr) {
    sample = health_->Sample();
    // Which endpoints (internal addresses) is for the gateway's log, not for every reader.
    if (!sample.errors.empty()) {
      errors.push_back(absl::StrCat("freshness and push rates: ", sample.errors.size(),
                                    " of the materializers' metrics endpoints could not be read "
                                    "(the gateway's log names them); push rates are not shown"));
    }
  } else {
    sample.sampled_at = backend_->deps().clock->Now();
    errors.push_back(
        "freshness and push rates: no metrics endpoints configured (gateway.ui.metrics)");
  }

  std::map<std::string, int64_t> dead_letters;
  bool letters_capped = false;
  {
    deadletter::v1::ListDeadLettersRequest letters;
    letters.mutable_filter()->set_project(project);
    letters.set_page_size(1000);
    for (int page = 0;; ++page) {
      if (page == kDeadLetterPages) {
        letters_capped = true;
        break;
      }
      auto answer = ExtraBackend("/granary.deadletter.v1.DeadLetterService/ListDeadLetters",
                                 letters.SerializeAsString(), call);
      deadletter::v1::ListDeadLettersResponse response;
      if (!answer.ok() || !response.ParseFromString(*answer)) {
        errors.push_back(absl::StrCat("dead letters: ",
                                      answer.ok() ? "bad response" : answer.status().message()));
        break;
      }
      for (const auto& letter : response.letters()) ++dead_letters[letter.feature_view()];
      if (response.next_page_token().empty()) break;
      letters.set_page_token(response.next_page_token());
    }
  }

  json body = {
      {"project", project},
      {"sampled_at", absl::FormatTime(absl::RFC3339_full, sample.sampled_at, absl::UTCTimeZone())},
      {"dead_letters_capped", letters_capped}};
  json out_views = json::array();
  for (const auto& view : views.feature_views()) {
    json v = {{"name", view.name()}, {"dead_letters", dead_letters[view.name()]}};
    if (view.has_ttl() && view.ttl().seconds() > 0) v["ttl_seconds"] = view.ttl().seconds();
    // Nothing pushed to it in the window the rates cover: 0, not unknown.
    if (sample.rates_known) v["pushed_rows_per_second"] = 0.0;
    auto it = sample.views.find({project, view.name()});
    if (it != sample.views.end()) {
      if (it->second.newest_event_age_seconds) {
        v["newest_event_age_seconds"] = *it->second.newest_event_age_seconds;
      }
      if (it->second.pushed_rows_per_second) {
        v["pushed_rows_per_second"] = *it->second.pushed_rows_per_second;
      }
    }
    out_views.push_back(std::move(v));
  }
  body["feature_views"] = std::move(out_views);

  // The latest jobs, and every running or pending one however old.
  json out_jobs = json::array();
  std::set<std::string> seen;
  for (mat::JobState state : {mat::RUNNING, mat::PENDING, mat::JOB_STATE_UNSPECIFIED}) {
    mat::ListJobsRequest jobs;
    jobs.set_project(project);
    jobs.set_state(state);
    jobs.set_page_size(state == mat::JOB_STATE_UNSPECIFIED ? kHealthJobs : 1000);
    auto answer = ExtraBackend("/granary.materialization.v1.MaterializationService/ListJobs",
                               jobs.SerializeAsString(), call);
    mat::ListJobsResponse list;
    if (!answer.ok() || !list.ParseFromString(*answer)) {
      errors.push_back(
          absl::StrCat("jobs: ", answer.ok() ? "bad response" : answer.status().message()));
      break;
    }
    for (const auto& job : list.jobs()) {
      if (seen.insert(job.job_id()).second) out_jobs.push_back(ProtoToJson(job));
    }
  }
  body["jobs"] = std::move(out_jobs);
  body["errors"] = std::move(errors);
  return {200, "application/json", body.dump(-1, ' ', false, json::error_handler_t::replace), {}};
}

}  // namespace granary::gateway
