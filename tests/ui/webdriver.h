// Headless Chromium for the UI's tests, driven over the W3C WebDriver protocol by Debian's
// chromedriver (a child process on a free loopback port). Only what the tests need: open a URL,
// run a script, type, click, screenshot, and read the browser's console log.
//
//   ASSIGN_OR_RETURN(auto browser, Browser::Start(dir));
//   RETURN_IF_ERROR(browser->Open("http://127.0.0.1:6566/ui/"));
//   ASSIGN_OR_RETURN(nlohmann::json title, browser->Run("return document.title"));
#ifndef GRANARY_TESTS_UI_WEBDRIVER_H_
#define GRANARY_TESTS_UI_WEBDRIVER_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "nlohmann/json.hpp"

#include "libs/testing/subprocess.h"

namespace granary::testing {

struct ConsoleEntry {
  std::string level;  // "SEVERE", "WARNING", "INFO"
  std::string message;
};

class Browser {
 public:
  // Starts chromedriver and one Chromium session (profile under `dir`).
  static absl::StatusOr<std::unique_ptr<Browser>> Start(const std::string& dir);
  ~Browser();

  absl::Status Open(const std::string& url);
  // Runs `script` as a function body in the page (`arguments[0]`... are `args`); its return
  // value.
  absl::StatusOr<nlohmann::json> Run(const std::string& script,
                                     const nlohmann::json& args = nlohmann::json::array());
  // Asks `script` (a function body returning a boolean) again until it returns true. The
  // timeout bounds a failing test; a passing one returns as soon as the page is ready.
  absl::Status WaitFor(const std::string& script, absl::Duration timeout = absl::Seconds(30));
  // Types `text` into the element `css` selects (focused by WebDriver, as a user would).
  absl::Status Type(const std::string& css, const std::string& text);
  absl::Status Click(const std::string& css);
  // The page as a PNG, written to `path`.
  absl::Status Screenshot(const std::string& path);
  // The console's entries since the last call.
  absl::StatusOr<std::vector<ConsoleEntry>> TakeConsole();

 private:
  Browser() = default;
  absl::StatusOr<nlohmann::json> Command(const std::string& method, const std::string& path,
                                         const nlohmann::json& body = nullptr);
  absl::StatusOr<std::string> Element(const std::string& css);

  std::unique_ptr<Subprocess> driver_;
  std::string base_;     // http://127.0.0.1:port
  std::string session_;  // /session/<id>
};

}  // namespace granary::testing

#endif  // GRANARY_TESTS_UI_WEBDRIVER_H_
