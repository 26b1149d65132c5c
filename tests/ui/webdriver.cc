#include "tests/ui/webdriver.h"

#include <fstream>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"

#include "libs/auth/http_fetch.h"
#include "libs/base/status_macros.h"
#include "libs/testing/ports.h"

namespace granary::testing {
namespace {

using json = nlohmann::json;

// W3C WebDriver's key for an element reference.
constexpr char kElementKey[] = "element-6066-11e4-a52e-4f735466cecf";

}  // namespace

absl::StatusOr<std::unique_ptr<Browser>> Browser::Start(const std::string& dir) {
  auto browser = std::unique_ptr<Browser>(new Browser());
  ASSIGN_OR_RETURN(std::vector<int> ports, PickFreePorts(1));
  ASSIGN_OR_RETURN(browser->driver_,
                   Subprocess::Start({.argv = {"chromedriver", absl::StrCat("--port=", ports[0]),
                                               "--allowed-ips=127.0.0.1"},
                                      .log_path = dir + "/chromedriver.log"}));
  RETURN_IF_ERROR(browser->driver_->WaitForOutput("started successfully", absl::Seconds(30)));
  browser->base_ = absl::StrCat("http://127.0.0.1:", ports[0]);
  json options = {{"binary", "/usr/bin/chromium"},
                  {"args",
                   {"--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                    "--window-size=1280,1000", "--no-first-run", "--disable-extensions",
                    absl::StrCat("--user-data-dir=", dir, "/chromium-profile")}}};
  json capabilities = {{"capabilities",
                        {{"alwaysMatch",
                          {{"browserName", "chrome"},
                           {"goog:chromeOptions", options},
                           {"goog:loggingPrefs", {{"browser", "ALL"}}}}}}}};
  ASSIGN_OR_RETURN(json created, browser->Command("POST", "/session", capabilities));
  if (!created.contains("sessionId")) {
    return absl::InternalError(absl::StrCat("webdriver: no session in ", created.dump()));
  }
  browser->session_ = absl::StrCat("/session/", created["sessionId"].get<std::string>());
  return browser;
}

Browser::~Browser() {
  if (!session_.empty()) (void)Command("DELETE", session_);
  if (driver_ != nullptr) (void)driver_->Stop();
}

absl::StatusOr<json> Browser::Command(const std::string& method, const std::string& path,
                                      const json& body) {
  auth::HttpRequest request;
  request.method = method;
  request.url = base_ + path;
  request.timeout = absl::Seconds(60);
  if (!body.is_null()) {
    request.body = body.dump();
    request.headers.emplace_back("Content-Type", "application/json");
  }
  ASSIGN_OR_RETURN(auth::HttpResponse response, auth::HttpFetch(request));
  json answer = json::parse(response.body, nullptr, false);
  if (answer.is_discarded() || !answer.is_object()) {
    return absl::InternalError(absl::StrCat("webdriver ", method, " ", path, ": HTTP ",
                                            response.status, " ", response.body.substr(0, 300)));
  }
  json value = answer.value("value", json());
  if (response.status != 200) {
    return absl::InternalError(absl::StrCat("webdriver ", method, " ", path, ": ",
                                            value.is_object() ? value.value("message", "") : "",
                                            " (HTTP ", response.status, ")"));
  }
  // New sessions answer {"value": {"sessionId": ..., "capabilities": ...}}.
  return value;
}

absl::Status Browser::Open(const std::string& url) {
  return Command("POST", session_ + "/url", {{"url", url}}).status();
}

absl::StatusOr<json> Browser::Run(const std::string& script, const json& args) {
  return Command("POST", session_ + "/execute/sync", {{"script", script}, {"args", args}});
}

absl::Status Browser::WaitFor(const std::string& script, absl::Duration timeout) {
  absl::Status last = absl::OkStatus();
  for (absl::Time give_up = absl::Now() + timeout;;) {
    absl::StatusOr<json> ready = Run(script);
    if (ready.ok() && ready->is_boolean() && ready->get<bool>()) return absl::OkStatus();
    if (!ready.ok()) last = ready.status();
    if (absl::Now() >= give_up) break;
    absl::SleepFor(absl::Milliseconds(50));  // asking again; the page signals nothing
  }
  ASSIGN_OR_RETURN(json page, Run("return document.getElementById('view')?.innerText ?? ''"));
  return absl::DeadlineExceededError(absl::StrCat(
      "the page never satisfied: ", script,
      last.ok() ? "" : absl::StrCat(" (", last.ToString(), ")"),
      "\npage text: ", page.is_string() ? page.get<std::string>().substr(0, 600) : ""));
}

absl::StatusOr<std::string> Browser::Element(const std::string& css) {
  ASSIGN_OR_RETURN(json found, Command("POST", session_ + "/element",
                                       {{"using", "css selector"}, {"value", css}}));
  if (!found.is_object() || !found.contains(kElementKey)) {
    return absl::NotFoundError(absl::StrCat("no element ", css));
  }
  return found[kElementKey].get<std::string>();
}

absl::Status Browser::Type(const std::string& css, const std::string& text) {
  ASSIGN_OR_RETURN(std::string element, Element(css));
  return Command("POST", absl::StrCat(session_, "/element/", element, "/value"), {{"text", text}})
      .status();
}

absl::Status Browser::Click(const std::string& css) {
  ASSIGN_OR_RETURN(std::string element, Element(css));
  return Command("POST", absl::StrCat(session_, "/element/", element, "/click"), json::object())
      .status();
}

absl::Status Browser::Screenshot(const std::string& path) {
  ASSIGN_OR_RETURN(json encoded, Command("GET", session_ + "/screenshot"));
  std::string png;
  if (!encoded.is_string() || !absl::Base64Unescape(encoded.get<std::string>(), &png)) {
    return absl::InternalError("webdriver: the screenshot is not base64");
  }
  std::ofstream out(path, std::ios::binary);
  out << png;
  out.close();
  return out ? absl::OkStatus() : absl::InternalError(absl::StrCat("cannot write ", path));
}

absl::StatusOr<std::vector<ConsoleEntry>> Browser::TakeConsole() {
  // chromedriver's log endpoint (goog:loggingPrefs asked for the browser's console).
  ASSIGN_OR_RETURN(json entries, Command("POST", session_ + "/se/log", {{"type", "browser"}}));
  std::vector<ConsoleEntry> out;
  for (const json& e : entries) {
    out.push_back({e.value("level", ""), e.value("message", "")});
  }
  return out;
}

}  // namespace granary::testing
