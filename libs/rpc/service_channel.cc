#include "libs/rpc/service_channel.h"

#include <map>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "grpcpp/grpcpp.h"
#include "grpcpp/support/client_interceptor.h"

#include "libs/auth/caller_signature.h"
#include "libs/rpc/health.h"
#include "libs/trace/trace_context.h"

namespace granary::rpc {
namespace {

using grpc::experimental::ClientInterceptorFactoryInterface;
using grpc::experimental::ClientRpcInfo;
using grpc::experimental::InterceptionHookPoints;
using grpc::experimental::Interceptor;
using grpc::experimental::InterceptorBatchMethods;

// What every call on one channel signs with.
struct Signing {
  auth::Identity who;
  auth::CallerSigner signer;
  const base::Clock* clock;
};

// One per call: adds the signature to the initial metadata, the moment it is sent.
class SigningInterceptor : public Interceptor {
 public:
  SigningInterceptor(std::shared_ptr<const Signing> signing, std::string method)
      : signing_(std::move(signing)), method_(std::move(method)) {}

  void Intercept(InterceptorBatchMethods* methods) override {
    if (methods->QueryInterceptionHookPoint(InterceptionHookPoints::PRE_SEND_INITIAL_METADATA)) {
      std::multimap<std::string, std::string>* metadata = methods->GetSendInitialMetadata();
      // A signature made for a user (a call on someone's behalf) is theirs to keep.
      if (metadata->count(auth::kCallerSignatureHeader) == 0) {
        metadata->emplace(auth::kCallerSignatureHeader,
                          signing_->signer.Sign(signing_->who, method_, signing_->clock->Now()));
      }
    }
    methods->Proceed();
  }

 private:
  const std::shared_ptr<const Signing> signing_;
  const std::string method_;
};

class SigningInterceptorFactory : public ClientInterceptorFactoryInterface {
 public:
  explicit SigningInterceptorFactory(std::shared_ptr<const Signing> signing)
      : signing_(std::move(signing)) {}

  Interceptor* CreateClientInterceptor(ClientRpcInfo* info) override {
    // info->method() is the path the call travels under ("/pkg.Service/Method"), which is
    // what the backend verifies the signature against.
    return new SigningInterceptor(signing_, info->method() == nullptr ? "" : info->method());
  }

 private:
  const std::shared_ptr<const Signing> signing_;
};

// One per call: a service's own call (a catalog poll) that no trace started gets a trace of
// its own, which the callee follows (ids in its logs) but does not record, so that background
// polls do not fill the traces.
class UnrecordedTraceInterceptor : public Interceptor {
 public:
  void Intercept(InterceptorBatchMethods* methods) override {
    if (methods->QueryInterceptionHookPoint(InterceptionHookPoints::PRE_SEND_INITIAL_METADATA)) {
      std::multimap<std::string, std::string>* metadata = methods->GetSendInitialMetadata();
      const std::string key(trace::kTraceparentHeader);
      if (metadata->count(key) == 0) {
        metadata->emplace(key, trace::ChildOf(std::nullopt, /*sample_ratio=*/0.0).Traceparent());
      }
    }
    methods->Proceed();
  }
};

class UnrecordedTraceInterceptorFactory : public ClientInterceptorFactoryInterface {
 public:
  Interceptor* CreateClientInterceptor(ClientRpcInfo*) override {
    return new UnrecordedTraceInterceptor();
  }
};

}  // namespace

auth::Identity ServiceIdentity(absl::string_view service) {
  auth::Identity who;
  who.user = absl::StrCat("service:", service);
  who.roles = {kServiceRole};
  return who;
}

std::shared_ptr<grpc::Channel> ServiceChannel(const std::string& address,
                                              const ServiceCaller& caller) {
  std::vector<std::unique_ptr<ClientInterceptorFactoryInterface>> interceptors;
  interceptors.push_back(std::make_unique<UnrecordedTraceInterceptorFactory>());
  if (!caller.secret.empty()) {
    auto signing = std::make_shared<const Signing>(
        Signing{ServiceIdentity(caller.service),
                auth::CallerSigner(caller.secret, kServiceSignatureTtl), caller.clock});
    interceptors.push_back(std::make_unique<SigningInterceptorFactory>(std::move(signing)));
  }
  return grpc::experimental::CreateCustomChannelWithInterceptors(
      address, grpc::InsecureChannelCredentials(), QuickReconnectArguments(),
      std::move(interceptors));
}

}  // namespace granary::rpc
