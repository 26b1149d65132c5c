#include "libs/testing/test_gateway.h"

#include <fstream>
#include <random>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "google/protobuf/descriptor.h"

#include "libs/auth/caller_signature.h"

namespace granary::testing {
namespace {

constexpr absl::Duration kTtl = absl::Minutes(1);

std::string RandomSecret() {
  std::random_device random;
  std::string bytes(32, '\0');
  for (char& c : bytes) c = static_cast<char>(random());
  return absl::WebSafeBase64Escape(bytes);
}

std::string SignWith(const std::string& secret, absl::string_view user, absl::string_view path,
                     absl::Time now) {
  auth::Identity who;
  who.user = std::string(user);
  who.roles = {"admin"};
  return auth::CallerSigner(config::Secret::FromValue(secret, "test"), kTtl).Sign(who, path, now);
}

std::vector<std::pair<std::string, std::string>> Header(std::string value) {
  return {{auth::kCallerSignatureHeader, std::move(value)}};
}

// Another method of the same service (what a replayed header was signed for), or of
// grpc.health.v1.Health when the service has one method.
std::string AnotherMethod(const std::string& path) {
  std::vector<std::string> parts = absl::StrSplit(path, '/');
  const google::protobuf::ServiceDescriptor* service =
      parts.size() == 3
          ? google::protobuf::DescriptorPool::generated_pool()->FindServiceByName(parts[1])
          : nullptr;
  for (int i = 0; service != nullptr && i < service->method_count(); ++i) {
    if (service->method(i)->name() != parts[2]) {
      return absl::StrCat("/", parts[1], "/", service->method(i)->name());
    }
  }
  return "/grpc.health.v1.Health/Check";
}

}  // namespace

absl::StatusOr<TestGateway> TestGateway::Create() {
  absl::StatusOr<TempDir> dir = TempDir::Create("gateway");
  if (!dir.ok()) return dir.status();
  std::string file = absl::StrCat(dir->path(), "/gateway-signature");
  std::string secret = RandomSecret();
  std::ofstream out(file);
  out << secret << "\n";
  out.close();
  if (!out) return absl::InternalError(absl::StrCat("cannot write ", file));
  return TestGateway(*std::move(dir), std::move(file), std::move(secret));
}

std::string TestGateway::RequiredConfig() const {
  return absl::StrCat("gateway_signature: {required: true, secret_file: '", secret_file_, "'}");
}

std::string TestGateway::Sign(absl::string_view user, absl::string_view path,
                              absl::Time now) const {
  return SignWith(secret_, user, path, now);
}

void TestGateway::Authorize(grpc::ClientContext& ctx, absl::string_view user,
                            absl::string_view path) const {
  ctx.AddMetadata(auth::kCallerSignatureHeader, Sign(user, path));
}

MetadataForMethod TestGateway::SignedFor(std::string user) const {
  return [secret = secret_, user = std::move(user)](const std::string& path) {
    return Header(SignWith(secret, user, path, absl::Now()));
  };
}

MetadataForMethod TestGateway::SignedWithAnotherSecret() const {
  return [other = RandomSecret()](const std::string& path) {
    return Header(SignWith(other, "admin", path, absl::Now()));
  };
}

MetadataForMethod TestGateway::SignedForAnotherMethod() const {
  return [secret = secret_](const std::string& path) {
    return Header(SignWith(secret, "admin", AnotherMethod(path), absl::Now()));
  };
}

MetadataForMethod TestGateway::SignedExpired() const {
  return [secret = secret_](const std::string& path) {
    // Past the TTL and past the leeway a backend may allow (at most 5 minutes).
    return Header(SignWith(secret, "admin", path, absl::Now() - kTtl - absl::Minutes(6)));
  };
}

std::vector<std::pair<std::string, MetadataForMethod>> TestGateway::WrongSignatures() const {
  return {{"no signature", nullptr},
          {"signed with another secret", SignedWithAnotherSecret()},
          {"signed for another method", SignedForAnotherMethod()},
          {"expired", SignedExpired()}};
}

}  // namespace granary::testing
