// The discovery UI in a real browser (headless Chromium over WebDriver) against the gateway
// of the example stack: every page rendered from the live registry through the gateway's
// permissions, with no console error. Screenshots of each page go to the test's output folder
// (bazel-testlogs/tests/gateway/gateway_ui_test/test.outputs/).
#include <cstdlib>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "httplib.h"

#include "libs/testing/eventually.h"
#include "libs/testing/temp_dir.h"
#include "tests/gateway/gateway_stack.h"
#include "tests/ui/webdriver.h"

namespace granary::testing {
namespace {

using json = nlohmann::json;
using ::testing::Contains;
using ::testing::IsEmpty;
using ::testing::IsSupersetOf;
using ::testing::UnorderedElementsAreArray;

class GatewayUiTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    ASSERT_TRUE(stack().ok()) << stack().status();
    // The page is served (a missing file would stop the gateway at start).
    httplib::Client client("127.0.0.1", stack().http_port());
    auto page = client.Get("/ui/");
    ASSERT_TRUE(page);
    ASSERT_EQ(page->status, 200) << page->body;
    auto dir = TempDir::Create("ui-browser");
    ASSERT_TRUE(dir.ok()) << dir.status();
    dir_ = new TempDir(std::move(*dir));
    auto browser = Browser::Start(dir_->path());
    ASSERT_TRUE(browser.ok()) << browser.status();
    browser_ = browser->release();
  }
  static void TearDownTestSuite() {
    delete browser_;
    delete dir_;
  }
  void TearDown() override {
    // Whatever the test did, the browser's console saw no error.
    auto console = browser().TakeConsole();
    ASSERT_TRUE(console.ok()) << console.status();
    for (const ConsoleEntry& entry : *console) {
      EXPECT_NE(entry.level, "SEVERE") << entry.message;
    }
  }

  static GatewayStack& stack() { return GatewayStack::Get(); }
  static Browser& browser() { return *browser_; }
  static std::string Url(const std::string& hash) {
    return absl::StrCat("http://127.0.0.1:", stack().http_port(), "/ui/", hash);
  }

  // Opens the UI signed in with `token` (as the sign-in page stores it) at `hash`.
  static void OpenAs(const std::string& token, const std::string& hash) {
    ASSERT_TRUE(browser().Open(Url("#/login")).ok());
    ASSERT_TRUE(browser().WaitFor("return !!document.getElementById('token-form')").ok());
    ASSERT_TRUE(
        browser().Run("sessionStorage.setItem('granary.token', arguments[0])", {token}).ok());
    Go(hash);
  }

  // Moves to `hash` and returns once the page shows it.
  static void Go(const std::string& hash) {
    ASSERT_TRUE(browser().Open(Url(hash)).ok());
    absl::Status shown =
        browser().WaitFor("return document.getElementById('view').dataset.hash === location.hash");
    ASSERT_TRUE(shown.ok()) << shown;
  }

  static void Shot(const std::string& name) {
    const char* out = std::getenv("TEST_UNDECLARED_OUTPUTS_DIR");
    const std::string dir = out != nullptr ? out : dir_->path();
    // Drawn: no request of the page's is still pending (fonts, a chart).
    ASSERT_TRUE(browser().WaitFor("return document.readyState === 'complete'").ok());
    absl::Status shot = browser().Screenshot(absl::StrCat(dir, "/", name, ".png"));
    EXPECT_TRUE(shot.ok()) << shot;
  }

  // The texts of the elements `css` selects.
  static std::vector<std::string> Texts(const std::string& css) {
    auto texts = browser().Run(
        "return [...document.querySelectorAll(arguments[0])].map((e) => e.textContent.trim())",
        {css});
    EXPECT_TRUE(texts.ok()) << texts.status();
    return texts.ok() ? texts->get<std::vector<std::string>>() : std::vector<std::string>{};
  }
  static std::vector<std::string> Attributes(const std::string& css, const std::string& name) {
    auto values = browser().Run(
        "return [...document.querySelectorAll(arguments[0])].map((e) => "
        "e.getAttribute(arguments[1]))",
        {css, name});
    EXPECT_TRUE(values.ok()) << values.status();
    return values.ok() ? values->get<std::vector<std::string>>() : std::vector<std::string>{};
  }

  static json Post(const std::string& path, const json& body, const std::string& token) {
    httplib::Client client("127.0.0.1", stack().http_port());
    auto answer = client.Post(path.c_str(), {{"Authorization", "Bearer " + token}}, body.dump(),
                              "application/json");
    EXPECT_TRUE(answer);
    if (!answer) return nullptr;
    EXPECT_EQ(answer->status, 200) << path << ": " << answer->body;
    return json::parse(answer->body, nullptr, false);
  }

  static TempDir* dir_;
  static Browser* browser_;
};

TempDir* GatewayUiTest::dir_ = nullptr;
Browser* GatewayUiTest::browser_ = nullptr;

template <typename T>
std::vector<std::string> Names(const google::protobuf::RepeatedPtrField<T>& objects) {
  std::vector<std::string> names;
  for (const auto& o : objects) names.push_back(o.name());
  return names;
}

TEST_F(GatewayUiTest, TheCatalogRendersEveryObjectOfTheExample) {
  const std::string writer = stack().Token("wes", {"writer"});
  const auto& repo = stack().repo();
  OpenAs(writer, "#/");
  ASSERT_TRUE(browser().WaitFor("return !!document.querySelector('#projects tbody tr')").ok());
  EXPECT_THAT(Texts("#projects tbody td:first-child"), Contains("driver_stats"));
  Shot("projects");

  Go("#/p/driver_stats");
  const std::vector<std::pair<std::string, std::vector<std::string>>> kinds = {
      {"entities", Names(repo.entities())},
      {"data-sources", Names(repo.data_sources())},
      {"feature-views", Names(repo.feature_views())},
      {"on-demand-feature-views", Names(repo.on_demand_feature_views())},
      {"feature-services", Names(repo.feature_services())},
      {"permissions", Names(repo.permissions())}};
  for (const auto& [kind, names] : kinds) {
    EXPECT_THAT(Texts(absl::StrCat("[data-count='", kind, "']")),
                ::testing::ElementsAre(std::to_string(names.size())))
        << kind;
  }
  // The history says who applied the catalog.
  ASSERT_TRUE(browser().WaitFor("return !!document.querySelector('#history tbody tr')").ok());
  Shot("project");

  for (const auto& [kind, names] : kinds) {
    Go(absl::StrCat("#/p/driver_stats/k/", kind));
    EXPECT_THAT(Texts("#objects tbody td:first-child"), UnorderedElementsAreArray(names)) << kind;
    if (kind == "feature-views") Shot("feature-views");
  }

  // An on-demand view shows its expressions.
  Go("#/p/driver_stats/k/on-demand-feature-views/transformed_conv_rate");
  ASSERT_TRUE(browser().WaitFor("return !!document.querySelector('#expressions')").ok());
  EXPECT_THAT(Texts("#expressions tbody td:last-child"),
              IsSupersetOf({"conv_rate + val_to_add", "conv_rate + val_to_add_2"}));
  Shot("on-demand-view");
}

TEST_F(GatewayUiTest, SearchFindsAFeatureByTagAndByWords) {
  OpenAs(stack().Token("ana", {"reader"}), "#/p/driver_stats/search?tag=team%3Adriver_performance");
  ASSERT_TRUE(browser().WaitFor("return !!document.querySelector('#results')").ok());
  EXPECT_THAT(Attributes("#results [data-result]", "data-result"),
              Contains("feature-views:driver_hourly_stats"));
  for (const std::string& hit : Attributes("#results [data-result]", "data-result")) {
    EXPECT_EQ(hit, "feature-views:driver_hourly_stats") << "only that view has the tag";
  }

  // Typed into the box as a user would: a feature's name finds the views that hold it.
  Go("#/p/driver_stats/search");
  ASSERT_TRUE(browser().WaitFor("return !!document.querySelector('#search-form')").ok());
  ASSERT_TRUE(browser().Type("#search-form input[name=q]", "completed_share").ok());
  ASSERT_TRUE(browser().Click("#search-form button[type=submit]").ok());
  ASSERT_TRUE(browser()
                  .WaitFor("return document.getElementById('view').dataset.hash === "
                           "'#/p/driver_stats/search?q=completed_share'")
                  .ok());
  EXPECT_THAT(Attributes("#results [data-result]", "data-result"),
              UnorderedElementsAreArray({"on-demand-feature-views:driver_rates"}));
  Shot("search");
}

TEST_F(GatewayUiTest, TheLineageOfDriverHourlyStatsShowsItsSourcesAndTheServicesUsingIt) {
  OpenAs(stack().Token("ana", {"reader"}), "#/p/driver_stats/k/feature-views/driver_hourly_stats");
  ASSERT_TRUE(browser().WaitFor("return !!document.querySelector('.lineage svg')").ok());
  EXPECT_THAT(Attributes("#depends-on [data-node]", "data-node"),
              UnorderedElementsAreArray({"data-sources:driver_stats_source",
                                         "data-sources:driver_stats_push", "entities:driver"}));
  EXPECT_THAT(
      Attributes("#used-by [data-node]", "data-node"),
      UnorderedElementsAreArray(
          {"on-demand-feature-views:transformed_conv_rate", "on-demand-feature-views:driver_rates",
           "feature-services:driver_activity", "feature-services:driver_ranking"}));
  // The graph draws them, with the arrows the definitions imply.
  EXPECT_THAT(Attributes(".lineage svg [data-node]", "data-node"),
              IsSupersetOf({"data-sources:driver_stats_source", "data-sources:driver_stats_push",
                            "feature-views:driver_hourly_stats", "feature-services:driver_activity",
                            "feature-services:driver_ranking"}));
  auto edges = browser().Run(
      "return [...document.querySelectorAll('.lineage svg path[data-from]')]"
      ".map((e) => e.dataset.from + ' -> ' + e.dataset.to)");
  ASSERT_TRUE(edges.ok()) << edges.status();
  EXPECT_THAT(edges->get<std::vector<std::string>>(),
              IsSupersetOf({"data-sources:driver_stats_source -> feature-views:driver_hourly_stats",
                            "data-sources:driver_stats_push -> feature-views:driver_hourly_stats",
                            "feature-views:driver_hourly_stats -> feature-services:driver_activity",
                            "on-demand-feature-views:transformed_conv_rate -> "
                            "feature-services:driver_ranking"}));
  Shot("lineage-driver_hourly_stats");

  Go("#/p/driver_stats/lineage");
  ASSERT_TRUE(browser()
                  .WaitFor("return document.querySelectorAll('.lineage svg [data-node]')"
                           ".length >= 8")
                  .ok());
  Shot("lineage");
}

TEST_F(GatewayUiTest, TryItShowsPushedValuesAsPresent) {
  const std::string writer = stack().Token("wes", {"writer"});
  const absl::Time pushed = absl::Now();
  const std::string now = absl::FormatTime("%Y-%m-%dT%H:%M:%SZ", pushed, absl::UTCTimeZone());
  Post("/push",
       {{"push_source_name", "driver_stats_push"},
        {"df",
         {{"driver_id", {7101}},
          {"event_timestamp", {now}},
          {"created", {now}},
          {"conv_rate", {0.5}},
          {"acc_rate", {0.75}},
          {"avg_daily_trips", {12}}}},
        {"to", "online"}},
       writer);
  const std::string reader = stack().Token("ana", {"reader"});
  // Acknowledged is stored; it is served once the writer has applied it.
  ASSERT_TRUE(Eventually(
      [&] {
        json r = Post("/get-online-features",
                      {{"entities", {{"driver_id", {7101}}}},
                       {"features", {"driver_hourly_stats:avg_daily_trips"}}},
                      reader);
        return r.is_object() && r["results"][1]["statuses"][0] == "PRESENT";
      },
      absl::Seconds(30)));

  OpenAs(reader, "#/p/driver_stats/try");
  ASSERT_TRUE(browser().WaitFor("return !!document.getElementById('key-driver_id')").ok());
  ASSERT_TRUE(browser()
                  .Run("const s = document.getElementById('try-what');"
                       "s.value = 'service:driver_activity';"
                       "s.dispatchEvent(new Event('change')); return true")
                  .ok());
  ASSERT_TRUE(browser().Type("#key-driver_id", "7101").ok());
  ASSERT_TRUE(browser().Click("#try-form button[type=submit]").ok());
  ASSERT_TRUE(browser().WaitFor("return !!document.querySelector('#try-table')").ok());
  // One row per feature: the key and the service's three features, each present.
  EXPECT_THAT(Texts("#try-table tbody td:nth-child(2)"),
              UnorderedElementsAreArray({"driver_id", "conv_rate", "acc_rate", "avg_daily_trips"}));
  EXPECT_THAT(Texts("#try-table tbody td:nth-child(4)"), ::testing::Each(::testing::Eq("PRESENT")));
  EXPECT_THAT(Texts("#try-table tbody td:nth-child(3)"), IsSupersetOf({"7101", "0.5", "12"}));
  // Each feature's event time, as the page shows times; none for the key.
  EXPECT_THAT(
      Texts("#try-table tbody td:nth-child(5)"),
      UnorderedElementsAreArray(
          {std::string(), absl::FormatTime("%Y-%m-%d %H:%M:%SZ", pushed, absl::UTCTimeZone()),
           absl::FormatTime("%Y-%m-%d %H:%M:%SZ", pushed, absl::UTCTimeZone()),
           absl::FormatTime("%Y-%m-%d %H:%M:%SZ", pushed, absl::UTCTimeZone())}));
  Shot("try-it");
}

TEST_F(GatewayUiTest, HealthShowsFreshnessAgainstTtlPushRateAndTheJobs) {
  const std::string writer = stack().Token("wes", {"writer"});
  auto push = [&](int64_t driver) {
    const std::string now =
        absl::FormatTime("%Y-%m-%dT%H:%M:%SZ", absl::Now(), absl::UTCTimeZone());
    Post("/push",
         {{"push_source_name", "driver_stats_push"},
          {"df",
           {{"driver_id", {driver}},
            {"event_timestamp", {now}},
            {"created", {now}},
            {"conv_rate", {0.1}},
            {"acc_rate", {0.2}},
            {"avg_daily_trips", {3}}}},
          {"to", "online"}},
         writer);
  };
  push(7102);
  const std::string now = absl::FormatTime("%Y-%m-%dT%H:%M:%SZ", absl::Now(), absl::UTCTimeZone());
  const std::string start =
      absl::FormatTime("%Y-%m-%dT%H:%M:%SZ", absl::Now() - absl::Hours(1), absl::UTCTimeZone());
  json job = Post(
      "/materialize",
      {{"start_ts", start}, {"end_ts", now}, {"feature_views", {"driver_hourly_stats"}}}, writer);
  ASSERT_TRUE(job.is_object() && job.contains("job_id")) << job.dump();

  OpenAs(stack().Token("ana", {"reader"}), "#/p/driver_stats/health");
  // The pushed row's event is seconds old: fresh against the view's 1-day TTL once the
  // materializer has written it (the page refreshes itself every 5 s).
  absl::Status fresh = browser().WaitFor(
      "return document.querySelector('[data-freshness=driver_hourly_stats]')"
      "?.textContent === 'fresh'",
      absl::Seconds(60));
  ASSERT_TRUE(fresh.ok()) << fresh;
  EXPECT_THAT(Texts("#jobs tbody td:first-child"),
              Contains(job["job_id"].get<std::string>().substr(0, 8)));
  // The freshness chart was drawn from the same figures.
  auto drawn = browser().Run("return !!window.Chart && !!Chart.getChart('freshness-chart')");
  ASSERT_TRUE(drawn.ok()) << drawn.status();
  EXPECT_EQ(*drawn, true);
  // Rows pushed while the page watches show as a rate above zero.
  push(7103);
  absl::Status rate = browser().WaitFor(
      "return parseFloat(document.querySelector('[data-rate=driver_hourly_stats]')"
      "?.dataset.raw) > 0",
      absl::Seconds(60));
  ASSERT_TRUE(rate.ok()) << rate;
  Shot("health");
}

TEST_F(GatewayUiTest, ACallerSeesOnlyWhatItMayDescribe) {
  // A reader may DESCRIBE every kind but permissions.
  OpenAs(stack().Token("ana", {"reader"}), "#/p/driver_stats");
  ASSERT_TRUE(
      browser().WaitFor("return !!document.querySelector('[data-count=permissions]')").ok());
  EXPECT_THAT(Texts("[data-count=permissions]"), ::testing::ElementsAre("0"));
  EXPECT_THAT(Texts("[data-count=feature-views]"),
              ::testing::ElementsAre(std::to_string(stack().repo().feature_views_size())));

  // A team's browser sees the project and its team's view, and nothing else: not in lists,
  // search or lineage.
  OpenAs(stack().Token("tara", {"team_browser"}), "#/p/driver_stats");
  ASSERT_TRUE(
      browser().WaitFor("return !!document.querySelector('[data-count=permissions]')").ok());
  for (const char* kind :
       {"entities", "data-sources", "on-demand-feature-views", "feature-services", "permissions"}) {
    EXPECT_THAT(Texts(absl::StrCat("[data-count='", kind, "']")), ::testing::ElementsAre("0"))
        << kind;
  }
  EXPECT_THAT(Texts("[data-count=feature-views]"), ::testing::ElementsAre("1"));
  Go("#/p/driver_stats/search?q=driver");
  ASSERT_TRUE(browser().WaitFor("return !!document.querySelector('#results')").ok());
  EXPECT_THAT(Attributes("#results [data-result]", "data-result"),
              UnorderedElementsAreArray({"feature-views:driver_hourly_stats"}));
  Go("#/p/driver_stats/lineage");
  ASSERT_TRUE(browser().WaitFor("return !!document.querySelector('.lineage svg')").ok());
  EXPECT_THAT(Attributes(".lineage svg [data-node]", "data-node"),
              UnorderedElementsAreArray({"feature-views:driver_hourly_stats"}));
  Shot("team-browser");
  // No page of the project holds a name it may not see (the view's own page names its
  // sources: they are part of its definition, which it may DESCRIBE).
  for (const char* page :
       {"#/p/driver_stats", "#/p/driver_stats/k/feature-views", "#/p/driver_stats/search?q=driver",
        "#/p/driver_stats/lineage", "#/p/driver_stats/health", "#/p/driver_stats/try"}) {
    Go(page);
    // The page itself, not an error in its place.
    EXPECT_THAT(Texts(".alert-danger"), IsEmpty()) << page;
    EXPECT_THAT(Texts("#view h1"), ::testing::Not(IsEmpty())) << page;
    auto text = browser().Run("return document.documentElement.outerHTML");
    ASSERT_TRUE(text.ok());
    for (const char* hidden :
         {"driver_activity", "driver_ranking", "driver_rates", "transformed_conv_rate",
          "driver_stats_source", "vals_to_add", "writers"}) {
      EXPECT_THAT(text->get<std::string>(), ::testing::Not(::testing::HasSubstr(hidden)))
          << page << " shows " << hidden;
    }
  }
}

TEST_F(GatewayUiTest, WithoutATokenThePageAsksForOneAndCallsNothing) {
  ASSERT_TRUE(browser().Open(Url("#/login")).ok());
  ASSERT_TRUE(browser().Run("sessionStorage.clear(); return true").ok());
  // A fresh load (not a hash change): the page's own requests are all in its timeline.
  ASSERT_TRUE(browser().Open("about:blank").ok());
  Go("#/p/driver_stats");
  ASSERT_TRUE(browser().WaitFor("return !!document.getElementById('token-form')").ok());
  auto asked = browser().Run(
      "return performance.getEntriesByType('resource').map((e) => e.name)"
      ".filter((n) => n.includes('/api/') || n.includes('/get-online-features'))");
  ASSERT_TRUE(asked.ok()) << asked.status();
  EXPECT_THAT(asked->get<std::vector<std::string>>(), IsEmpty());
  // Pasting a token signs in.
  ASSERT_TRUE(browser().Type("#token", stack().Token("ana", {"reader"})).ok());
  ASSERT_TRUE(browser().Click("#token-form button[type=submit]").ok());
  // Signed in, the page that asked for the token shows.
  ASSERT_TRUE(browser().WaitFor("return !!document.querySelector('[data-count=entities]')").ok());
  EXPECT_THAT(Texts("#who"), ::testing::ElementsAre("ana (reader)"));
}

TEST_F(GatewayUiTest, SignsInAtTheIssuerWithAnAuthorizationCodeAndPkce) {
  ASSERT_TRUE(browser().Open(Url("#/login")).ok());
  ASSERT_TRUE(browser().Run("sessionStorage.clear(); return true").ok());
  ASSERT_TRUE(browser().Open("about:blank").ok());
  Go("#/p/driver_stats");
  ASSERT_TRUE(browser().WaitFor("return !!document.getElementById('oidc-login')").ok());
  const int issued = stack().idp().tokens_issued();
  ASSERT_TRUE(browser().Click("#oidc-login").ok());
  // To the issuer and back with a code, which the page exchanges for a token with its PKCE
  // verifier (the issuer refuses a verifier whose S256 is not the challenge).
  absl::Status back = browser().WaitFor(
      "return location.pathname === '/ui/' && location.search === '' && "
      "!!document.querySelector('#projects')");
  ASSERT_TRUE(back.ok()) << back;
  EXPECT_THAT(stack().idp().Refusals(), IsEmpty());
  EXPECT_EQ(stack().idp().tokens_issued(), issued + 1);
  EXPECT_THAT(Texts("#who"), ::testing::ElementsAre("olivia (reader)"));
  EXPECT_THAT(Texts("#projects tbody td:first-child"), Contains("driver_stats"));
}

}  // namespace
}  // namespace granary::testing
