// The gateway's side of the signature a backend requires (server.gateway_signature), for
// tests of backends: a shared secret in a file, the config that points at it, and metadata
// signed right, signed wrong, or for another method, for CallEveryMethod (grpc_probes.h).
//
//   ASSERT_OK_AND_ASSIGN(TestGateway gateway, TestGateway::Create());
//   StartInProcess(Definition(), absl::StrCat("server: {", gateway.RequiredConfig(), "}\n..."));
//   ctx.AddMetadata(gateway.Header("alice", "/granary.registry.v1.RegistryService/Apply"));
//   CallEveryMethod(channel, "granary.registry.v1.RegistryService", gateway.SignedExpired());
#ifndef GRANARY_LIBS_TESTING_TEST_GATEWAY_H_
#define GRANARY_LIBS_TESTING_TEST_GATEWAY_H_

#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "grpcpp/client_context.h"

#include "libs/testing/grpc_probes.h"
#include "libs/testing/temp_dir.h"

namespace granary::testing {

class TestGateway {
 public:
  // A fresh random secret, in a file under the test's temporary folder.
  static absl::StatusOr<TestGateway> Create();

  const std::string& secret_file() const { return secret_file_; }
  // "gateway_signature: {required: true, secret_file: '...'}", for a `server:` mapping.
  std::string RequiredConfig() const;

  // Signs `user` for a call to `path` ("/pkg.Service/Method") at `now`, valid for a minute.
  std::string Sign(absl::string_view user, absl::string_view path,
                   absl::Time now = absl::Now()) const;
  // Adds the signature to a client call.
  void Authorize(grpc::ClientContext& ctx, absl::string_view user, absl::string_view path) const;

  // Metadata for CallEveryMethod: signed right for each method called.
  MetadataForMethod SignedFor(std::string user) const;
  // ... signed with a secret other than this one (what a forger can do).
  MetadataForMethod SignedWithAnotherSecret() const;
  // ... signed right, but for a method other than the one called (a replay).
  MetadataForMethod SignedForAnotherMethod() const;
  // ... signed right, but so long ago that it expired beyond any leeway.
  MetadataForMethod SignedExpired() const;
  // The ways a call without the gateway's valid signature comes, each named: none at all,
  // and the three above.
  std::vector<std::pair<std::string, MetadataForMethod>> WrongSignatures() const;

 private:
  TestGateway(TempDir dir, std::string secret_file, std::string secret)
      : dir_(std::move(dir)), secret_file_(std::move(secret_file)), secret_(std::move(secret)) {}

  TempDir dir_;
  std::string secret_file_;
  std::string secret_;
};

}  // namespace granary::testing

#endif  // GRANARY_LIBS_TESTING_TEST_GATEWAY_H_
