#include "libs/auth/http_fetch.h"

#include <atomic>
#include <memory>
#include <string>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/notification.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "httplib.h"

#include "libs/auth/test_http_server.h"
#include "libs/testing/status_matchers.h"

namespace granary::auth {
namespace {

using ::granary::testing::StatusIs;
using ::testing::AllOf;
using ::testing::HasSubstr;
using ::testing::Not;

class HttpFetchTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_OK_AND_ASSIGN(server_, TestHttpServer::Start()); }

  std::unique_ptr<TestHttpServer> server_;
};

TEST_F(HttpFetchTest, GetReturnsStatusAndBody) {
  server_->Handle("GET", "/doc", [](const TestHttpRequest& request) {
    EXPECT_EQ(request.Param("q"), "1");
    return TestHttpResponse{200, R"({"ok": true})"};
  });
  ASSERT_OK_AND_ASSIGN(HttpResponse response, HttpFetch({.url = server_->url() + "/doc?q=1"}));
  EXPECT_EQ(response.status, 200);
  EXPECT_EQ(response.body, R"({"ok": true})");
  EXPECT_EQ(server_->RequestCount("/doc"), 1);
}

TEST_F(HttpFetchTest, AnyHttpStatusIsAResponse) {
  server_->Handle("GET", "/broken", [](const TestHttpRequest&) {
    return TestHttpResponse{503, "busy", "text/plain"};
  });
  ASSERT_OK_AND_ASSIGN(HttpResponse broken, HttpFetch({.url = server_->url() + "/broken"}));
  EXPECT_EQ(broken.status, 503);
  EXPECT_EQ(broken.body, "busy");
  ASSERT_OK_AND_ASSIGN(HttpResponse missing, HttpFetch({.url = server_->url() + "/nothing"}));
  EXPECT_EQ(missing.status, 404);
}

TEST_F(HttpFetchTest, PostSendsBodyAndHeaders) {
  server_->Handle("POST", "/review", [](const TestHttpRequest& request) {
    EXPECT_EQ(request.Header("Authorization"), "Bearer abc");
    EXPECT_EQ(request.Header("content-type"), "application/json");
    EXPECT_EQ(request.body, R"({"spec": {}})");
    return TestHttpResponse{201, "{}"};
  });
  ASSERT_OK_AND_ASSIGN(
      HttpResponse response,
      HttpFetch({.method = "POST",
                 .url = server_->url() + "/review",
                 .headers = {{"Authorization", "Bearer abc"}, {"Content-Type", "application/json"}},
                 .body = R"({"spec": {}})"}));
  EXPECT_EQ(response.status, 201);
  EXPECT_EQ(server_->RequestCount("/review"), 1);
}

TEST_F(HttpFetchTest, LargeBodyIsSentWithoutWaitingForContinue) {
  const std::string body(64 * 1024, 'x');
  server_->Handle("PUT", "/big", [&body](const TestHttpRequest& request) {
    EXPECT_EQ(request.body, body);
    return TestHttpResponse{200, "ok"};
  });
  ASSERT_OK_AND_ASSIGN(
      HttpResponse response,
      HttpFetch({.method = "PUT",
                 .url = server_->url() + "/big",
                 // httplib caps form-encoded bodies (curl's default type) at 8 KiB.
                 .headers = {{"Content-Type", "text/plain"}},
                 .body = body}));
  EXPECT_EQ(response.status, 200);
}

TEST_F(HttpFetchTest, RedirectsAreNotFollowed) {
  server_->Handle("GET", "/moved", [this](const TestHttpRequest&) {
    TestHttpResponse response{302, ""};
    response.headers = {{"Location", server_->url() + "/target"}};
    return response;
  });
  ASSERT_OK_AND_ASSIGN(HttpResponse response, HttpFetch({.url = server_->url() + "/moved"}));
  EXPECT_EQ(response.status, 302);
  EXPECT_EQ(server_->RequestCount("/target"), 0);
}

TEST_F(HttpFetchTest, PlainHttpOnlyForLoopback) {
  EXPECT_THAT(HttpFetch({.url = "http://issuer.example.com/.well-known/openid-configuration"}),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("loopback")));
  EXPECT_THAT(HttpFetch({.url = "ftp://127.0.0.1/file"}),
              StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(HttpFetch({.url = "not a url"}), StatusIs(absl::StatusCode::kInvalidArgument));
  // Loopback names other than 127.0.0.1 pass the check (whether they connect does not matter).
  EXPECT_THAT(HttpFetch({.url = absl::StrCat("http://[::1]:", server_->port(), "/x")}),
              Not(StatusIs(absl::StatusCode::kInvalidArgument)));
  server_->Handle("GET", "/x", [](const TestHttpRequest&) { return TestHttpResponse{200, "x"}; });
  EXPECT_THAT(HttpFetch({.url = absl::StrCat("http://localhost:", server_->port(), "/x")}),
              Not(StatusIs(absl::StatusCode::kInvalidArgument)));
}

TEST_F(HttpFetchTest, PlainHttpToAnyHostWhenAllowedButNeverWithCredentials) {
  // A server on every address, reached at 127.0.0.2: loopback to the kernel, another host to
  // the URL check (which knows 127.0.0.1, ::1 and localhost only).
  httplib::Server any;
  any.Get("/metrics", [](const httplib::Request&, httplib::Response& res) {
    res.set_content("up 1\n", "text/plain");
  });
  const int port = any.bind_to_any_port("0.0.0.0");
  ASSERT_GT(port, 0);
  std::thread serve([&any] { any.listen_after_bind(); });
  const std::string url = absl::StrCat("http://127.0.0.2:", port, "/metrics");
  EXPECT_THAT(HttpFetch({.url = url}),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("loopback")));
  auto read = HttpFetch({.url = url, .allow_plain_http = true});
  EXPECT_TRUE(read.ok()) << read.status();
  if (read.ok()) {
    EXPECT_EQ(read->status, 200);
    EXPECT_EQ(read->body, "up 1\n");
  }
  // Refused before any connection: no credentials over it, in a header or in the URL.
  EXPECT_THAT(
      HttpFetch({.url = url, .headers = {{"Authorization", "Bearer x"}}, .allow_plain_http = true}),
      StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("no credentials")));
  EXPECT_THAT(HttpFetch({.url = absl::StrCat("http://u:p@127.0.0.2:", port, "/metrics"),
                         .allow_plain_http = true}),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("no credentials")));
  any.stop();
  serve.join();
}

TEST_F(HttpFetchTest, HeaderWithLineBreakIsRefused) {
  EXPECT_THAT(HttpFetch({.url = server_->url() + "/x",
                         .headers = {{"Authorization", "Bearer a\r\nX-Injected: 1"}}}),
              StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_EQ(server_->RequestCount("/x"), 0);
}

TEST_F(HttpFetchTest, UnreachableServerIsUnavailableAndTheQueryIsNotNamed) {
  const std::string url = server_->url() + "/doc?access_token=s3cret";
  server_->Stop();
  EXPECT_THAT(HttpFetch({.url = url}),
              StatusIs(absl::StatusCode::kUnavailable,
                       AllOf(HasSubstr(server_->url() + "/doc"), Not(HasSubstr("s3cret")))));
}

TEST_F(HttpFetchTest, TlsToAPlainServerIsUnavailable) {
  EXPECT_THAT(HttpFetch({.url = absl::StrCat("https://127.0.0.1:", server_->port(), "/x")}),
              StatusIs(absl::StatusCode::kUnavailable));
  EXPECT_THAT(HttpFetch({.url = absl::StrCat("https://127.0.0.1:", server_->port(), "/x"),
                         .ca_file = "/nonexistent/ca.crt"}),
              StatusIs(absl::StatusCode::kUnavailable));
}

TEST_F(HttpFetchTest, TimeoutIsHonoured) {
  absl::Notification entered;
  absl::Notification release;
  std::atomic<bool> handler_returned{false};
  server_->Handle("GET", "/slow", [&](const TestHttpRequest&) {
    entered.Notify();
    release.WaitForNotification();
    handler_returned = true;
    return TestHttpResponse{200, "late"};
  });
  EXPECT_THAT(HttpFetch({.url = server_->url() + "/slow", .timeout = absl::Milliseconds(500)}),
              StatusIs(absl::StatusCode::kUnavailable, HasSubstr("/slow")));
  // The call gave up on its own: the handler is still blocked.
  EXPECT_TRUE(entered.HasBeenNotified());
  EXPECT_FALSE(handler_returned);
  release.Notify();
  server_->Stop();  // Waits for the handler, which uses this test's locals.
}

TEST_F(HttpFetchTest, ResponsesOverTheCapAreUnavailable) {
  const std::string huge(4 * 1024 * 1024 + 1, 'a');
  server_->Handle("GET", "/huge", [&huge](const TestHttpRequest&) {
    return TestHttpResponse{200, huge, "text/plain"};
  });
  EXPECT_THAT(HttpFetch({.url = server_->url() + "/huge"}),
              StatusIs(absl::StatusCode::kUnavailable, HasSubstr("MiB")));
  const std::string fits(4 * 1024 * 1024, 'a');
  server_->Handle("GET", "/fits", [&fits](const TestHttpRequest&) {
    return TestHttpResponse{200, fits, "text/plain"};
  });
  ASSERT_OK_AND_ASSIGN(HttpResponse response, HttpFetch({.url = server_->url() + "/fits"}));
  EXPECT_EQ(response.body.size(), fits.size());
}

TEST_F(HttpFetchTest, NonPositiveTimeoutIsRefused) {
  EXPECT_THAT(HttpFetch({.url = server_->url() + "/x", .timeout = absl::ZeroDuration()}),
              StatusIs(absl::StatusCode::kInvalidArgument));
}

}  // namespace
}  // namespace granary::auth
