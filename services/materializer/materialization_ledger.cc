#include "services/materializer/materialization_ledger.h"

#include "granary/registry/v1/registry_service.grpc.pb.h"
#include "grpcpp/grpcpp.h"

#include "libs/base/grpc_status.h"
#include "libs/base/proto_time.h"
#include "libs/rpc/service_channel.h"

namespace granary::materializer {

namespace rv1 = registry::v1;

RegistryLedger::RegistryLedger(const registry_client::RegistryClientOptions& options)
    : rpc_timeout_(options.rpc_timeout),
      channel_(rpc::ServiceChannel(options.address, options.caller)) {}

absl::StatusOr<std::optional<absl::Time>> RegistryLedger::LastEnd(const std::string& project,
                                                                  const std::string& view) {
  rv1::GetMaterializationStateRequest request;
  request.set_project(project);
  request.set_feature_view(view);
  rv1::MaterializationState state;
  grpc::ClientContext context;
  context.set_deadline(absl::ToChronoTime(absl::Now() + rpc_timeout_));
  grpc::Status status =
      rv1::RegistryService::NewStub(channel_)->GetMaterializationState(&context, request, &state);
  if (!status.ok()) return base::FromGrpcStatus(status, context);
  if (!state.has_most_recent_end_time()) return std::nullopt;
  return base::FromProtoTime(state.most_recent_end_time());
}

absl::Status RegistryLedger::Record(const std::string& project, const std::string& job_id,
                                    const JobPlan::Range& range) {
  rv1::RecordMaterializationRequest request;
  request.set_project(project);
  request.set_feature_view(range.feature_view);
  rv1::MaterializationInterval* interval = request.mutable_interval();
  *interval->mutable_start_time() = base::ToProtoTime(range.start);
  *interval->mutable_end_time() = base::ToProtoTime(range.end);
  *interval->mutable_recorded_time() = base::ToProtoTime(absl::Now());
  interval->set_job_id(job_id);
  rv1::RecordMaterializationResponse response;
  grpc::ClientContext context;
  context.set_deadline(absl::ToChronoTime(absl::Now() + rpc_timeout_));
  grpc::Status status =
      rv1::RegistryService::NewStub(channel_)->RecordMaterialization(&context, request, &response);
  return status.ok() ? absl::OkStatus() : base::FromGrpcStatus(status, context);
}

}  // namespace granary::materializer
