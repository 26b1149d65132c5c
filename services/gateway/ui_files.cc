#include "services/gateway/ui_files.h"

#include <filesystem>
#include <fstream>
#include <sstream>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "nlohmann/json.hpp"

namespace granary::gateway {
namespace {

namespace fs = std::filesystem;

std::string ContentType(const std::string& path) {
  static const std::map<std::string, std::string>* types = new std::map<std::string, std::string>{
      {".html", "text/html; charset=utf-8"}, {".js", "text/javascript; charset=utf-8"},
      {".css", "text/css; charset=utf-8"},   {".svg", "image/svg+xml"},
      {".json", "application/json"},         {".png", "image/png"},
  };
  auto it = types->find(fs::path(path).extension().string());
  return it == types->end() ? "application/octet-stream" : it->second;
}

absl::StatusOr<std::string> ReadFile(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::NotFoundError(absl::StrCat("ui: cannot read ", path.string()));
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

// "https://idp.example/realms/x" -> "https://idp.example": what the page may connect to.
std::string Origin(const std::string& url) {
  size_t scheme = url.find("://");
  if (scheme == std::string::npos) return "";
  size_t end = url.find('/', scheme + 3);
  return url.substr(0, end);
}

}  // namespace

std::string DefaultUiDir() {
  std::error_code error;
  fs::path exe = fs::read_symlink("/proc/self/exe", error);
  if (!error) {
    fs::path beside = exe.string() + ".runfiles/granary/services/gateway/ui";
    if (fs::exists(beside / "index.html", error)) return beside.string();
  }
  return "/usr/share/granary/ui";
}

const std::vector<std::string>& UiFiles::VendorFiles() {
  static const auto* files = new std::vector<std::string>{
      "bootstrap5/css/bootstrap.min.css",
      "chart.js/chart.min.js",
  };
  return *files;
}

absl::StatusOr<std::shared_ptr<const UiFiles>> UiFiles::Load(const UiOptions& options,
                                                             const std::string& auth_type) {
  auto ui = std::shared_ptr<UiFiles>(new UiFiles());
  const fs::path dir = options.dir.empty() ? DefaultUiDir() : options.dir;
  std::error_code error;
  if (!fs::exists(dir / "index.html", error)) {
    return absl::NotFoundError(absl::StrCat("ui: no index.html in ", dir.string(),
                                            " (gateway.ui.dir; or ui: {enabled: false})"));
  }
  for (auto it = fs::recursive_directory_iterator(dir, error);
       !error && it != fs::recursive_directory_iterator(); it.increment(error)) {
    if (!it->is_regular_file()) continue;
    // Lexically: runfiles are symlinks, which fs::relative would resolve.
    const std::string relative = it->path().lexically_relative(dir).generic_string();
    absl::StatusOr<std::string> body = ReadFile(it->path());
    if (!body.ok()) return body.status();
    ui->files_[relative] = {ContentType(relative), std::move(*body)};
  }
  if (error)
    return absl::InternalError(absl::StrCat("ui: listing ", dir.string(), ": ", error.message()));
  for (const std::string& file : VendorFiles()) {
    absl::StatusOr<std::string> body = ReadFile(fs::path(options.vendor_dir) / file);
    if (!body.ok()) {
      return absl::NotFoundError(absl::StrCat(
          "ui: missing ", (fs::path(options.vendor_dir) / file).string(),
          " (Debian's libjs-bootstrap5 and libjs-chart.js; tools/setup installs them)"));
    }
    ui->files_["vendor/" + file] = {ContentType(file), std::move(*body)};
  }
  nlohmann::json config = {{"auth", auth_type}};
  if (!options.oidc_client_id.empty()) {
    config["oidc"] = {{"issuer", options.oidc_issuer},
                      {"client_id", options.oidc_client_id},
                      {"scope", options.oidc_scope}};
  }
  ui->files_["config.json"] = {"application/json", config.dump()};
  // Scripts and styles only from here; data only from here and the issuer (its discovery and
  // token endpoints, for the sign-in).
  std::string connect = "'self'";
  if (!options.oidc_client_id.empty()) {
    absl::StrAppend(&connect, " ", Origin(options.oidc_issuer));
    for (const std::string& origin : options.connect_origins)
      absl::StrAppend(&connect, " ", origin);
  }
  ui->csp_ = absl::StrCat("default-src 'self'; img-src 'self' data:; connect-src ", connect,
                          "; frame-ancestors 'none'; base-uri 'none'; form-action 'self'; "
                          "object-src 'none'");
  return std::shared_ptr<const UiFiles>(std::move(ui));
}

std::optional<HttpResponse> UiFiles::Serve(absl::string_view path) const {
  if (path != "/ui" && !absl::StartsWith(path, "/ui/")) return std::nullopt;
  if (path == "/ui") {
    return HttpResponse{302, "text/plain; charset=utf-8", "", {{"Location", "/ui/"}}};
  }
  std::string relative(path.substr(4));
  if (relative.empty()) relative = "index.html";
  // Only the files read at start-up exist: no path reaches the disk.
  auto it = files_.find(relative);
  if (it == files_.end()) {
    return HttpResponse{
        404,
        "application/json",
        nlohmann::json({{"code", "NOT_FOUND"}, {"message", absl::StrCat("no file ", path)}})
            .dump(-1, ' ', false, nlohmann::json::error_handler_t::replace),
        {}};
  }
  HttpResponse response{200, it->second.content_type, it->second.body, {}};
  response.headers = {{"Cache-Control", "no-cache"},
                      {"X-Content-Type-Options", "nosniff"},
                      {"Content-Security-Policy", csp_},
                      {"Referrer-Policy", "no-referrer"}};
  return response;
}

}  // namespace granary::gateway
