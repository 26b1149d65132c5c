// The gateway's HTTP door through the real process: Feast's JSON routes field by field, the
// same authentication and permissions as gRPC, errors with meaningful statuses, the registry
// REST view, and an OpenAPI document that matches the routes served.
#include <unistd.h>

#include <set>
#include <string>
#include <tuple>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "gmock/gmock.h"
#include "granary/materialization/v1/materialization.grpc.pb.h"
#include "gtest/gtest.h"
#include "httplib.h"
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include "libs/testing/eventually.h"
#include "services/gateway/http_api.h"
#include "tests/gateway/gateway_stack.h"

namespace granary::testing {
namespace {

using json = nlohmann::json;
using ::testing::HasSubstr;

// Sends `requests` (raw HTTP/1.x, possibly several) on one connection and reads until the
// server closes it (*closed then true) or `until` appears in what it sent.
std::string Exchange(int port, const std::string& requests, const std::string& until,
                     bool* closed = nullptr) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(static_cast<uint16_t>(port));
  inet_pton(AF_INET, "127.0.0.1", &address.sin_addr);
  timeval timeout{.tv_sec = 30, .tv_usec = 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof(timeout));
  std::string got;
  if (connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)) == 0 &&
      send(fd, requests.data(), requests.size(), 0) == static_cast<ssize_t>(requests.size())) {
    char buffer[4096];
    ssize_t n = 1;
    while (got.find(until) == std::string::npos && (n = recv(fd, buffer, sizeof(buffer), 0)) > 0) {
      got.append(buffer, n);
    }
    if (closed != nullptr) *closed = n == 0;
  }
  close(fd);
  return got;
}

class GatewayHttpTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(stack().ok()) << stack().status();
    client_ = std::make_unique<httplib::Client>("127.0.0.1", stack().http_port());
    client_->set_read_timeout(30, 0);
  }
  static GatewayStack& stack() { return GatewayStack::Get(); }

  httplib::Result Post(const std::string& path, const std::string& body, const std::string& token,
                       const std::string& trace = "") {
    httplib::Headers headers;
    if (!token.empty()) headers.emplace("Authorization", absl::StrCat("Bearer ", token));
    if (!trace.empty()) headers.emplace("X-Request-Id", trace);
    return client_->Post(path.c_str(), headers, body, "application/json");
  }
  httplib::Result Get(const std::string& path, const std::string& token = "") {
    httplib::Headers headers;
    if (!token.empty()) headers.emplace("Authorization", absl::StrCat("Bearer ", token));
    return client_->Get(path.c_str(), headers);
  }

  std::unique_ptr<httplib::Client> client_;
};

TEST_F(GatewayHttpTest, FeastPushThenGetOnlineFeaturesFieldByField) {
  std::string writer = stack().Token("wes", {"writer"});
  // Within the view's TTL of now, whole seconds.
  absl::Time now = absl::FromUnixSeconds(absl::ToUnixSeconds(absl::Now()));
  std::string first =
      absl::FormatTime("%Y-%m-%dT%H:%M:%SZ", now - absl::Minutes(90), absl::UTCTimeZone());
  std::string second =
      absl::FormatTime("%Y-%m-%dT%H:%M:%SZ", now - absl::Minutes(1), absl::UTCTimeZone());
  json push = {{"push_source_name", "driver_stats_push"},
               {"df",
                {{"driver_id", {8001, 8002}},
                 {"event_timestamp", {first, second}},
                 {"created", {first, second}},
                 {"conv_rate", {0.5, 0.25}},
                 {"acc_rate", {0.75, 1}},
                 {"avg_daily_trips", {10, 20}}}},
               {"to", "online"}};
  auto pushed = Post("/push", push.dump(), writer);
  ASSERT_TRUE(pushed);
  ASSERT_EQ(pushed->status, 200) << pushed->body;

  std::string reader = stack().Token("ana", {"reader"});
  json read = {
      {"entities", {{"driver_id", {8001, 8002, 9999999}}}},
      {"features", {"driver_hourly_stats:conv_rate", "driver_hourly_stats:avg_daily_trips"}}};
  json answer;
  ASSERT_TRUE(Eventually(
      [&] {
        auto r = Post("/get-online-features", read.dump(), reader);
        if (!r || r->status != 200) return false;
        answer = json::parse(r->body);
        return answer["results"][1]["statuses"][1] == "PRESENT";
      },
      absl::Seconds(30)))
      << answer.dump();
  EXPECT_EQ(answer["metadata"]["feature_names"],
            json({"driver_id", "conv_rate", "avg_daily_trips"}));
  ASSERT_EQ(answer["results"].size(), 3u);
  EXPECT_EQ(answer["results"][0]["values"], json({8001, 8002, 9999999}));
  EXPECT_EQ(answer["results"][0]["statuses"], json({"PRESENT", "PRESENT", "PRESENT"}));
  EXPECT_EQ(answer["results"][1]["values"], json({0.5, 0.25, nullptr}));
  EXPECT_EQ(answer["results"][1]["statuses"], json({"PRESENT", "PRESENT", "NOT_FOUND"}));
  EXPECT_EQ(answer["results"][1]["event_timestamps"][0], first);
  EXPECT_EQ(answer["results"][1]["event_timestamps"][1], second);
  EXPECT_EQ(answer["results"][2]["values"], json({10, 20, nullptr}));
  EXPECT_FALSE(answer.contains("status"));  // Feast's server leaves the proto's bool out
}

TEST_F(GatewayHttpTest, AuthAndPermissionsAreTheGrpcDoorsOnes) {
  json read = {{"entities", {{"driver_id", {1001}}}},
               {"features", {"driver_hourly_stats:conv_rate"}}};
  auto none = Post("/get-online-features", read.dump(), "", "http-no-token");
  ASSERT_TRUE(none);
  EXPECT_EQ(none->status, 401);
  EXPECT_EQ(none->get_header_value("WWW-Authenticate"), "Bearer");
  EXPECT_EQ(json::parse(none->body)["code"], "UNAUTHENTICATED");
  auto lines = stack().AuditLines("http-no-token");
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_EQ(lines[0]["method"], "POST /get-online-features");
  EXPECT_EQ(lines[0]["status"], "401");

  auto denied = Post("/get-online-features", read.dump(), stack().Token("eve", {"visitor"}));
  ASSERT_TRUE(denied);
  EXPECT_EQ(denied->status, 403);
  EXPECT_THAT(json::parse(denied->body)["message"].get<std::string>(),
              HasSubstr("may not READ_ONLINE feature view 'driver_hourly_stats'"));

  json push = {{"push_source_name", "driver_stats_push"},
               {"df", {{"driver_id", {1}}, {"event_timestamp", {"2026-12-01T10:00:00Z"}}}}};
  auto reader_push = Post("/push", push.dump(), stack().Token("ana", {"reader"}));
  ASSERT_TRUE(reader_push);
  EXPECT_EQ(reader_push->status, 403);
  json materialize = {{"start_ts", "2026-01-01T00:00:00Z"}, {"end_ts", "2026-01-02T00:00:00Z"}};
  auto reader_materialize =
      Post("/materialize", materialize.dump(), stack().Token("ana", {"reader"}));
  ASSERT_TRUE(reader_materialize);
  EXPECT_EQ(reader_materialize->status, 403);

  auto limited = stack().Token("lim-http", {"limited"});
  ASSERT_EQ(Post("/get-online-features", read.dump(), limited)->status, 200);
  auto throttled = Post("/get-online-features", read.dump(), limited);
  ASSERT_TRUE(throttled);
  EXPECT_EQ(throttled->status, 429);
  EXPECT_FALSE(throttled->get_header_value("Retry-After").empty());
}

TEST_F(GatewayHttpTest, BadInputIsA400NamingTheField) {
  std::string reader = stack().Token("ana", {"reader"});
  auto not_json = Post("/get-online-features", "{nope", reader);
  ASSERT_TRUE(not_json);
  EXPECT_EQ(not_json->status, 400);
  EXPECT_THAT(not_json->body, HasSubstr("body"));

  json wrong_type = {{"entities", {{"driver_id", {{{"a", 1}}}}}},
                     {"features", {"driver_hourly_stats:conv_rate"}}};
  auto typed = Post("/get-online-features", wrong_type.dump(), reader);
  ASSERT_TRUE(typed);
  EXPECT_EQ(typed->status, 400);
  EXPECT_THAT(json::parse(typed->body)["message"].get<std::string>(),
              HasSubstr("entities.driver_id[0]"));

  std::string writer = stack().Token("wes", {"writer"});
  json bad_cell = {{"push_source_name", "driver_stats_push"},
                   {"df", {{"driver_id", {1}}, {"conv_rate", {"high"}}}}};
  auto cell = Post("/push", bad_cell.dump(), writer);
  ASSERT_TRUE(cell);
  EXPECT_EQ(cell->status, 400);
  EXPECT_THAT(json::parse(cell->body)["message"].get<std::string>(), HasSubstr("df.conv_rate[0]"));

  json bad_time = {{"end_ts", "yesterday"}};
  auto time = Post("/materialize-incremental", bad_time.dump(), writer);
  ASSERT_TRUE(time);
  EXPECT_EQ(time->status, 400);
  EXPECT_THAT(time->body, HasSubstr("end_ts"));

  std::string huge(9 << 20, ' ');
  auto oversized = Post("/get-online-features", huge, reader);
  ASSERT_TRUE(oversized);
  EXPECT_EQ(oversized->status, 413);

  auto unknown = Post("/no-such-route", "{}", reader);
  ASSERT_TRUE(unknown);
  EXPECT_EQ(unknown->status, 404);
  auto wrong_method = Get("/push", reader);
  ASSERT_TRUE(wrong_method);
  EXPECT_EQ(wrong_method->status, 405);
}

TEST_F(GatewayHttpTest, RegistryRestIsFilteredAndPaged) {
  std::string reader = stack().Token("ana", {"reader"});
  auto views =
      Get("/api/v1/projects/driver_stats/feature-views?tag=team:driver_performance", reader);
  ASSERT_TRUE(views);
  ASSERT_EQ(views->status, 200) << views->body;
  json body = json::parse(views->body);
  ASSERT_TRUE(body.contains("feature_views")) << views->body;
  EXPECT_EQ(body["feature_views"][0]["name"], "driver_hourly_stats");

  auto one = Get("/api/v1/projects/driver_stats/feature-views/driver_hourly_stats", reader);
  ASSERT_TRUE(one);
  EXPECT_EQ(one->status, 200);
  EXPECT_EQ(json::parse(one->body)["name"], "driver_hourly_stats");

  auto permissions = Get("/api/v1/projects/driver_stats/permissions", reader);
  ASSERT_TRUE(permissions);
  EXPECT_EQ(permissions->status, 200);
  EXPECT_FALSE(json::parse(permissions->body).contains("permissions"));  // filtered to none

  auto page = Get("/api/v1/projects/driver_stats/entities?page_size=1", reader);
  ASSERT_TRUE(page);
  EXPECT_EQ(page->status, 200);
  EXPECT_LE(json::parse(page->body).value("entities", json::array()).size(), 1u);

  auto missing = Get("/api/v1/projects/driver_stats/feature-views/nope", reader);
  ASSERT_TRUE(missing);
  EXPECT_EQ(missing->status, 404);
  auto bad_kind = Get("/api/v1/projects/driver_stats/spaceships", reader);
  ASSERT_TRUE(bad_kind);
  EXPECT_EQ(bad_kind->status, 404);
  auto no_token = Get("/api/v1/projects");
  ASSERT_TRUE(no_token);
  EXPECT_EQ(no_token->status, 401);
}

TEST_F(GatewayHttpTest, TheOpenApiDocumentMatchesTheRoutesServed) {
  auto doc = Get("/openapi.json");
  ASSERT_TRUE(doc);
  ASSERT_EQ(doc->status, 200);
  json openapi = json::parse(doc->body);
  EXPECT_EQ(openapi["openapi"], "3.0.3");
  std::set<std::string> documented;
  for (const auto& [path, methods] : openapi["paths"].items()) {
    for (const auto& [method, op] : methods.items()) {
      documented.insert(absl::StrCat(method, " ", path));
    }
  }
  std::set<std::string> served;
  std::string writer = stack().Token("wes", {"writer"});
  for (const gateway::HttpRoute& route : gateway::HttpApi::Routes()) {
    std::string method = route.method == "GET" ? "get" : "post";
    served.insert(absl::StrCat(method, " ", route.path));
    // Each documented route answers (not 404) at a concrete path.
    std::string path = route.path;
    for (const auto& [from, to] : std::vector<std::pair<std::string, std::string>>{
             {"{project}", "driver_stats"}, {"{kind}", "entities"}, {"{name}", "driver"}}) {
      size_t at = path.find(from);
      if (at != std::string::npos) path.replace(at, from.size(), to);
    }
    auto answer = route.method == "GET" ? Get(path, writer) : Post(path, "{}", writer);
    ASSERT_TRUE(answer) << path;
    EXPECT_NE(answer->status, 404) << route.method << " " << path << ": " << answer->body;
    EXPECT_NE(answer->status, 405) << route.method << " " << path;
  }
  EXPECT_EQ(documented, served);
  auto page = Get("/docs");
  ASSERT_TRUE(page);
  EXPECT_EQ(page->status, 200);
  EXPECT_THAT(page->body, HasSubstr("/get-online-features"));
  auto health = Get("/health");
  ASSERT_TRUE(health);
  EXPECT_EQ(health->status, 200);
}

TEST_F(GatewayHttpTest, HistoryJobsAndHealthRoutesCheckTheirInputAndFilterWhatTheyShow) {
  const std::string writer = stack().Token("wes", {"writer"});
  const std::string now = absl::FormatTime("%Y-%m-%dT%H:%M:%SZ", absl::Now(), absl::UTCTimeZone());
  const std::string hour_ago =
      absl::FormatTime("%Y-%m-%dT%H:%M:%SZ", absl::Now() - absl::Hours(1), absl::UTCTimeZone());
  auto job = Post(
      "/materialize",
      json({{"start_ts", hour_ago}, {"end_ts", now}, {"feature_views", {"driver_hourly_stats"}}})
          .dump(),
      writer);
  ASSERT_TRUE(job);
  ASSERT_EQ(job->status, 200) << job->body;
  const std::string job_id = json::parse(job->body)["job_id"];

  const std::string base = "/api/v1/projects/driver_stats";
  for (const auto& [path, status, message] : std::vector<std::tuple<std::string, int, std::string>>{
           {base + "/history?page_size=x", 400, "page_size: expected a non-negative integer"},
           {base + "/history?color=red", 400, "query: unknown parameter \"color\""},
           {base + "/jobs?state=BOGUS", 400, "state: no job state \"BOGUS\""},
           {base + "/jobs?page_size=-1", 400, "page_size: expected a non-negative integer"},
           {base + "/health?x=1", 400, "query: unknown parameter \"x\""},
           {"/api/v1/projects/no_such_project/history", 404, "no_such_project"},
           {"/api/v1/projects/no_such_project/jobs", 404, "no_such_project"},
           {"/api/v1/projects/no_such_project/health", 404, "no_such_project"},
       }) {
    auto answer = Get(path, writer);
    ASSERT_TRUE(answer) << path;
    EXPECT_EQ(answer->status, status) << path << ": " << answer->body;
    EXPECT_THAT(json::parse(answer->body)["message"].get<std::string>(), HasSubstr(message))
        << path;
  }

  // A writer sees the job in both routes, and the view's health.
  auto jobs_of = [&](const std::string& path, const std::string& token) {
    auto answer = Get(path, token);
    EXPECT_TRUE(answer);
    std::vector<std::string> ids;
    if (!answer) return ids;
    EXPECT_EQ(answer->status, 200) << path << ": " << answer->body;
    for (const json& j : json::parse(answer->body).value("jobs", json::array())) {
      ids.push_back(j["job_id"]);
    }
    return ids;
  };
  EXPECT_THAT(jobs_of(base + "/jobs", writer), ::testing::Contains(job_id));
  EXPECT_THAT(jobs_of(base + "/health", writer), ::testing::Contains(job_id));
  auto health = Get(base + "/health", writer);
  ASSERT_TRUE(health);
  json figures = json::parse(health->body);
  ASSERT_EQ(figures["feature_views"].size(), 1u) << figures.dump();
  EXPECT_EQ(figures["feature_views"][0]["name"], "driver_hourly_stats");
  EXPECT_EQ(figures["feature_views"][0]["ttl_seconds"], 86400);
  auto history = Get(base + "/history?page_size=1", writer);
  ASSERT_TRUE(history);
  ASSERT_EQ(history->status, 200);
  EXPECT_EQ(json::parse(history->body)["entries"].size(), 1u);

  // A caller that may see the project but no view sees no job over that view, no view's
  // health, and no history entry of changes it may not see.
  const std::string project_only = stack().Token("pat", {"project_browser"});
  EXPECT_THAT(jobs_of(base + "/jobs", project_only), ::testing::IsEmpty());
  EXPECT_THAT(jobs_of(base + "/health", project_only), ::testing::IsEmpty());
  health = Get(base + "/health", project_only);
  ASSERT_TRUE(health);
  EXPECT_THAT(json::parse(health->body)["feature_views"], ::testing::IsEmpty());
  EXPECT_THAT(health->body, ::testing::Not(HasSubstr("driver_hourly_stats")));
  history = Get(base + "/history", project_only);
  ASSERT_TRUE(history);
  ASSERT_EQ(history->status, 200) << history->body;
  // The project's own creation is one it may see.
  EXPECT_FALSE(json::parse(history->body).value("entries", json::array()).empty());
  for (const json& entry : json::parse(history->body).value("entries", json::array())) {
    EXPECT_FALSE(entry["diff"].value("changes", json::array()).empty()) << entry.dump();
  }
  EXPECT_THAT(history->body, ::testing::Not(HasSubstr("driver_hourly_stats")));
  // The job itself, asked for by id, is refused too.
  grpc::ClientContext ctx;
  GatewayStack::Authorize(ctx, project_only);
  materialization::v1::GetJobRequest get;
  get.set_job_id(job_id);
  materialization::v1::Job got;
  grpc::Status status = materialization::v1::MaterializationService::NewStub(stack().channel())
                            ->GetJob(&ctx, get, &got);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::PERMISSION_DENIED) << status.error_message();
  // Nor watched: the stream's first message is the job.
  grpc::ClientContext watch_ctx;
  GatewayStack::Authorize(watch_ctx, project_only);
  materialization::v1::WatchJobRequest watch;
  watch.set_job_id(job_id);
  auto reader = materialization::v1::MaterializationService::NewStub(stack().channel())
                    ->WatchJob(&watch_ctx, watch);
  materialization::v1::Job seen;
  EXPECT_FALSE(reader->Read(&seen)) << seen.DebugString();
  grpc::Status watched = reader->Finish();
  EXPECT_EQ(watched.error_code(), grpc::StatusCode::PERMISSION_DENIED) << watched.error_message();
}

// A HEAD is answered without a body (else the client would read the body as its next answer),
// every answer says whether the connection stays open and when it was made, and
// "Expect: 100-continue" is answered.
TEST_F(GatewayHttpTest, HeadHasNoBodyAndAnswersSayWhetherTheConnectionStays) {
  const std::string kept = Exchange(stack().http_port(),
                                    "HEAD /health HTTP/1.1\r\nHost: t\r\n\r\n"
                                    "GET /health HTTP/1.1\r\nHost: t\r\n\r\n",
                                    "SERVING\"}");
  // The HEAD's answer (405: /health takes GET) and then the GET's, whole and in step.
  ASSERT_THAT(kept, ::testing::StartsWith("HTTP/1.1 405 "));
  const size_t second = kept.find("HTTP/1.1 200 ");
  ASSERT_NE(second, std::string::npos) << kept;
  EXPECT_EQ(kept.substr(0, second).find("{"), std::string::npos) << "a body after HEAD";
  EXPECT_THAT(kept.substr(second), ::testing::EndsWith("\r\n\r\n{\"status\":\"SERVING\"}"));
  EXPECT_THAT(kept, HasSubstr("Connection: keep-alive\r\n"));
  EXPECT_THAT(kept, HasSubstr("\r\nDate: "));

  // HTTP/1.0 without keep-alive: told the connection closes, and it does.
  bool closed = false;
  const std::string answer =
      Exchange(stack().http_port(), "GET /health HTTP/1.0\r\n\r\n", "never appears", &closed);
  EXPECT_THAT(answer, HasSubstr("Connection: close\r\n"));
  EXPECT_THAT(answer, ::testing::EndsWith("{\"status\":\"SERVING\"}"));
  EXPECT_TRUE(closed) << "the server kept a connection it said it would close";

  // A client that asks to be told to go on with its body is told so (curl does, for large
  // bodies, and waits a second when nobody answers).
  const std::string continued = Exchange(stack().http_port(),
                                         "POST /get-online-features HTTP/1.1\r\nHost: t\r\n"
                                         "Expect: 100-continue\r\nContent-Length: 2\r\n\r\n{}",
                                         "UNAUTHENTICATED");
  EXPECT_THAT(continued, ::testing::StartsWith("HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 401 "));
}

}  // namespace
}  // namespace granary::testing
