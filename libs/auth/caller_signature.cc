#include "libs/auth/caller_signature.h"

#include <cstdio>
#include <cstdlib>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "nlohmann/json.hpp"
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/params.h>

namespace granary::auth {
namespace {

constexpr absl::string_view kVersion = "v1";

absl::Status Refused(absl::string_view why) {
  return absl::UnauthenticatedError(absl::StrCat("gateway signature: ", why));
}

}  // namespace

struct HmacSha256::State {
  EVP_MAC* mac = nullptr;
  EVP_MAC_CTX* keyed = nullptr;
};

HmacSha256::HmacSha256(const std::string& key) : state_(std::make_unique<State>()) {
  state_->mac = EVP_MAC_fetch(nullptr, "HMAC", nullptr);
  state_->keyed = state_->mac != nullptr ? EVP_MAC_CTX_new(state_->mac) : nullptr;
  char digest[] = "SHA256";
  const OSSL_PARAM params[] = {OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, digest, 0),
                               OSSL_PARAM_construct_end()};
  if (state_->keyed == nullptr ||
      EVP_MAC_init(state_->keyed, reinterpret_cast<const unsigned char*>(key.data()), key.size(),
                   params) != 1) {
    // OpenSSL without HMAC or SHA-256 is not a state a service can run in.
    std::fprintf(stderr, "fatal: OpenSSL cannot key HMAC-SHA256\n");
    std::abort();
  }
}

HmacSha256::~HmacSha256() {
  EVP_MAC_CTX_free(state_->keyed);
  EVP_MAC_free(state_->mac);
}

std::string HmacSha256::Mac(absl::string_view payload) const {
  unsigned char out[EVP_MAX_MD_SIZE];
  size_t length = 0;
  EVP_MAC_CTX* call = EVP_MAC_CTX_dup(state_->keyed);
  const bool ok = call != nullptr &&
                  EVP_MAC_update(call, reinterpret_cast<const unsigned char*>(payload.data()),
                                 payload.size()) == 1 &&
                  EVP_MAC_final(call, out, &length, sizeof(out)) == 1;
  EVP_MAC_CTX_free(call);
  // An empty MAC never verifies: a failure here refuses calls rather than passing them.
  if (!ok) return std::string();
  return std::string(reinterpret_cast<const char*>(out), length);
}

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
  return absl::StrCat(signed_part, ".", absl::WebSafeBase64Escape(mac_->Mac(signed_part)));
}

absl::StatusOr<Identity> CallerVerifier::Verify(absl::string_view header, absl::string_view method,
                                                absl::Time now) const {
  if (header.empty()) return Refused("missing (call the gateway, not this service)");
  std::vector<absl::string_view> parts = absl::StrSplit(header, '.');
  if (parts.size() != 3 || parts[0] != kVersion) return Refused("malformed");
  std::string mac;
  if (!absl::WebSafeBase64Unescape(parts[2], &mac)) return Refused("malformed");
  std::string expected = mac_->Mac(header.substr(0, parts[0].size() + 1 + parts[1].size()));
  // Constant time: how many leading bytes matched must not show in how long the check took.
  if (expected.empty() || mac.size() != expected.size() ||
      CRYPTO_memcmp(mac.data(), expected.data(), mac.size())) {
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
