#include "services/materializer/dead_letter_grpc.h"

#include "libs/base/grpc_status.h"

namespace granary::materializer {

using base::Reply;

grpc::Status DeadLetterGrpc::ListDeadLetters(grpc::ServerContext*,
                                             const deadletter::v1::ListDeadLettersRequest* request,
                                             deadletter::v1::ListDeadLettersResponse* response) {
  return Reply(letters_->List(*request), response);
}

grpc::Status DeadLetterGrpc::GetDeadLetter(grpc::ServerContext*,
                                           const deadletter::v1::GetDeadLetterRequest* request,
                                           deadletter::v1::DeadLetter* response) {
  return Reply(letters_->Get(request->sequence()), response);
}

grpc::Status DeadLetterGrpc::ReplayDeadLetters(
    grpc::ServerContext*, const deadletter::v1::ReplayDeadLettersRequest* request,
    deadletter::v1::ReplayDeadLettersResponse* response) {
  return Reply(letters_->Replay(*request), response);
}

grpc::Status DeadLetterGrpc::PurgeDeadLetters(
    grpc::ServerContext*, const deadletter::v1::PurgeDeadLettersRequest* request,
    deadletter::v1::PurgeDeadLettersResponse* response) {
  return Reply(letters_->Purge(*request), response);
}

}  // namespace granary::materializer
