// An HTTP server inside a test (cpp-httplib on 127.0.0.1, a port the kernel picks) that stands
// in for an OIDC issuer or the Kubernetes API server: the test registers a handler per method
// and path, may swap it at any time, and reads how many requests each path received.
//
//   ASSERT_OK_AND_ASSIGN(auto server, TestHttpServer::Start());
//   server->Handle("GET", "/jwks", [](const TestHttpRequest&) {
//     return TestHttpResponse{200, R"({"keys": []})"};
//   });
//   HttpFetch({.url = server->url() + "/jwks"});
//   EXPECT_EQ(server->RequestCount("/jwks"), 1);
//
// Handlers run on the server's threads, several at once; a handler may block (to test a
// client's timeout) but must be released before the server is destroyed.
#ifndef GRANARY_LIBS_AUTH_TEST_HTTP_SERVER_H_
#define GRANARY_LIBS_AUTH_TEST_HTTP_SERVER_H_

#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"

namespace httplib {
class Server;
}  // namespace httplib

namespace granary::auth {

struct TestHttpRequest {
  std::string method;
  // Decoded, without the query.
  std::string path;
  std::vector<std::pair<std::string, std::string>> params;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;

  // The first header of that name (case-insensitive), empty when absent.
  std::string Header(absl::string_view name) const;
  // The first query parameter of that name, empty when absent.
  std::string Param(absl::string_view name) const;
};

struct TestHttpResponse {
  int status = 200;
  std::string body;
  std::string content_type = "application/json";
  std::vector<std::pair<std::string, std::string>> headers;
};

using TestHttpHandler = std::function<TestHttpResponse(const TestHttpRequest&)>;

class TestHttpServer {
 public:
  // Listening when this returns: connections queue until a server thread accepts them.
  static absl::StatusOr<std::unique_ptr<TestHttpServer>> Start();

  TestHttpServer(const TestHttpServer&) = delete;
  TestHttpServer& operator=(const TestHttpServer&) = delete;
  ~TestHttpServer();

  // Registers or replaces the handler for `method` (GET, POST, PUT, PATCH, DELETE) and an exact
  // path. Requests nobody handles get 404.
  void Handle(absl::string_view method, absl::string_view path, TestHttpHandler handler);

  // "http://127.0.0.1:<port>".
  std::string url() const;
  int port() const { return port_; }

  // Requests received for `path`, any method, handled or not.
  int RequestCount(absl::string_view path) const;

  // Closes the listening socket and waits for the server's threads: afterwards connections to
  // the port are refused (an issuer or API server that is down). Idempotent.
  void Stop();

 private:
  TestHttpServer();
  TestHttpResponse Serve(const TestHttpRequest& request);

  std::unique_ptr<httplib::Server> server_;
  std::thread thread_;
  absl::Notification stopped_;
  int port_ = 0;

  mutable absl::Mutex mu_;
  absl::flat_hash_map<std::string, std::shared_ptr<const TestHttpHandler>> handlers_
      ABSL_GUARDED_BY(mu_);
  absl::flat_hash_map<std::string, int> counts_ ABSL_GUARDED_BY(mu_);
};

}  // namespace granary::auth

#endif  // GRANARY_LIBS_AUTH_TEST_HTTP_SERVER_H_
