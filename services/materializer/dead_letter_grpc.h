// The gRPC adapter of DeadLetterService: request in, DeadLetters call, response out. Every
// handler first checks the gateway's signature on the call (server.gateway_signature).
#ifndef GRANARY_SERVICES_MATERIALIZER_DEAD_LETTER_GRPC_H_
#define GRANARY_SERVICES_MATERIALIZER_DEAD_LETTER_GRPC_H_

#include <memory>

#include "granary/deadletter/v1/deadletter.grpc.pb.h"

#include "libs/server/caller_check.h"
#include "services/materializer/dead_letters.h"

namespace granary::materializer {

class DeadLetterGrpc final : public deadletter::v1::DeadLetterService::Service {
 public:
  DeadLetterGrpc(std::shared_ptr<DeadLetters> letters, server::CallerCheck callers)
      : letters_(std::move(letters)), callers_(std::move(callers)) {}

  grpc::Status ListDeadLetters(grpc::ServerContext*,
                               const deadletter::v1::ListDeadLettersRequest* request,
                               deadletter::v1::ListDeadLettersResponse* response) override;
  grpc::Status GetDeadLetter(grpc::ServerContext*,
                             const deadletter::v1::GetDeadLetterRequest* request,
                             deadletter::v1::DeadLetter* response) override;
  grpc::Status ReplayDeadLetters(grpc::ServerContext*,
                                 const deadletter::v1::ReplayDeadLettersRequest* request,
                                 deadletter::v1::ReplayDeadLettersResponse* response) override;
  grpc::Status PurgeDeadLetters(grpc::ServerContext*,
                                const deadletter::v1::PurgeDeadLettersRequest* request,
                                deadletter::v1::PurgeDeadLettersResponse* response) override;

 private:
  const std::shared_ptr<DeadLetters> letters_;
  const server::CallerCheck callers_;
};

}  // namespace granary::materializer

#endif  // GRANARY_SERVICES_MATERIALIZER_DEAD_LETTER_GRPC_H_
