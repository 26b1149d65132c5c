#include "libs/auth/http_fetch.h"

#include <algorithm>
#include <cstdint>
#include <memory>
#include <string>

#include "absl/base/call_once.h"
#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include <curl/curl.h>

namespace granary::auth {
namespace {

// Discovery documents, key sets, TokenReviews and RoleBinding lists are a few KiB to a few
// hundred KiB; a bigger answer is a misbehaving or hostile server, not data to buffer.
constexpr size_t kMaxResponseBytes = 4 << 20;
// curl treats 0 as "no timeout"; a huge value overflows its internal arithmetic.
constexpr int64_t kMaxTimeoutMs = int64_t{24} * 3600 * 1000;

struct CurlFree {
  void operator()(char* p) const { curl_free(p); }
};
using CurlString = std::unique_ptr<char, CurlFree>;

struct CurlUrlFree {
  void operator()(CURLU* u) const { curl_url_cleanup(u); }
};
struct CurlEasyFree {
  void operator()(CURL* c) const { curl_easy_cleanup(c); }
};
struct CurlSlistFree {
  void operator()(curl_slist* l) const { curl_slist_free_all(l); }
};

// curl_global_init is not safe to race with other curl calls on every build, so it runs once,
// before the first request.
CURLcode GlobalInit() {
  static absl::once_flag once;
  static CURLcode result = CURLE_OK;
  absl::call_once(once, [] { result = curl_global_init(CURL_GLOBAL_DEFAULT); });
  return result;
}

struct ParsedUrl {
  bool loopback = false;
  // scheme://host[:port]/path, without credentials, query or fragment: safe for messages.
  std::string display;
};

absl::StatusOr<ParsedUrl> ParseUrl(const std::string& url, bool allow_plain_http) {
  std::unique_ptr<CURLU, CurlUrlFree> u(curl_url());
  if (u == nullptr) return absl::ResourceExhaustedError("curl_url: out of memory");
  if (curl_url_set(u.get(), CURLUPART_URL, url.c_str(), 0) != CURLUE_OK) {
    // The URL itself may carry a secret in its query; name only its start.
    return absl::InvalidArgumentError(
        absl::StrCat("not a valid http(s) URL: ", url.substr(0, url.find_first_of("?#"))));
  }
  auto part = [&](CURLUPart which) -> std::string {
    char* raw = nullptr;
    if (curl_url_get(u.get(), which, &raw, 0) != CURLUE_OK || raw == nullptr) return "";
    CurlString owned(raw);
    return std::string(owned.get());
  };
  ParsedUrl parsed;
  const std::string scheme = absl::AsciiStrToLower(part(CURLUPART_SCHEME));
  const std::string host = absl::AsciiStrToLower(part(CURLUPART_HOST));
  parsed.loopback = host == "127.0.0.1" || host == "[::1]" || host == "localhost";

  curl_url_set(u.get(), CURLUPART_USER, nullptr, 0);
  curl_url_set(u.get(), CURLUPART_PASSWORD, nullptr, 0);
  curl_url_set(u.get(), CURLUPART_QUERY, nullptr, 0);
  curl_url_set(u.get(), CURLUPART_FRAGMENT, nullptr, 0);
  parsed.display = part(CURLUPART_URL);

  if (scheme == "https") return parsed;
  if (scheme == "http" && (parsed.loopback || allow_plain_http)) return parsed;
  if (scheme == "http") {
    return absl::InvalidArgumentError(absl::StrCat(
        parsed.display, ": plain http is accepted only for loopback hosts; use https"));
  }
  return absl::InvalidArgumentError(absl::StrCat(parsed.display, ": not an http(s) URL"));
}

struct Sink {
  std::string body;
  bool too_large = false;
};

size_t WriteBody(char* data, size_t size, size_t count, void* user) {
  auto* sink = static_cast<Sink*>(user);
  const size_t n = size * count;
  if (sink->body.size() + n > kMaxResponseBytes) {
    sink->too_large = true;
    return 0;  // Makes curl stop with CURLE_WRITE_ERROR.
  }
  sink->body.append(data, n);
  return n;
}

bool HasLineBreak(const std::string& s) { return s.find_first_of("\r\n") != std::string::npos; }

}  // namespace

absl::StatusOr<HttpResponse> HttpFetch(const HttpRequest& request) {
  auto parsed_or = ParseUrl(request.url, request.allow_plain_http);
  if (!parsed_or.ok()) return parsed_or.status();
  const ParsedUrl& url = *parsed_or;
  // Plain http to another host carries nothing secret: no credentials over it (neither a
  // header nor user:password in the URL).
  if (request.allow_plain_http && !url.loopback &&
      absl::StartsWithIgnoreCase(request.url, "http:")) {
    const size_t authority = request.url.find("://") + 3;
    const size_t end = request.url.find_first_of("/?#", authority);
    if (request.url.substr(authority, end - authority).find('@') != std::string::npos) {
      return absl::InvalidArgumentError(
          absl::StrCat(url.display, ": no credentials over plain http; use https"));
    }
    for (const auto& [name, value] : request.headers) {
      if (absl::EqualsIgnoreCase(name, "authorization")) {
        return absl::InvalidArgumentError(
            absl::StrCat(url.display, ": no credentials over plain http; use https"));
      }
    }
  }
  const std::string what = absl::StrCat(request.method, " ", url.display);

  if (request.timeout <= absl::ZeroDuration()) {
    return absl::InvalidArgumentError(absl::StrCat(what, ": timeout must be positive"));
  }
  const int64_t timeout_ms =
      std::clamp<int64_t>(absl::ToInt64Milliseconds(request.timeout), 1, kMaxTimeoutMs);
  if (request.method.empty() || HasLineBreak(request.method)) {
    return absl::InvalidArgumentError(absl::StrCat(what, ": invalid method"));
  }

  if (CURLcode rc = GlobalInit(); rc != CURLE_OK) {
    return absl::InternalError(absl::StrCat("curl_global_init: ", curl_easy_strerror(rc)));
  }
  std::unique_ptr<CURL, CurlEasyFree> curl(curl_easy_init());
  if (curl == nullptr) return absl::ResourceExhaustedError("curl_easy_init failed");
  CURL* c = curl.get();

  // Header values can hold tokens read from files; a line break would smuggle extra headers.
  std::unique_ptr<curl_slist, CurlSlistFree> headers;
  auto add_header = [&](const std::string& line) -> bool {
    curl_slist* next = curl_slist_append(headers.get(), line.c_str());
    if (next == nullptr) return false;
    headers.release();
    headers.reset(next);
    return true;
  };
  for (const auto& [name, value] : request.headers) {
    if (name.empty() || HasLineBreak(name) || HasLineBreak(value) ||
        name.find(':') != std::string::npos) {
      return absl::InvalidArgumentError(absl::StrCat(what, ": invalid header ", name));
    }
    if (!add_header(absl::StrCat(name, ": ", value))) {
      return absl::ResourceExhaustedError("curl_slist_append failed");
    }
  }
  // Without this, curl waits up to a second for "100 Continue" before sending a larger body.
  if (!add_header("Expect:")) return absl::ResourceExhaustedError("curl_slist_append failed");

  Sink sink;
  char error[CURL_ERROR_SIZE] = {0};
  CURLcode set = CURLE_OK;
  auto opt = [&set](CURLcode rc) {
    if (set == CURLE_OK) set = rc;
  };
  opt(curl_easy_setopt(c, CURLOPT_URL, request.url.c_str()));
  const bool plain_ok = url.loopback || request.allow_plain_http;
  opt(curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, plain_ok ? "http,https" : "https"));
  opt(curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L));
  // Signals would be unsafe in a multi-threaded server; timeouts still hold with the threaded
  // resolver Debian's libcurl uses.
  opt(curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L));
  opt(curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, static_cast<long>(timeout_ms)));
  opt(curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(timeout_ms)));
  opt(curl_easy_setopt(c, CURLOPT_MAXFILESIZE_LARGE, static_cast<curl_off_t>(kMaxResponseBytes)));
  opt(curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, &WriteBody));
  opt(curl_easy_setopt(c, CURLOPT_WRITEDATA, &sink));
  opt(curl_easy_setopt(c, CURLOPT_ERRORBUFFER, error));
  opt(curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers.get()));
  opt(curl_easy_setopt(c, CURLOPT_USERAGENT, "granary-auth"));
  // A proxy configured for the host's egress must never see loopback traffic.
  // Loopback, and plain http inside a cluster (metrics), never through a proxy.
  if (plain_ok) opt(curl_easy_setopt(c, CURLOPT_NOPROXY, "*"));
  if (!request.ca_file.empty()) opt(curl_easy_setopt(c, CURLOPT_CAINFO, request.ca_file.c_str()));

  if (request.method == "GET" && request.body.empty()) {
    opt(curl_easy_setopt(c, CURLOPT_HTTPGET, 1L));
  } else {
    if (request.method == "HEAD") {
      opt(curl_easy_setopt(c, CURLOPT_NOBODY, 1L));
    } else if (request.method == "POST" || !request.body.empty()) {
      opt(curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE,
                           static_cast<curl_off_t>(request.body.size())));
      opt(curl_easy_setopt(c, CURLOPT_POSTFIELDS, request.body.data()));
    }
    if (request.method != "POST" && request.method != "HEAD") {
      opt(curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, request.method.c_str()));
    }
  }
  if (set != CURLE_OK) {
    return absl::InternalError(absl::StrCat(what, ": curl_easy_setopt: ", curl_easy_strerror(set)));
  }

  const CURLcode rc = curl_easy_perform(c);
  if (sink.too_large || rc == CURLE_FILESIZE_EXCEEDED) {
    return absl::UnavailableError(
        absl::StrCat(what, ": response larger than ", kMaxResponseBytes >> 20, " MiB"));
  }
  if (rc != CURLE_OK) {
    const std::string detail = error[0] != '\0' ? error : curl_easy_strerror(rc);
    return absl::UnavailableError(absl::StrCat(what, ": ", detail));
  }
  HttpResponse response;
  curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &response.status);
  response.body = std::move(sink.body);
  return response;
}

}  // namespace granary::auth
