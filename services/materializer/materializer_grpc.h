// The gRPC adapter of the materializer. Every RPC answers UNIMPLEMENTED until materialization
// and historical retrieval land.
#ifndef GRANARY_SERVICES_MATERIALIZER_MATERIALIZER_GRPC_H_
#define GRANARY_SERVICES_MATERIALIZER_MATERIALIZER_GRPC_H_

#include "granary/materialization/v1/materialization.grpc.pb.h"

namespace granary::materializer {

class MaterializerGrpc final : public materialization::v1::MaterializationService::Service {};

}  // namespace granary::materializer

#endif  // GRANARY_SERVICES_MATERIALIZER_MATERIALIZER_GRPC_H_
