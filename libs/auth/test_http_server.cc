#include "libs/auth/test_http_server.h"

#include <httplib.h>

#include <utility>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"

namespace granary::auth {
namespace {

std::string Key(absl::string_view method, absl::string_view path) {
  return absl::StrCat(absl::AsciiStrToUpper(method), " ", path);
}

}  // namespace

std::string TestHttpRequest::Header(absl::string_view name) const {
  for (const auto& [key, value] : headers) {
    if (absl::EqualsIgnoreCase(key, name)) return value;
  }
  return "";
}

std::string TestHttpRequest::Param(absl::string_view name) const {
  for (const auto& [key, value] : params) {
    if (key == name) return value;
  }
  return "";
}

TestHttpServer::TestHttpServer() : server_(std::make_unique<httplib::Server>()) {}

absl::StatusOr<std::unique_ptr<TestHttpServer>> TestHttpServer::Start() {
  std::unique_ptr<TestHttpServer> self(new TestHttpServer());
  TestHttpServer* raw = self.get();
  auto dispatch = [raw](const httplib::Request& in, httplib::Response& out) {
    TestHttpRequest request{in.method, in.path, {}, {}, in.body};
    request.params.assign(in.params.begin(), in.params.end());
    request.headers.assign(in.headers.begin(), in.headers.end());
    TestHttpResponse response = raw->Serve(request);
    out.status = response.status;
    for (const auto& [name, value] : response.headers) out.set_header(name, value);
    out.set_content(response.body, response.content_type);
  };
  // Routes, not the pre-routing hook: httplib reads a request's body only on the way to a route.
  const std::string any = ".*";
  raw->server_->Get(any, dispatch)
      .Post(any, dispatch)
      .Put(any, dispatch)
      .Patch(any, dispatch)
      .Delete(any, dispatch);
  // bind_to_any_port also listens, so a client may connect before the accept loop runs.
  raw->port_ = raw->server_->bind_to_any_port("127.0.0.1");
  if (raw->port_ <= 0) {
    return absl::UnavailableError("test HTTP server: cannot bind a port on 127.0.0.1");
  }
  raw->thread_ = std::thread([raw] {
    raw->server_->listen_after_bind();
    raw->stopped_.Notify();
  });
  return self;
}

TestHttpServer::~TestHttpServer() { Stop(); }

void TestHttpServer::Stop() {
  if (!thread_.joinable()) return;
  // httplib's stop() does nothing until the accept loop has started, so a Stop() right after
  // Start() repeats it until the loop has seen it.
  do {
    server_->stop();
  } while (!stopped_.WaitForNotificationWithTimeout(absl::Milliseconds(5)));
  thread_.join();
}

void TestHttpServer::Handle(absl::string_view method, absl::string_view path,
                            TestHttpHandler handler) {
  absl::MutexLock lock(&mu_);
  handlers_[Key(method, path)] = std::make_shared<const TestHttpHandler>(std::move(handler));
}

std::string TestHttpServer::url() const { return absl::StrCat("http://127.0.0.1:", port_); }

int TestHttpServer::RequestCount(absl::string_view path) const {
  absl::MutexLock lock(&mu_);
  auto it = counts_.find(path);
  return it == counts_.end() ? 0 : it->second;
}

TestHttpResponse TestHttpServer::Serve(const TestHttpRequest& request) {
  std::shared_ptr<const TestHttpHandler> handler;
  {
    absl::MutexLock lock(&mu_);
    ++counts_[request.path];
    auto it = handlers_.find(Key(request.method, request.path));
    if (it != handlers_.end()) handler = it->second;
  }
  if (handler == nullptr) {
    return TestHttpResponse{404, absl::StrCat(R"({"error": "no handler for )", request.method, " ",
                                              request.path, R"("})")};
  }
  // Outside the lock: a handler may block until the test releases it.
  return (*handler)(request);
}

}  // namespace granary::auth
