// The gRPC adapter of MaterializationService: request in, Jobs call, response out.
// GetHistoricalFeatures answers UNIMPLEMENTED until historical retrieval lands.
#ifndef GRANARY_SERVICES_MATERIALIZER_JOBS_GRPC_H_
#define GRANARY_SERVICES_MATERIALIZER_JOBS_GRPC_H_

#include <memory>

#include "granary/materialization/v1/materialization.grpc.pb.h"

#include "services/materializer/jobs.h"

namespace granary::materializer {

class JobsGrpc final : public materialization::v1::MaterializationService::Service {
 public:
  explicit JobsGrpc(std::shared_ptr<Jobs> jobs) : jobs_(std::move(jobs)) {}

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

 private:
  const std::shared_ptr<Jobs> jobs_;
};

}  // namespace granary::materializer

#endif  // GRANARY_SERVICES_MATERIALIZER_JOBS_GRPC_H_
