#include "libs/auth/jwks.h"

#include <memory>
#include <string>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "nlohmann/json.hpp"
#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>
#include <openssl/pem.h>

#include "libs/base/status_macros.h"

namespace granary::auth {
namespace {

using json = nlohmann::json;

// Below this an RSA key is factorable by a determined attacker; such a key is skipped rather
// than trusted (NIST SP 800-131A).
constexpr int kMinRsaBits = 2048;

struct BnFree {
  void operator()(BIGNUM* bn) const { BN_free(bn); }
};
struct ParamBldFree {
  void operator()(OSSL_PARAM_BLD* bld) const { OSSL_PARAM_BLD_free(bld); }
};
struct ParamFree {
  void operator()(OSSL_PARAM* params) const { OSSL_PARAM_free(params); }
};
struct PkeyCtxFree {
  void operator()(EVP_PKEY_CTX* ctx) const { EVP_PKEY_CTX_free(ctx); }
};
struct PkeyFree {
  void operator()(EVP_PKEY* key) const { EVP_PKEY_free(key); }
};
struct BioFree {
  void operator()(BIO* bio) const { BIO_free(bio); }
};
using PkeyPtr = std::unique_ptr<EVP_PKEY, PkeyFree>;

absl::Status BadKey(absl::string_view kid, absl::string_view why) {
  return absl::InvalidArgumentError(
      absl::StrCat("JWKS key \"", absl::CHexEscape(kid), "\": ", why));
}

// A base64url member of a JWK as bytes. JWKs omit padding; WebSafeBase64Unescape accepts
// both forms.
absl::StatusOr<std::string> Member(const json& jwk, const char* name, absl::string_view kid) {
  auto it = jwk.find(name);
  if (it == jwk.end() || !it->is_string()) {
    return BadKey(kid, absl::StrCat("member \"", name, "\" is missing or not a string"));
  }
  std::string bytes;
  if (!absl::WebSafeBase64Unescape(it->get_ref<const std::string&>(), &bytes) || bytes.empty()) {
    return BadKey(kid, absl::StrCat("member \"", name, "\" is not base64url"));
  }
  return bytes;
}

// Builds a public key from OSSL_PARAMs (the OpenSSL 3 way; the RSA_/EC_KEY setters are
// deprecated).
PkeyPtr FromData(const char* type, OSSL_PARAM_BLD* bld) {
  std::unique_ptr<OSSL_PARAM, ParamFree> params(OSSL_PARAM_BLD_to_param(bld));
  if (params == nullptr) return nullptr;
  std::unique_ptr<EVP_PKEY_CTX, PkeyCtxFree> ctx(
      EVP_PKEY_CTX_new_from_name(nullptr, type, nullptr));
  if (ctx == nullptr || EVP_PKEY_fromdata_init(ctx.get()) <= 0) return nullptr;
  EVP_PKEY* raw = nullptr;
  if (EVP_PKEY_fromdata(ctx.get(), &raw, EVP_PKEY_PUBLIC_KEY, params.get()) <= 0) return nullptr;
  PkeyPtr key(raw);
  // fromdata takes RSA parameters as given; an exponent of 1 would make every signature
  // verify. The public check refuses that (and points off the curve, for EC).
  std::unique_ptr<EVP_PKEY_CTX, PkeyCtxFree> check(
      EVP_PKEY_CTX_new_from_pkey(nullptr, key.get(), nullptr));
  if (check == nullptr || EVP_PKEY_public_check(check.get()) != 1) return nullptr;
  return key;
}

absl::StatusOr<PkeyPtr> RsaKey(const json& jwk, absl::string_view kid) {
  ASSIGN_OR_RETURN(std::string n, Member(jwk, "n", kid));
  ASSIGN_OR_RETURN(std::string e, Member(jwk, "e", kid));
  std::unique_ptr<BIGNUM, BnFree> bn_n(
      BN_bin2bn(reinterpret_cast<const unsigned char*>(n.data()), n.size(), nullptr));
  std::unique_ptr<BIGNUM, BnFree> bn_e(
      BN_bin2bn(reinterpret_cast<const unsigned char*>(e.data()), e.size(), nullptr));
  std::unique_ptr<OSSL_PARAM_BLD, ParamBldFree> bld(OSSL_PARAM_BLD_new());
  if (bn_n == nullptr || bn_e == nullptr || bld == nullptr ||
      !OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_RSA_N, bn_n.get()) ||
      !OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_RSA_E, bn_e.get())) {
    return absl::ResourceExhaustedError("out of memory building an RSA key");
  }
  PkeyPtr key = FromData("RSA", bld.get());
  if (key == nullptr) return BadKey(kid, "RSA parameters do not form a key");
  return key;
}

absl::StatusOr<PkeyPtr> EcP256Key(const json& jwk, absl::string_view kid) {
  ASSIGN_OR_RETURN(std::string x, Member(jwk, "x", kid));
  ASSIGN_OR_RETURN(std::string y, Member(jwk, "y", kid));
  // RFC 7518 6.2.1.2: each coordinate is exactly the field size, leading zeros kept.
  if (x.size() != 32 || y.size() != 32) return BadKey(kid, "P-256 coordinates must be 32 bytes");
  // Uncompressed SEC1 point: 0x04 || x || y.
  std::string point = absl::StrCat("\x04", x, y);
  std::unique_ptr<OSSL_PARAM_BLD, ParamBldFree> bld(OSSL_PARAM_BLD_new());
  if (bld == nullptr ||
      !OSSL_PARAM_BLD_push_utf8_string(bld.get(), OSSL_PKEY_PARAM_GROUP_NAME, "prime256v1", 0) ||
      !OSSL_PARAM_BLD_push_octet_string(bld.get(), OSSL_PKEY_PARAM_PUB_KEY, point.data(),
                                        point.size())) {
    return absl::ResourceExhaustedError("out of memory building an EC key");
  }
  // A point off the curve is refused here, which stops invalid-curve attacks.
  PkeyPtr key = FromData("EC", bld.get());
  if (key == nullptr) return BadKey(kid, "x and y are not a point on P-256");
  return key;
}

absl::StatusOr<std::string> ToPem(EVP_PKEY* key) {
  std::unique_ptr<BIO, BioFree> bio(BIO_new(BIO_s_mem()));
  if (bio == nullptr || PEM_write_bio_PUBKEY(bio.get(), key) != 1) {
    return absl::InternalError("could not write a public key as PEM");
  }
  char* data = nullptr;
  long len = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, len);
}

std::string StringMember(const json& jwk, const char* name) {
  auto it = jwk.find(name);
  return it != jwk.end() && it->is_string() ? it->get<std::string>() : std::string();
}

// The algorithm a JWK verifies, or "" when this verifier has no use for it.
std::string AlgFor(const json& jwk) {
  const std::string kty = StringMember(jwk, "kty");
  std::string natural;
  if (kty == "RSA") {
    natural = "RS256";
  } else if (kty == "EC" && StringMember(jwk, "crv") == "P-256") {
    natural = "ES256";
  } else {
    return "";  // oct (a shared secret must never be published), OKP, other curves.
  }
  // A key published for another algorithm (RS512, PS256, ...) is not used for ours: the key
  // owner said what it is for (RFC 7517 4.4).
  const std::string alg = StringMember(jwk, "alg");
  if (!alg.empty() && alg != natural) return "";
  return natural;
}

}  // namespace

const PublicKey* KeySet::Find(absl::string_view kid, absl::string_view alg) const {
  if (!kid.empty()) {
    // A kid names one key, but the alg must match too: a key is never used for an algorithm
    // it was not published for.
    for (const PublicKey& key : keys) {
      if (key.kid == kid && key.alg == alg) return &key;
    }
    return nullptr;
  }
  const PublicKey* only = nullptr;
  for (const PublicKey& key : keys) {
    if (key.alg != alg) continue;
    if (only != nullptr) return nullptr;  // Ambiguous: the token must name its key.
    only = &key;
  }
  return only;
}

absl::StatusOr<KeySet> ParseJwks(absl::string_view text) {
  json doc = json::parse(text.begin(), text.end(), nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded()) return absl::InvalidArgumentError("JWKS is not JSON");
  if (!doc.is_object()) return absl::InvalidArgumentError("JWKS is not a JSON object");
  auto keys = doc.find("keys");
  if (keys == doc.end() || !keys->is_array()) {
    return absl::InvalidArgumentError("JWKS has no \"keys\" array");
  }
  KeySet set;
  for (const json& jwk : *keys) {
    if (!jwk.is_object()) return absl::InvalidArgumentError("JWKS key is not a JSON object");
    if (StringMember(jwk, "use") == "enc") continue;  // Encryption keys never verify.
    std::string alg = AlgFor(jwk);
    if (alg.empty()) continue;
    std::string kid = StringMember(jwk, "kid");
    PkeyPtr key;
    if (alg == "RS256") {
      ASSIGN_OR_RETURN(key, RsaKey(jwk, kid));
      if (EVP_PKEY_get_bits(key.get()) < kMinRsaBits) continue;
    } else {
      ASSIGN_OR_RETURN(key, EcP256Key(jwk, kid));
    }
    ASSIGN_OR_RETURN(std::string pem, ToPem(key.get()));
    set.keys.push_back(PublicKey{std::move(kid), std::move(alg), std::move(pem)});
  }
  return set;
}

}  // namespace granary::auth
