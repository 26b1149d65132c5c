// Every channel the CLI opens comes from here, so that every call carries the caller's bearer
// token (`authorization: Bearer <token>`). Plaintext channels carry no call credentials, so a
// client interceptor adds the header to each call instead.
//
//   Target registry{.address = "127.0.0.1:6565", .token = token, .token_source = "--token"};
//   auto stub = RegistryService::NewStub(OpenChannel(registry));
//   ... on failure: err << status.message() << AuthHint(registry, status.code());
#ifndef GRANARY_TOOLS_CLI_CHANNEL_H_
#define GRANARY_TOOLS_CLI_CHANNEL_H_

#include <memory>
#include <string>

#include "absl/status/status.h"

namespace grpc {
class Channel;
}

namespace granary::cli {

// One service as the CLI reaches it.
struct Target {
  // host:port: the gateway's, or the service's own.
  std::string address;
  // Sent with every call; empty sends none. Never printed.
  std::string token;
  // Where the token came from ("--token", "$GRANARY_TOKEN", a file), for messages.
  std::string token_source;
};

// A plaintext channel to target.address that adds the token to every call and reconnects
// within about 2 s (as rpc::InsecureChannel).
std::shared_ptr<grpc::Channel> OpenChannel(const Target& target);

// What to add to the message of a call the target refused as UNAUTHENTICATED: which token was
// sent (by its source, never its value), or that none was and how to get one. "" for any
// other code.
std::string AuthHint(const Target& target, absl::StatusCode code);

}  // namespace granary::cli

#endif  // GRANARY_TOOLS_CLI_CHANNEL_H_
