// Real keys and tokens for the JWT tests: RSA 2048 and EC P-256 key pairs made with OpenSSL,
// their public JWKs, tokens signed by libjwt, and hand-assembled tokens for attacks libjwt
// would not produce.
//
//   ASSERT_OK_AND_ASSIGN(TestKey rsa, GenerateRsaKey("rsa-1"));
//   std::string jwks = JwksJson({rsa});
//   ASSERT_OK_AND_ASSIGN(std::string token, SignToken("RS256", rsa.private_pem, claims, rsa.kid));
#ifndef GRANARY_LIBS_AUTH_TEST_KEYS_H_
#define GRANARY_LIBS_AUTH_TEST_KEYS_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace granary::auth::test {

struct TestKey {
  std::string kid;
  std::string alg;          // "RS256" or "ES256"
  std::string private_pem;  // PKCS#8
  std::string public_pem;   // SubjectPublicKeyInfo, as OpenSSL writes it
  std::string jwk;          // the public JWK, a JSON object
};

absl::StatusOr<TestKey> GenerateRsaKey(std::string kid, int bits = 2048);
absl::StatusOr<TestKey> GenerateEcKey(std::string kid);

// {"keys": [<each key's jwk>, <each extra JSON object>]}.
std::string JwksJson(const std::vector<TestKey>& keys, const std::vector<std::string>& extra = {});

// A token signed by libjwt with `alg` ("HS256", "RS256", "ES256") and `key` (the secret or a
// private PEM, or any bytes for HS256); `kid` goes into the header when non-empty.
absl::StatusOr<std::string> SignToken(absl::string_view alg, absl::string_view key,
                                      absl::string_view claims_json, absl::string_view kid = "");

// base64url without padding, as JWS uses it.
std::string Base64Url(absl::string_view bytes);
// "<b64(header)>.<b64(payload)>.<b64(signature)>" from raw parts, for tokens libjwt refuses
// to make (alg none, duplicate members, foreign signature encodings).
std::string AssembleToken(absl::string_view header_json, absl::string_view payload_json,
                          absl::string_view signature);
// HMAC-SHA256 of "<header>.<payload>" with `secret`, assembled into a token.
std::string AssembleHs256Token(absl::string_view header_json, absl::string_view payload_json,
                               absl::string_view secret);
// ES256 with OpenSSL directly, the signature in JOSE's raw R || S form (RFC 7518 3.4), as
// identity providers send it.
absl::StatusOr<std::string> AssembleEs256Token(absl::string_view header_json,
                                               absl::string_view payload_json,
                                               absl::string_view private_pem);

}  // namespace granary::auth::test

#endif  // GRANARY_LIBS_AUTH_TEST_KEYS_H_
