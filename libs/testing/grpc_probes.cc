#include "libs/testing/grpc_probes.h"

#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "google/protobuf/descriptor.h"
#include "granary/testing/v1/reflection_wire.pb.h"
#include "grpc/health/v1/health.grpc.pb.h"
#include "grpcpp/generic/generic_stub.h"
#include "grpcpp/grpcpp.h"
#include "grpcpp/impl/codegen/client_unary_call.h"
#include "grpcpp/impl/codegen/rpc_method.h"
#include "grpcpp/impl/codegen/sync_stream.h"
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include "libs/base/grpc_status.h"

namespace granary::testing {

using ::grpc::health::v1::Health;
using ::grpc::health::v1::HealthCheckRequest;
using ::grpc::health::v1::HealthCheckResponse;

absl::StatusOr<HealthStatus> CheckHealth(const std::shared_ptr<grpc::Channel>& channel,
                                         absl::string_view service) {
  auto stub = Health::NewStub(channel);
  grpc::ClientContext ctx;
  ctx.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(5)));
  HealthCheckRequest req;
  req.set_service(std::string(service));
  HealthCheckResponse resp;
  grpc::Status s = stub->Check(&ctx, req, &resp);
  if (!s.ok()) return base::FromGrpcStatus(s);
  return resp.status();
}

absl::Status WaitForHealth(const std::shared_ptr<grpc::Channel>& channel, absl::string_view service,
                           HealthStatus want, absl::Duration timeout) {
  auto stub = Health::NewStub(channel);
  grpc::ClientContext ctx;
  ctx.set_deadline(absl::ToChronoTime(absl::Now() + timeout));
  // A server still starting (another process) refuses connections: wait for it to listen.
  ctx.set_wait_for_ready(true);
  HealthCheckRequest req;
  req.set_service(std::string(service));
  auto reader = stub->Watch(&ctx, req);
  HealthCheckResponse resp;
  HealthStatus last = HealthCheckResponse::UNKNOWN;
  while (reader->Read(&resp)) {
    last = resp.status();
    if (last == want) {
      ctx.TryCancel();
      reader->Finish().ok();
      return absl::OkStatus();
    }
  }
  grpc::Status s = reader->Finish();
  return absl::DeadlineExceededError(absl::StrCat(
      "health of \"", service, "\" did not become ", HealthCheckResponse::ServingStatus_Name(want),
      " within ", absl::FormatDuration(timeout), "; last status ",
      HealthCheckResponse::ServingStatus_Name(last), ", stream ended with: ", s.error_message()));
}

absl::StatusOr<std::vector<std::string>> ListServices(
    const std::shared_ptr<grpc::Channel>& channel) {
  // The reflection service, reached by its method path with wire-compatible messages.
  grpc::internal::RpcMethod method("/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo",
                                   grpc::internal::RpcMethod::BIDI_STREAMING, channel);
  grpc::ClientContext ctx;
  ctx.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(5)));
  std::unique_ptr<grpc::ClientReaderWriter<granary::testing::v1::ReflectionRequest,
                                           granary::testing::v1::ReflectionResponse>>
      stream(grpc::internal::ClientReaderWriterFactory<
             granary::testing::v1::ReflectionRequest,
             granary::testing::v1::ReflectionResponse>::Create(channel.get(), method, &ctx));
  granary::testing::v1::ReflectionRequest req;
  req.set_list_services("");
  granary::testing::v1::ReflectionResponse resp;
  if (!stream->Write(req) || !stream->WritesDone() || !stream->Read(&resp)) {
    return base::FromGrpcStatus(stream->Finish());
  }
  stream->Finish().ok();
  if (resp.has_error_response()) {
    return absl::InternalError(resp.error_response().error_message());
  }
  std::vector<std::string> names;
  for (const auto& s : resp.list_services_response().service()) names.push_back(s.name());
  return names;
}

namespace {

// One call on a generic stream, whatever the method's kind: unary and server-streaming
// methods get one empty message, which is what an empty request serializes to.
absl::Status CallWithEmptyRequest(grpc::GenericStub& stub, const std::string& path,
                                  bool client_streaming,
                                  const std::vector<std::pair<std::string, std::string>>& metadata,
                                  absl::Duration timeout) {
  grpc::ClientContext ctx;
  ctx.set_deadline(absl::ToChronoTime(absl::Now() + timeout));
  for (const auto& [key, value] : metadata) ctx.AddMetadata(key, value);
  grpc::CompletionQueue cq;
  std::unique_ptr<grpc::GenericClientAsyncReaderWriter> call = stub.PrepareCall(&ctx, path, &cq);
  // Each step completes before the next starts: one tag is enough.
  void* const kTag = reinterpret_cast<void*>(1);
  auto wait = [&cq] {
    void* tag = nullptr;
    bool ok = false;
    return cq.Next(&tag, &ok) && ok;
  };
  call->StartCall(kTag);
  bool open = wait();
  if (open && !client_streaming) {
    grpc::Slice nothing(std::string{});
    call->Write(grpc::ByteBuffer(&nothing, 1), kTag);
    open = wait();
  }
  if (open) {
    call->WritesDone(kTag);
    open = wait();
  }
  // Responses until the server ends the call (a refusal ends it at once).
  for (grpc::ByteBuffer response; open;) {
    call->Read(&response, kTag);
    open = wait();
  }
  grpc::Status status;
  call->Finish(&status, kTag);
  wait();
  cq.Shutdown();
  void* tag = nullptr;
  bool ok = false;
  while (cq.Next(&tag, &ok)) {
  }
  return base::FromGrpcStatus(status);
}

}  // namespace

absl::StatusOr<std::map<std::string, absl::Status>> CallEveryMethod(
    const std::shared_ptr<grpc::Channel>& channel, absl::string_view service,
    const MetadataForMethod& metadata, absl::Duration timeout) {
  const google::protobuf::ServiceDescriptor* descriptor =
      google::protobuf::DescriptorPool::generated_pool()->FindServiceByName(std::string(service));
  if (descriptor == nullptr) {
    return absl::NotFoundError(absl::StrCat("service ", service, " is not linked in this test"));
  }
  grpc::GenericStub stub(channel);
  std::map<std::string, absl::Status> statuses;
  for (int i = 0; i < descriptor->method_count(); ++i) {
    const google::protobuf::MethodDescriptor* method = descriptor->method(i);
    std::string path = absl::StrCat("/", service, "/", method->name());
    statuses[path] = CallWithEmptyRequest(
        stub, path, method->client_streaming(),
        metadata == nullptr ? std::vector<std::pair<std::string, std::string>>() : metadata(path),
        timeout);
  }
  return statuses;
}

absl::StatusOr<std::string> HttpGet(absl::string_view host, int port, absl::string_view path,
                                    absl::Duration timeout) {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return absl::InternalError(absl::StrCat("socket: ", std::strerror(errno)));
  timeval tv = absl::ToTimeval(timeout);
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  inet_pton(AF_INET, std::string(host).c_str(), &addr.sin_addr);
  if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
    int err = errno;
    close(fd);
    return absl::UnavailableError(
        absl::StrCat("connect ", host, ":", port, ": ", std::strerror(err)));
  }
  std::string request = absl::StrCat("GET ", path, " HTTP/1.0\r\nHost: ", host, "\r\n\r\n");
  if (write(fd, request.data(), request.size()) != static_cast<ssize_t>(request.size())) {
    close(fd);
    return absl::UnavailableError("short write");
  }
  std::string response;
  char buf[8192];
  ssize_t n;
  while ((n = read(fd, buf, sizeof(buf))) > 0) response.append(buf, static_cast<size_t>(n));
  close(fd);
  size_t body = response.find("\r\n\r\n");
  if (body == std::string::npos) return absl::UnavailableError("no HTTP response");
  std::string status_line = response.substr(0, response.find("\r\n"));
  if (!absl::StrContains(status_line, " 200 ")) {
    return absl::FailedPreconditionError(absl::StrCat("HTTP GET ", path, ": ", status_line));
  }
  return response.substr(body + 4);
}

double ScrapeMetric(int metrics_port, absl::string_view series) {
  absl::StatusOr<std::string> text = HttpGet("127.0.0.1", metrics_port, "/metrics");
  if (!text.ok()) return 0;
  double sum = 0;
  for (absl::string_view line : absl::StrSplit(*text, '\n')) {
    if (!absl::StartsWith(line, series) || line.size() <= series.size() ||
        line[series.size()] != ' ') {
      continue;
    }
    double value = 0;
    if (absl::SimpleAtod(line.substr(series.size() + 1), &value)) sum += value;
  }
  return sum;
}

}  // namespace granary::testing
