// Asking a running gRPC service how it is: health (Check and Watch), reflection's service list
// and a scrape of its Prometheus endpoint.
//
//   auto channel = grpc::CreateChannel("127.0.0.1:1234", grpc::InsecureChannelCredentials());
//   ASSERT_OK(WaitForHealth(channel, "", HealthCheckResponse::SERVING, absl::Seconds(10)));
//   ASSERT_OK_AND_ASSIGN(auto services, ListServices(channel));
//   ASSERT_OK_AND_ASSIGN(std::string text, HttpGet("127.0.0.1", metrics_port, "/metrics"));
//   double rows = ScrapeMetric(metrics_port, "granary_materializer_rows_written_total{...}");
//   ASSERT_OK_AND_ASSIGN(auto statuses, CallEveryMethod(channel, "granary.registry.v1.Reg..."));
#ifndef GRANARY_LIBS_TESTING_GRPC_PROBES_H_
#define GRANARY_LIBS_TESTING_GRPC_PROBES_H_

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "grpc/health/v1/health.pb.h"
#include "grpcpp/channel.h"

namespace granary::testing {

using HealthStatus = ::grpc::health::v1::HealthCheckResponse::ServingStatus;

absl::StatusOr<HealthStatus> CheckHealth(const std::shared_ptr<grpc::Channel>& channel,
                                         absl::string_view service = "");

// Follows Health/Watch until the status is `want`: returns as soon as the server reports it
// (no polling). DEADLINE_EXCEEDED after `timeout`.
absl::Status WaitForHealth(const std::shared_ptr<grpc::Channel>& channel, absl::string_view service,
                           HealthStatus want, absl::Duration timeout);

// Full names of the services the server lists through reflection.
absl::StatusOr<std::vector<std::string>> ListServices(
    const std::shared_ptr<grpc::Channel>& channel);

// The body of an HTTP/1.0 GET; FAILED_PRECONDITION for a status other than 200.
absl::StatusOr<std::string> HttpGet(absl::string_view host, int port, absl::string_view path,
                                    absl::Duration timeout = absl::Seconds(5));

// Metadata for a call to a method ("/pkg.Service/Method").
using MetadataForMethod =
    std::function<std::vector<std::pair<std::string, std::string>>(const std::string& path)>;

// Calls every method of `service` (a full name in this binary's generated descriptor pool)
// once, through a generic stub: an empty request (a streaming client half-closes without
// sending any), the metadata `metadata` gives for the method if any, responses read to the
// end. Each method's final status by path; NOT_FOUND for a service not linked in. What a
// refusal shared by every handler is tested with (unauthenticated calls, say).
absl::StatusOr<std::map<std::string, absl::Status>> CallEveryMethod(
    const std::shared_ptr<grpc::Channel>& channel, absl::string_view service,
    const MetadataForMethod& metadata = nullptr, absl::Duration timeout = absl::Seconds(10));

// The value of a series on 127.0.0.1:port/metrics as printed (name and labels exactly),
// summed when it is there more than once; 0 when absent or the endpoint does not answer.
double ScrapeMetric(int metrics_port, absl::string_view series);

}  // namespace granary::testing

#endif  // GRANARY_LIBS_TESTING_GRPC_PROBES_H_
