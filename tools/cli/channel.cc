#include "tools/cli/channel.h"

#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "grpcpp/create_channel.h"
#include "grpcpp/security/credentials.h"
#include "grpcpp/support/client_interceptor.h"
#include "grpcpp/support/interceptor.h"

namespace granary::cli {
namespace {

namespace ge = ::grpc::experimental;

// Adds the authorization header to the call it was made for, before its metadata goes out.
class BearerInterceptor : public ge::Interceptor {
 public:
  explicit BearerInterceptor(std::string header) : header_(std::move(header)) {}

  void Intercept(ge::InterceptorBatchMethods* methods) override {
    if (methods->QueryInterceptionHookPoint(
            ge::InterceptionHookPoints::PRE_SEND_INITIAL_METADATA)) {
      methods->GetSendInitialMetadata()->insert({"authorization", header_});
    }
    methods->Proceed();
  }

 private:
  const std::string header_;
};

class BearerInterceptorFactory : public ge::ClientInterceptorFactoryInterface {
 public:
  explicit BearerInterceptorFactory(const std::string& token)
      : header_(absl::StrCat("Bearer ", token)) {}

  ge::Interceptor* CreateClientInterceptor(ge::ClientRpcInfo* /*info*/) override {
    return new BearerInterceptor(header_);
  }

 private:
  const std::string header_;
};

}  // namespace

std::shared_ptr<grpc::Channel> OpenChannel(const Target& target) {
  grpc::ChannelArguments args;
  args.SetInt(GRPC_ARG_INITIAL_RECONNECT_BACKOFF_MS, 100);
  args.SetInt(GRPC_ARG_MIN_RECONNECT_BACKOFF_MS, 100);
  args.SetInt(GRPC_ARG_MAX_RECONNECT_BACKOFF_MS, 2000);
  std::vector<std::unique_ptr<ge::ClientInterceptorFactoryInterface>> interceptors;
  if (!target.token.empty()) {
    interceptors.push_back(std::make_unique<BearerInterceptorFactory>(target.token));
  }
  return ge::CreateCustomChannelWithInterceptors(target.address, grpc::InsecureChannelCredentials(),
                                                 args, std::move(interceptors));
}

std::string AuthHint(const Target& target, absl::StatusCode code) {
  if (code != absl::StatusCode::kUnauthenticated) return "";
  if (target.token.empty()) {
    return " [no token was sent: pass --token, set $GRANARY_TOKEN or auth.token_file in "
           "granary.yaml; for the local stack, `granary token --user NAME --roles reader` "
           "mints one]";
  }
  return absl::StrCat(" [the token from ", target.token_source,
                      " was refused: expired, or not signed for this gateway?]");
}

}  // namespace granary::cli
