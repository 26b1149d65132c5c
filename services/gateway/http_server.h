// The gateway's HTTP/1.1 server, behind one small interface so that the library under it is
// chosen by measurement (tools/bench/run gateway, README "HTTP server"): two Debian libraries
// implement it, civetweb (the default, measured cheaper) and cpp-httplib. Handlers run on the
// server's thread pool and may block (they call the backends synchronously).
#ifndef GRANARY_SERVICES_GATEWAY_HTTP_SERVER_H_
#define GRANARY_SERVICES_GATEWAY_HTTP_SERVER_H_

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"

namespace granary::gateway {

struct HttpRequest {
  std::string method;                             // "GET", "POST", ...
  std::string path;                               // without the query
  std::multimap<std::string, std::string> query;  // decoded
  std::map<std::string, std::string> headers;     // names in lower case
  std::string body;
  std::string remote_addr;  // the client's address, without its port
  std::string Header(const std::string& lower_name) const {
    auto it = headers.find(lower_name);
    return it == headers.end() ? "" : it->second;
  }
};

struct HttpResponse {
  int status = 200;
  std::string content_type = "application/json";
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;
};

using HttpHandler = std::function<HttpResponse(const HttpRequest&)>;

struct HttpServerOptions {
  std::string address = "0.0.0.0:6566";  // port 0: a free one
  // Both libraries serve a connection on one thread while it is kept alive: this is how many
  // clients are served at once.
  int threads = 32;
  // Larger bodies are refused with 413 before they are read.
  size_t max_body_bytes = 8 << 20;
};

class HttpServer {
 public:
  virtual ~HttpServer() = default;
  virtual int port() const = 0;
  // Stops taking requests and waits for those in flight.
  virtual void Stop() = 0;
};

enum class HttpLibrary { kCivetweb, kHttplib };

absl::StatusOr<std::unique_ptr<HttpServer>> StartHttpServer(HttpLibrary library,
                                                            const HttpServerOptions& options,
                                                            HttpHandler handler);

}  // namespace granary::gateway

#endif  // GRANARY_SERVICES_GATEWAY_HTTP_SERVER_H_
