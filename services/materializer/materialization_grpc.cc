#include "services/materializer/materialization_grpc.h"

#include "libs/base/grpc_status.h"
#include "libs/trace/grpc_server_tracing.h"

namespace granary::materializer {

namespace v1 = materialization::v1;
using base::Reply;

namespace {

constexpr const char* kService = v1::MaterializationService::service_full_name();

}  // namespace

grpc::Status MaterializationGrpc::Materialize(grpc::ServerContext* context,
                                              const v1::MaterializeRequest* request,
                                              v1::Job* response) {
  absl::StatusOr<std::string> caller = callers_.CallerUser(*context, kService, "Materialize");
  if (!caller.ok()) return base::ToGrpcStatus(caller.status());
  return Reply(jobs_->Materialize(*request, *caller, request->force(),
                                  std::string(trace::TraceparentOf(*context))),
               response);
}

grpc::Status MaterializationGrpc::MaterializeIncremental(
    grpc::ServerContext* context, const v1::MaterializeIncrementalRequest* request,
    v1::Job* response) {
  absl::StatusOr<std::string> caller =
      callers_.CallerUser(*context, kService, "MaterializeIncremental");
  if (!caller.ok()) return base::ToGrpcStatus(caller.status());
  return Reply(jobs_->MaterializeIncremental(*request, *caller, request->force(),
                                             std::string(trace::TraceparentOf(*context))),
               response);
}

grpc::Status MaterializationGrpc::GetJob(grpc::ServerContext* context,
                                         const v1::GetJobRequest* request, v1::Job* response) {
  if (grpc::Status refused = callers_.Check(*context, kService, "GetJob"); !refused.ok()) {
    return refused;
  }
  return Reply(jobs_->Get(request->job_id()), response);
}

grpc::Status MaterializationGrpc::ListJobs(grpc::ServerContext* context,
                                           const v1::ListJobsRequest* request,
                                           v1::ListJobsResponse* response) {
  if (grpc::Status refused = callers_.Check(*context, kService, "ListJobs"); !refused.ok()) {
    return refused;
  }
  return Reply(jobs_->List(*request), response);
}

grpc::Status MaterializationGrpc::CancelJob(grpc::ServerContext* context,
                                            const v1::CancelJobRequest* request,
                                            v1::Job* response) {
  if (grpc::Status refused = callers_.Check(*context, kService, "CancelJob"); !refused.ok()) {
    return refused;
  }
  return Reply(jobs_->Cancel(request->job_id()), response);
}

grpc::Status MaterializationGrpc::WatchJob(grpc::ServerContext* context,
                                           const v1::WatchJobRequest* request,
                                           grpc::ServerWriter<v1::Job>* writer) {
  if (grpc::Status refused = callers_.Check(*context, kService, "WatchJob"); !refused.ok()) {
    return refused;
  }
  return base::ToGrpcStatus(jobs_->Watch(
      request->job_id(), [writer](const v1::Job& job) { return writer->Write(job); },
      [context] { return context->IsCancelled(); }));
}

grpc::Status MaterializationGrpc::GetHistoricalFeatures(
    grpc::ServerContext* context, const v1::GetHistoricalFeaturesRequest* request,
    grpc::ServerWriter<v1::GetHistoricalFeaturesResponse>* writer) {
  if (grpc::Status refused = callers_.Check(*context, kService, "GetHistoricalFeatures");
      !refused.ok()) {
    return refused;
  }
  return base::ToGrpcStatus(historical_->Run(
      *request,
      [writer, context](const v1::GetHistoricalFeaturesResponse& part) {
        return !context->IsCancelled() && writer->Write(part);
      },
      absl::FromChrono(context->deadline())));
}

}  // namespace granary::materializer
