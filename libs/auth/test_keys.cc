#include "libs/auth/test_keys.h"

#include <jwt.h>

#include <cstdlib>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "nlohmann/json.hpp"
#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>

namespace granary::auth::test {
namespace {

struct PkeyFree {
  void operator()(EVP_PKEY* key) const { EVP_PKEY_free(key); }
};
struct BioFree {
  void operator()(BIO* bio) const { BIO_free(bio); }
};
struct BnFree {
  void operator()(BIGNUM* bn) const { BN_free(bn); }
};
using PkeyPtr = std::unique_ptr<EVP_PKEY, PkeyFree>;
using BnPtr = std::unique_ptr<BIGNUM, BnFree>;

std::string BioText(BIO* bio) {
  char* data = nullptr;
  long len = BIO_get_mem_data(bio, &data);
  return std::string(data, len);
}

absl::StatusOr<std::pair<std::string, std::string>> Pems(EVP_PKEY* key) {
  std::unique_ptr<BIO, BioFree> priv(BIO_new(BIO_s_mem()));
  std::unique_ptr<BIO, BioFree> pub(BIO_new(BIO_s_mem()));
  if (PEM_write_bio_PrivateKey(priv.get(), key, nullptr, nullptr, 0, nullptr, nullptr) != 1 ||
      PEM_write_bio_PUBKEY(pub.get(), key) != 1) {
    return absl::InternalError("could not write PEM");
  }
  return std::make_pair(BioText(priv.get()), BioText(pub.get()));
}

absl::StatusOr<std::string> BnParam(EVP_PKEY* key, const char* name, int pad) {
  BIGNUM* raw = nullptr;
  if (EVP_PKEY_get_bn_param(key, name, &raw) != 1) {
    return absl::InternalError(absl::StrCat("no key parameter ", name));
  }
  BnPtr bn(raw);
  std::string bytes(pad > 0 ? pad : BN_num_bytes(bn.get()), '\0');
  BN_bn2binpad(bn.get(), reinterpret_cast<unsigned char*>(bytes.data()), bytes.size());
  return bytes;
}

absl::StatusOr<TestKey> Finish(PkeyPtr key, std::string kid, std::string alg, nlohmann::json jwk) {
  auto pems = Pems(key.get());
  if (!pems.ok()) return pems.status();
  jwk["kid"] = kid;
  jwk["use"] = "sig";
  return TestKey{std::move(kid), std::move(alg), pems->first, pems->second, jwk.dump()};
}

}  // namespace

std::string Base64Url(absl::string_view bytes) {
  std::string out;
  absl::WebSafeBase64Escape(bytes, &out);  // Unpadded.
  return out;
}

absl::StatusOr<TestKey> GenerateRsaKey(std::string kid, int bits) {
  PkeyPtr key(EVP_RSA_gen(bits));
  if (key == nullptr) return absl::InternalError("EVP_RSA_gen failed");
  auto n = BnParam(key.get(), OSSL_PKEY_PARAM_RSA_N, 0);
  auto e = BnParam(key.get(), OSSL_PKEY_PARAM_RSA_E, 0);
  if (!n.ok() || !e.ok()) return absl::InternalError("RSA parameters missing");
  nlohmann::json jwk = {
      {"kty", "RSA"}, {"alg", "RS256"}, {"n", Base64Url(*n)}, {"e", Base64Url(*e)}};
  return Finish(std::move(key), std::move(kid), "RS256", std::move(jwk));
}

absl::StatusOr<TestKey> GenerateEcKey(std::string kid) {
  PkeyPtr key(EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256"));
  if (key == nullptr) return absl::InternalError("EVP_PKEY_Q_keygen failed");
  // Padded to the field size: RFC 7518 6.2.1.2 keeps leading zero bytes.
  auto x = BnParam(key.get(), OSSL_PKEY_PARAM_EC_PUB_X, 32);
  auto y = BnParam(key.get(), OSSL_PKEY_PARAM_EC_PUB_Y, 32);
  if (!x.ok() || !y.ok()) return absl::InternalError("EC parameters missing");
  nlohmann::json jwk = {
      {"kty", "EC"}, {"crv", "P-256"}, {"x", Base64Url(*x)}, {"y", Base64Url(*y)}};
  return Finish(std::move(key), std::move(kid), "ES256", std::move(jwk));
}

std::string JwksJson(const std::vector<TestKey>& keys, const std::vector<std::string>& extra) {
  std::vector<std::string> items;
  for (const TestKey& key : keys) items.push_back(key.jwk);
  items.insert(items.end(), extra.begin(), extra.end());
  return absl::StrCat("{\"keys\":[", absl::StrJoin(items, ","), "]}");
}

absl::StatusOr<std::string> SignToken(absl::string_view alg, absl::string_view key,
                                      absl::string_view claims_json, absl::string_view kid) {
  jwt_alg_t jwt_alg = jwt_str_alg(std::string(alg).c_str());
  jwt_t* raw = nullptr;
  if (jwt_alg == JWT_ALG_INVAL || jwt_new(&raw) != 0) return absl::InternalError("jwt_new");
  std::unique_ptr<jwt_t, void (*)(jwt_t*)> jwt(raw, &jwt_free);
  if (jwt_add_grants_json(jwt.get(), std::string(claims_json).c_str()) != 0 ||
      (!kid.empty() && jwt_add_header(jwt.get(), "kid", std::string(kid).c_str()) != 0) ||
      jwt_set_alg(jwt.get(), jwt_alg, reinterpret_cast<const unsigned char*>(key.data()),
                  static_cast<int>(key.size())) != 0) {
    return absl::InternalError("could not set up the token");
  }
  char* encoded = jwt_encode_str(jwt.get());
  if (encoded == nullptr) return absl::InternalError("jwt_encode_str failed");
  std::string token(encoded);
  std::free(encoded);
  return token;
}

std::string AssembleToken(absl::string_view header_json, absl::string_view payload_json,
                          absl::string_view signature) {
  return absl::StrCat(Base64Url(header_json), ".", Base64Url(payload_json), ".",
                      Base64Url(signature));
}

std::string AssembleHs256Token(absl::string_view header_json, absl::string_view payload_json,
                               absl::string_view secret) {
  std::string input = absl::StrCat(Base64Url(header_json), ".", Base64Url(payload_json));
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int mac_len = 0;
  HMAC(EVP_sha256(), secret.data(), static_cast<int>(secret.size()),
       reinterpret_cast<const unsigned char*>(input.data()), input.size(), mac, &mac_len);
  return absl::StrCat(input, ".",
                      Base64Url(absl::string_view(reinterpret_cast<char*>(mac), mac_len)));
}

absl::StatusOr<std::string> AssembleEs256Token(absl::string_view header_json,
                                               absl::string_view payload_json,
                                               absl::string_view private_pem) {
  std::unique_ptr<BIO, BioFree> bio(BIO_new_mem_buf(private_pem.data(), private_pem.size()));
  PkeyPtr key(PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr));
  if (key == nullptr) return absl::InvalidArgumentError("not a private key PEM");
  std::string input = absl::StrCat(Base64Url(header_json), ".", Base64Url(payload_json));
  std::unique_ptr<EVP_MD_CTX, void (*)(EVP_MD_CTX*)> ctx(EVP_MD_CTX_new(), &EVP_MD_CTX_free);
  size_t der_len = 0;
  if (EVP_DigestSignInit(ctx.get(), nullptr, EVP_sha256(), nullptr, key.get()) != 1 ||
      EVP_DigestSign(ctx.get(), nullptr, &der_len,
                     reinterpret_cast<const unsigned char*>(input.data()), input.size()) != 1) {
    return absl::InternalError("EVP_DigestSign setup failed");
  }
  std::string der(der_len, '\0');
  if (EVP_DigestSign(ctx.get(), reinterpret_cast<unsigned char*>(der.data()), &der_len,
                     reinterpret_cast<const unsigned char*>(input.data()), input.size()) != 1) {
    return absl::InternalError("EVP_DigestSign failed");
  }
  // OpenSSL signs in DER; JOSE wants the two 32-byte integers side by side.
  const unsigned char* p = reinterpret_cast<const unsigned char*>(der.data());
  std::unique_ptr<ECDSA_SIG, void (*)(ECDSA_SIG*)> sig(d2i_ECDSA_SIG(nullptr, &p, der_len),
                                                       &ECDSA_SIG_free);
  if (sig == nullptr) return absl::InternalError("not a DER ECDSA signature");
  std::string raw(64, '\0');
  BN_bn2binpad(ECDSA_SIG_get0_r(sig.get()), reinterpret_cast<unsigned char*>(raw.data()), 32);
  BN_bn2binpad(ECDSA_SIG_get0_s(sig.get()), reinterpret_cast<unsigned char*>(raw.data()) + 32, 32);
  return absl::StrCat(input, ".", Base64Url(raw));
}

}  // namespace granary::auth::test
