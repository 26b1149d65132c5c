#include "libs/auth/caller_signature.h"

#include <vector>

#include "absl/status/status.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "nlohmann/json.hpp"
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

namespace granary::auth {
namespace {

constexpr absl::string_view kVersion = "v1";

std::string Mac(const std::string& key, absl::string_view payload) {
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
       reinterpret_cast<const unsigned char*>(payload.data()), payload.size(), out, &len);
  return std::string(reinterpret_cast<const char*>(out), len);
}

absl::Status Refused(absl::string_view why) {
  return absl::UnauthenticatedError(absl::StrCat("gateway signature: ", why));
}

}  // namespace

std::string CallerSigner::Sign(const Identity& who, absl::string_view method,
                               absl::Time now) const {
  nlohmann::json payload = {{"u", who.user},
                            {"r", who.roles},
                            {"g", who.groups},
                            {"m", std::string(method)},
                            {"exp", absl::ToUnixSeconds(now + ttl_)}};
  // A byte that is not UTF-8 (in a name from a header, say) is replaced, not thrown on.
  std::string body = absl::WebSafeBase64Escape(
      payload.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
  std::string signed_part = absl::StrCat(kVersion, ".", body);
  return absl::StrCat(signed_part, ".", absl::WebSafeBase64Escape(Mac(key_.value(), signed_part)));
}

absl::StatusOr<Identity> CallerVerifier::Verify(absl::string_view header, absl::string_view method,
                                                absl::Time now) const {
  if (header.empty()) return Refused("missing (call the gateway, not this service)");
  std::vector<absl::string_view> parts = absl::StrSplit(header, '.');
  if (parts.size() != 3 || parts[0] != kVersion) return Refused("malformed");
  std::string mac;
  if (!absl::WebSafeBase64Unescape(parts[2], &mac)) return Refused("malformed");
  std::string expected = Mac(key_.value(), header.substr(0, parts[0].size() + 1 + parts[1].size()));
  // Constant time: how many leading bytes matched must not show in how long the check took.
  if (mac.size() != expected.size() || CRYPTO_memcmp(mac.data(), expected.data(), mac.size())) {
    return Refused("bad signature");
  }
  std::string text;
  if (!absl::WebSafeBase64Unescape(parts[1], &text)) return Refused("malformed");
  nlohmann::json payload = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (!payload.is_object() || !payload["exp"].is_number_integer() || !payload["m"].is_string() ||
      !payload["u"].is_string() || !payload["r"].is_array() || !payload["g"].is_array()) {
    return Refused("malformed");
  }
  if (now > absl::FromUnixSeconds(payload["exp"].get<int64_t>()) + leeway_) {
    return Refused("expired");
  }
  if (payload["m"].get<std::string>() != method) return Refused("signed for another method");
  Identity who;
  who.user = payload["u"].get<std::string>();
  for (const auto& r : payload["r"]) {
    if (r.is_string()) who.roles.push_back(r.get<std::string>());
  }
  for (const auto& g : payload["g"]) {
    if (g.is_string()) who.groups.push_back(g.get<std::string>());
  }
  return who;
}

}  // namespace granary::auth
