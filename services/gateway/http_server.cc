#include "services/gateway/http_server.h"

#include <civetweb.h>
#include <httplib.h>

#include <cstring>
#include <thread>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"

namespace granary::gateway {
namespace {

HttpResponse TooLarge(size_t limit) {
  return {413, "application/json",
          absl::StrCat(R"({"code":"INVALID_ARGUMENT","message":"body: larger than the limit of )",
                       limit, R"( bytes"})")};
}

// "host:port" into its parts; the port defaults to 0.
std::pair<std::string, int> Split(const std::string& address) {
  size_t colon = address.rfind(':');
  int port = 0;
  if (colon == std::string::npos) return {address, 0};
  (void)absl::SimpleAtoi(address.substr(colon + 1), &port);
  return {address.substr(0, colon), port};
}

// ---- civetweb ----------------------------------------------------------------------------

// Whether civetweb keeps the connection open after this answer, by its own rule: not after a
// POST, PUT or PATCH whose body has no length (neither Content-Length nor chunked); otherwise
// by the client's Connection header when it sent one (a token that begins "keep-alive"), else
// by HTTP/1.1.
bool KeptAlive(const mg_connection* conn, const mg_request_info* info) {
  const absl::string_view method = info->request_method;
  const char* encoding = mg_get_header(conn, "Transfer-Encoding");
  if ((method == "POST" || method == "PUT" || method == "PATCH") && info->content_length < 0 &&
      (encoding == nullptr || !absl::StrContains(absl::AsciiStrToLower(encoding), "chunked"))) {
    return false;  // a body that ends only when the connection does
  }
  const char* connection = mg_get_header(conn, "Connection");
  if (connection != nullptr) {
    for (absl::string_view token : absl::StrSplit(connection, ',')) {
      token = absl::StripAsciiWhitespace(token);
      if (!token.empty() && absl::StartsWithIgnoreCase("keep-alive", token)) return true;
    }
    return false;
  }
  return info->http_version != nullptr && std::strcmp(info->http_version, "1.1") == 0;
}

// The answer written by hand, status line and headers and (mostly) body in one write: through
// civetweb's header functions they were two sends, each a wake-up of the client, 29% of the
// gateway's CPU on an online read against 6% now. So the headers civetweb would add (Date,
// Connection) are written here.
void Send(mg_connection* conn, const mg_request_info* info, const HttpResponse& response) {
  // A body too large is not kept: civetweb reads what is left of it and throws it away before
  // the next request. (Closing instead made clients that were still sending see a reset, not
  // the 413.)
  const bool keep_alive = KeptAlive(conn, info);
  std::string out = absl::StrCat(
      "HTTP/1.1 ", response.status, " ", mg_get_response_code_text(conn, response.status),
      "\r\nDate: ", absl::FormatTime("%a, %d %b %Y %H:%M:%S GMT", absl::Now(), absl::UTCTimeZone()),
      "\r\nConnection: ", keep_alive ? "keep-alive" : "close",
      "\r\nContent-Type: ", response.content_type, "\r\nContent-Length: ", response.body.size(),
      "\r\n");
  for (const auto& [name, value] : response.headers) {
    // A line break in a header would end it early and start one the handler never wrote.
    if (absl::StrContains(name, '\n') || absl::StrContains(name, '\r') ||
        absl::StrContains(value, '\n') || absl::StrContains(value, '\r')) {
      continue;
    }
    absl::StrAppend(&out, name, ": ", value, "\r\n");
  }
  out += "\r\n";
  // HEAD is answered with GET's headers and no body, or the client would read the body as the
  // next answer. A large body (a UI file) is sent on its own rather than copied.
  const bool head = std::strcmp(info->request_method, "HEAD") == 0;
  constexpr size_t kCopiedBody = 64 * 1024;
  if (!head && response.body.size() <= kCopiedBody) out += response.body;
  mg_write(conn, out.data(), out.size());
  if (!head && response.body.size() > kCopiedBody) {
    mg_write(conn, response.body.data(), response.body.size());
  }
}

class CivetwebServer : public HttpServer {
 public:
  CivetwebServer(HttpHandler handler, size_t max_body)
      : handler_(std::move(handler)), max_body_(max_body) {}
  ~CivetwebServer() override { Stop(); }

  absl::Status Start(const HttpServerOptions& options) {
    mg_init_library(0);
    auto [host, port] = Split(options.address);
    std::string listen = absl::StrCat(host, ":", port);
    std::string threads = std::to_string(options.threads);
    const char* config[] = {"listening_ports", listen.c_str(), "num_threads", threads.c_str(),
                            "enable_keep_alive", "yes", "request_timeout_ms", "30000",
                            // Without it a kept-alive connection's answers wait for the
                            // client's delayed ACK (Nagle): ~40 ms each.
                            "tcp_nodelay", "1",
                            // civetweb's default closes an idle kept-alive connection after
                            // 0.5 s, which pooled clients race after any pause.
                            "keep_alive_timeout_ms", "5000", nullptr};
    mg_callbacks callbacks{};
    ctx_ = mg_start(&callbacks, this, config);
    if (ctx_ == nullptr) {
      return absl::UnavailableError(absl::StrCat("http: cannot listen on ", options.address));
    }
    mg_set_request_handler(ctx_, "/", &CivetwebServer::Handle, this);
    mg_server_port ports[1];
    if (mg_get_server_ports(ctx_, 1, ports) < 1) return absl::InternalError("http: no port");
    port_ = ports[0].port;
    return absl::OkStatus();
  }

  int port() const override { return port_; }
  void Stop() override {
    if (ctx_ != nullptr) mg_stop(ctx_);
    ctx_ = nullptr;
  }

 private:
  static int Handle(mg_connection* conn, void* self) {
    return static_cast<CivetwebServer*>(self)->Serve(conn);
  }

  int Serve(mg_connection* conn) {
    const mg_request_info* info = mg_get_request_info(conn);
    HttpResponse response;
    if (info->content_length > 0 && static_cast<size_t>(info->content_length) > max_body_) {
      response = TooLarge(max_body_);
    } else {
      HttpRequest request;
      request.method = info->request_method;
      request.remote_addr = info->remote_addr;
      request.path = info->local_uri != nullptr ? info->local_uri : "/";
      if (info->query_string != nullptr) {
        for (absl::string_view pair : absl::StrSplit(info->query_string, '&', absl::SkipEmpty())) {
          std::vector<std::string> kv = absl::StrSplit(pair, absl::MaxSplits('=', 1));
          std::string key(kv[0].size() + 1, '\0');
          std::string value(kv.size() > 1 ? kv[1].size() + 1 : 1, '\0');
          int klen = mg_url_decode(kv[0].c_str(), kv[0].size(), key.data(), key.size(), 1);
          int vlen = kv.size() > 1
                         ? mg_url_decode(kv[1].c_str(), kv[1].size(), value.data(), value.size(), 1)
                         : 0;
          request.query.emplace(key.substr(0, std::max(klen, 0)),
                                value.substr(0, std::max(vlen, 0)));
        }
      }
      for (int i = 0; i < info->num_headers; ++i) {
        request.headers[absl::AsciiStrToLower(info->http_headers[i].name)] =
            info->http_headers[i].value;
      }
      // civetweb answers "Expect: 100-continue" only for its own file handlers; a client that
      // asks waits for it (curl: 1 s) before sending the body.
      const char* expect = mg_get_header(conn, "Expect");
      if (expect != nullptr && absl::EqualsIgnoreCase(expect, "100-continue") &&
          info->http_version != nullptr && std::strcmp(info->http_version, "1.1") == 0) {
        constexpr char kContinue[] = "HTTP/1.1 100 Continue\r\n\r\n";
        mg_write(conn, kContinue, sizeof(kContinue) - 1);
      }
      response = ReadBody(conn, &request.body) ? handler_(request) : TooLarge(max_body_);
    }
    Send(conn, info, response);
    return response.status;
  }

  // The body, or false when it is larger than max_body_. A function of its own so that its
  // buffer is off the stack before the handler runs (civetweb's threads have 100 KiB).
  bool ReadBody(mg_connection* conn, std::string* body) const {
    char buffer[16384];
    for (int n; (n = mg_read(conn, buffer, sizeof(buffer))) > 0;) {
      body->append(buffer, n);
      if (body->size() > max_body_) return false;
    }
    return true;
  }

  HttpHandler handler_;
  const size_t max_body_;
  mg_context* ctx_ = nullptr;
  int port_ = 0;
};

// ---- cpp-httplib -------------------------------------------------------------------------

class HttplibServer : public HttpServer {
 public:
  HttplibServer(HttpHandler handler, size_t max_body)
      : handler_(std::move(handler)), max_body_(max_body) {}
  ~HttplibServer() override { Stop(); }

  absl::Status Start(const HttpServerOptions& options) {
    int threads = options.threads;
    server_.new_task_queue = [threads] { return new httplib::ThreadPool(threads); };
    server_.set_payload_max_length(max_body_);
    server_.set_tcp_nodelay(true);
    // Its default closes a kept-alive connection after 5 answers: a client doing thousands a
    // second made a new TCP connection (and left a TIME_WAIT socket) every fifth request.
    server_.set_keep_alive_max_count(1000);
    auto serve = [this](const httplib::Request& req, httplib::Response& res) {
      HttpRequest request;
      request.method = req.method;
      request.path = req.path;
      for (const auto& [key, value] : req.params) request.query.emplace(key, value);
      for (const auto& [key, value] : req.headers) {
        request.headers[absl::AsciiStrToLower(key)] = value;
      }
      request.body = req.body;
      request.remote_addr = req.remote_addr;
      HttpResponse response = handler_(request);
      res.status = response.status;
      for (const auto& [name, value] : response.headers) res.set_header(name, value);
      res.set_content(response.body, response.content_type.c_str());
    };
    for (const char* pattern : {R"(/.*)"}) {
      server_.Get(pattern, serve);
      server_.Post(pattern, serve);
      server_.Put(pattern, serve);
      server_.Delete(pattern, serve);
      server_.Patch(pattern, serve);
    }
    server_.set_error_handler([this](const httplib::Request&, httplib::Response& res) {
      if (res.status == 413) {
        HttpResponse r = TooLarge(max_body_);
        res.set_content(r.body, r.content_type.c_str());
      }
    });
    auto [host, port] = Split(options.address);
    port_ =
        port == 0 ? server_.bind_to_any_port(host) : (server_.bind_to_port(host, port) ? port : -1);
    if (port_ < 0) {
      return absl::UnavailableError(absl::StrCat("http: cannot listen on ", options.address));
    }
    thread_ = std::thread([this] { server_.listen_after_bind(); });
    return absl::OkStatus();
  }

  int port() const override { return port_; }
  void Stop() override {
    server_.stop();
    if (thread_.joinable()) thread_.join();
  }

 private:
  HttpHandler handler_;
  const size_t max_body_;
  httplib::Server server_;
  std::thread thread_;
  int port_ = 0;
};

}  // namespace

absl::StatusOr<std::unique_ptr<HttpServer>> StartHttpServer(HttpLibrary library,
                                                            const HttpServerOptions& options,
                                                            HttpHandler handler) {
  if (library == HttpLibrary::kCivetweb) {
    auto server = std::make_unique<CivetwebServer>(std::move(handler), options.max_body_bytes);
    absl::Status started = server->Start(options);
    if (!started.ok()) return started;
    return std::unique_ptr<HttpServer>(std::move(server));
  }
  auto server = std::make_unique<HttplibServer>(std::move(handler), options.max_body_bytes);
  absl::Status started = server->Start(options);
  if (!started.ok()) return started;
  return std::unique_ptr<HttpServer>(std::move(server));
}

}  // namespace granary::gateway
