#include "services/materializer/dead_letter_grpc.h"

#include "libs/base/grpc_status.h"

namespace granary::materializer {
namespace {

template <typename T>
grpc::Status Answer(absl::StatusOr<T> result, T* response) {
  if (!result.ok()) return base::ToGrpcStatus(result.status());
  *response = std::move(*result);
  return grpc::Status::OK;
}

}  // namespace

grpc::Status DeadLetterGrpc::ListDeadLetters(grpc::ServerContext*,
                                             const deadletter::v1::ListDeadLettersRequest* request,
                                             deadletter::v1::ListDeadLettersResponse* response) {
  return Answer(letters_->List(*request), response);
}

grpc::Status DeadLetterGrpc::GetDeadLetter(grpc::ServerContext*,
                                           const deadletter::v1::GetDeadLetterRequest* request,
                                           deadletter::v1::DeadLetter* response) {
  return Answer(letters_->Get(request->sequence()), response);
}

grpc::Status DeadLetterGrpc::ReplayDeadLetters(
    grpc::ServerContext*, const deadletter::v1::ReplayDeadLettersRequest* request,
    deadletter::v1::ReplayDeadLettersResponse* response) {
  return Answer(letters_->Replay(*request), response);
}

grpc::Status DeadLetterGrpc::PurgeDeadLetters(
    grpc::ServerContext*, const deadletter::v1::PurgeDeadLettersRequest* request,
    deadletter::v1::PurgeDeadLettersResponse* response) {
  return Answer(letters_->Purge(*request), response);
}

}  // namespace granary::materializer
