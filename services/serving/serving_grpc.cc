#include "services/serving/serving_grpc.h"

#include "absl/strings/str_cat.h"

#include "libs/base/version.h"

namespace granary::serving {
namespace {

grpc::Status ServingInfo(v1::GetFeastServingInfoResponse* response) {
  response->set_version(absl::StrCat("granary ", base::kVersion));
  return grpc::Status::OK;
}

}  // namespace

grpc::Status ServingGrpc::GetFeastServingInfo(grpc::ServerContext*,
                                              const v1::GetFeastServingInfoRequest*,
                                              v1::GetFeastServingInfoResponse* response) {
  return ServingInfo(response);
}

grpc::Status FeastServingGrpc::GetFeastServingInfo(grpc::ServerContext*,
                                                   const v1::GetFeastServingInfoRequest*,
                                                   v1::GetFeastServingInfoResponse* response) {
  return ServingInfo(response);
}

}  // namespace granary::serving
