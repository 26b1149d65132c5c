// A gRPC ByteBuffer as one string of bytes and back: what the proxy parses for its checks and
// what it forwards when a request is rewritten.
#ifndef GRANARY_SERVICES_GATEWAY_BYTE_BUFFERS_H_
#define GRANARY_SERVICES_GATEWAY_BYTE_BUFFERS_H_

#include <string>

#include "grpcpp/support/byte_buffer.h"

namespace granary::gateway {

// The buffer's bytes, its slices joined (empty when it holds none).
std::string Flatten(const grpc::ByteBuffer& buffer);
grpc::ByteBuffer FromString(const std::string& bytes);

}  // namespace granary::gateway

#endif  // GRANARY_SERVICES_GATEWAY_BYTE_BUFFERS_H_
