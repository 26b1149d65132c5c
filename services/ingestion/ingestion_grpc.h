// The gRPC adapter of the ingestion service. Push and PushStream answer UNIMPLEMENTED until
// durable ingestion lands.
#ifndef GRANARY_SERVICES_INGESTION_INGESTION_GRPC_H_
#define GRANARY_SERVICES_INGESTION_INGESTION_GRPC_H_

#include "granary/ingestion/v1/ingestion.grpc.pb.h"

namespace granary::ingestion {

class IngestionGrpc final : public v1::IngestionService::Service {};

}  // namespace granary::ingestion

#endif  // GRANARY_SERVICES_INGESTION_INGESTION_GRPC_H_
