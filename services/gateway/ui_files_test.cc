#include "services/gateway/ui_files.h"

#include <filesystem>
#include <fstream>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"

#include "libs/testing/temp_dir.h"

namespace granary::gateway {
namespace {

using ::testing::HasSubstr;

class UiFilesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto dir = testing::TempDir::Create("ui-files");
    ASSERT_TRUE(dir.ok()) << dir.status();
    dir_ = std::make_unique<testing::TempDir>(std::move(*dir));
    Write("ui/index.html", "<!doctype html><title>x</title>");
    Write("ui/js/app.js", "export {};");
    Write("vendor/bootstrap5/css/bootstrap.min.css", "body{}");
    Write("vendor/chart.js/chart.min.js", "var Chart;");
    options_.dir = dir_->path() + "/ui";
    options_.vendor_dir = dir_->path() + "/vendor";
  }
  void Write(const std::string& relative, const std::string& text) {
    std::filesystem::path path = dir_->path() + "/" + relative;
    std::filesystem::create_directories(path.parent_path());
    std::ofstream(path) << text;
  }

  std::unique_ptr<testing::TempDir> dir_;
  UiOptions options_;
};

TEST_F(UiFilesTest, ServesThePageItsModulesAndDebiansLibraries) {
  auto ui = UiFiles::Load(options_, "jwt");
  ASSERT_TRUE(ui.ok()) << ui.status();
  auto page = (*ui)->Serve("/ui/");
  ASSERT_TRUE(page.has_value());
  EXPECT_EQ(page->status, 200);
  EXPECT_EQ(page->content_type, "text/html; charset=utf-8");
  EXPECT_EQ(page->body, "<!doctype html><title>x</title>");
  auto csp = std::find_if(page->headers.begin(), page->headers.end(),
                          [](const auto& h) { return h.first == "Content-Security-Policy"; });
  ASSERT_NE(csp, page->headers.end());
  EXPECT_THAT(csp->second, HasSubstr("default-src 'self'"));

  auto module = (*ui)->Serve("/ui/js/app.js");
  ASSERT_TRUE(module.has_value());
  EXPECT_EQ(module->status, 200);
  EXPECT_EQ(module->content_type, "text/javascript; charset=utf-8");
  auto css = (*ui)->Serve("/ui/vendor/bootstrap5/css/bootstrap.min.css");
  ASSERT_TRUE(css.has_value());
  EXPECT_EQ(css->body, "body{}");
  EXPECT_EQ(css->content_type, "text/css; charset=utf-8");

  auto redirect = (*ui)->Serve("/ui");
  ASSERT_TRUE(redirect.has_value());
  EXPECT_EQ(redirect->status, 302);
  EXPECT_FALSE((*ui)->Serve("/uix").has_value());
  EXPECT_FALSE((*ui)->Serve("/api/v1/projects").has_value());
}

TEST_F(UiFilesTest, NothingOutsideTheFilesReadAtStartUp) {
  Write("secret.txt", "no");
  auto ui = UiFiles::Load(options_, "jwt");
  ASSERT_TRUE(ui.ok()) << ui.status();
  for (const char* path :
       {"/ui/../secret.txt", "/ui/%2e%2e/secret.txt", "/ui/vendor/../../secret.txt",
        "/ui/nothing.js", "/ui/vendor/chart.js/chart.js"}) {
    auto answer = (*ui)->Serve(path);
    ASSERT_TRUE(answer.has_value()) << path;
    EXPECT_EQ(answer->status, 404) << path;
    EXPECT_THAT(answer->body, HasSubstr("NOT_FOUND")) << path;
  }
}

TEST_F(UiFilesTest, ConfigTellsThePageHowToSignInAndNoSecret) {
  options_.oidc_issuer = "https://idp.example/realms/x";
  options_.oidc_client_id = "granary-ui";
  options_.connect_origins = {"https://tokens.example"};
  auto ui = UiFiles::Load(options_, "oidc");
  ASSERT_TRUE(ui.ok()) << ui.status();
  auto config = (*ui)->Serve("/ui/config.json");
  ASSERT_TRUE(config.has_value());
  nlohmann::json parsed = nlohmann::json::parse(config->body);
  EXPECT_EQ(parsed, nlohmann::json({{"auth", "oidc"},
                                    {"oidc",
                                     {{"issuer", "https://idp.example/realms/x"},
                                      {"client_id", "granary-ui"},
                                      {"scope", "openid"}}}}));
  // The page may fetch the issuer's discovery and token endpoints, and nothing else outside.
  auto page = (*ui)->Serve("/ui/");
  auto csp = std::find_if(page->headers.begin(), page->headers.end(),
                          [](const auto& h) { return h.first == "Content-Security-Policy"; });
  ASSERT_NE(csp, page->headers.end());
  EXPECT_THAT(csp->second,
              HasSubstr("connect-src 'self' https://idp.example https://tokens.example;"));
}

TEST_F(UiFilesTest, AMissingFileStopsTheStartNamingIt) {
  std::filesystem::remove(dir_->path() + "/vendor/chart.js/chart.min.js");
  auto missing_vendor = UiFiles::Load(options_, "jwt");
  ASSERT_FALSE(missing_vendor.ok());
  EXPECT_EQ(missing_vendor.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(missing_vendor.status().message(), HasSubstr("chart.js/chart.min.js"));
  EXPECT_THAT(missing_vendor.status().message(), HasSubstr("libjs-chart.js"));

  options_.dir = dir_->path() + "/nowhere";
  auto missing_page = UiFiles::Load(options_, "jwt");
  ASSERT_FALSE(missing_page.ok());
  EXPECT_THAT(missing_page.status().message(), HasSubstr("no index.html in"));
}

}  // namespace
}  // namespace granary::gateway
