#include "services/materializer/dead_letter_grpc.h"

#include "libs/base/grpc_status.h"

namespace granary::materializer {

using base::Reply;

namespace {

constexpr const char* kService = deadletter::v1::DeadLetterService::service_full_name();

}  // namespace

grpc::Status DeadLetterGrpc::ListDeadLetters(grpc::ServerContext* context,
                                             const deadletter::v1::ListDeadLettersRequest* request,
                                             deadletter::v1::ListDeadLettersResponse* response) {
  if (grpc::Status refused = callers_.Check(*context, kService, "ListDeadLetters"); !refused.ok()) {
    return refused;
  }
  return Reply(letters_->List(*request), response);
}

grpc::Status DeadLetterGrpc::GetDeadLetter(grpc::ServerContext* context,
                                           const deadletter::v1::GetDeadLetterRequest* request,
                                           deadletter::v1::DeadLetter* response) {
  if (grpc::Status refused = callers_.Check(*context, kService, "GetDeadLetter"); !refused.ok()) {
    return refused;
  }
  return Reply(letters_->Get(request->sequence()), response);
}

grpc::Status DeadLetterGrpc::ReplayDeadLetters(
    grpc::ServerContext* context, const deadletter::v1::ReplayDeadLettersRequest* request,
    deadletter::v1::ReplayDeadLettersResponse* response) {
  if (grpc::Status refused = callers_.Check(*context, kService, "ReplayDeadLetters");
      !refused.ok()) {
    return refused;
  }
  return Reply(letters_->Replay(*request), response);
}

grpc::Status DeadLetterGrpc::PurgeDeadLetters(
    grpc::ServerContext* context, const deadletter::v1::PurgeDeadLettersRequest* request,
    deadletter::v1::PurgeDeadLettersResponse* response) {
  if (grpc::Status refused = callers_.Check(*context, kService, "PurgeDeadLetters");
      !refused.ok()) {
    return refused;
  }
  return Reply(letters_->Purge(*request), response);
}

}  // namespace granary::materializer
