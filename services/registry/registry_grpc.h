// The gRPC adapter of the registry. Every RPC answers UNIMPLEMENTED until the catalog lands.
#ifndef GRANARY_SERVICES_REGISTRY_REGISTRY_GRPC_H_
#define GRANARY_SERVICES_REGISTRY_REGISTRY_GRPC_H_

#include "granary/registry/v1/registry_service.grpc.pb.h"

namespace granary::registry {

class RegistryGrpc final : public v1::RegistryService::Service {};

}  // namespace granary::registry

#endif  // GRANARY_SERVICES_REGISTRY_REGISTRY_GRPC_H_
