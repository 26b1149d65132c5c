// The gRPC adapter of MaterializationService: request in, Jobs or Historical call, response
// out. Every handler first checks the gateway's signature on the call
// (server.gateway_signature); a job's creator is the user the gateway signed for.
#ifndef GRANARY_SERVICES_MATERIALIZER_MATERIALIZATION_GRPC_H_
#define GRANARY_SERVICES_MATERIALIZER_MATERIALIZATION_GRPC_H_

#include <memory>

#include "granary/materialization/v1/materialization.grpc.pb.h"

#include "libs/server/caller_check.h"
#include "services/materializer/historical.h"
#include "services/materializer/jobs.h"

namespace granary::materializer {

class MaterializationGrpc final : public materialization::v1::MaterializationService::Service {
 public:
  MaterializationGrpc(std::shared_ptr<Jobs> jobs, std::shared_ptr<Historical> historical,
                      server::CallerCheck callers)
      : jobs_(std::move(jobs)), historical_(std::move(historical)), callers_(std::move(callers)) {}

  grpc::Status Materialize(grpc::ServerContext* context,
                           const materialization::v1::MaterializeRequest* request,
                           materialization::v1::Job* response) override;
  grpc::Status MaterializeIncremental(
      grpc::ServerContext* context,
      const materialization::v1::MaterializeIncrementalRequest* request,
      materialization::v1::Job* response) override;
  grpc::Status GetJob(grpc::ServerContext*, const materialization::v1::GetJobRequest* request,
                      materialization::v1::Job* response) override;
  grpc::Status ListJobs(grpc::ServerContext*, const materialization::v1::ListJobsRequest* request,
                        materialization::v1::ListJobsResponse* response) override;
  grpc::Status CancelJob(grpc::ServerContext*, const materialization::v1::CancelJobRequest* request,
                         materialization::v1::Job* response) override;
  grpc::Status WatchJob(grpc::ServerContext* context,
                        const materialization::v1::WatchJobRequest* request,
                        grpc::ServerWriter<materialization::v1::Job>* writer) override;
  grpc::Status GetHistoricalFeatures(
      grpc::ServerContext* context,
      const materialization::v1::GetHistoricalFeaturesRequest* request,
      grpc::ServerWriter<materialization::v1::GetHistoricalFeaturesResponse>* writer) override;

 private:
  const std::shared_ptr<Jobs> jobs_;
  const std::shared_ptr<Historical> historical_;
  const server::CallerCheck callers_;
};

}  // namespace granary::materializer

#endif  // GRANARY_SERVICES_MATERIALIZER_MATERIALIZATION_GRPC_H_
