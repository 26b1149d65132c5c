#include "libs/auth/jwt_authenticator.h"

#include <jwt.h>

#include <cstdlib>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "absl/status/status.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "nlohmann/json.hpp"

#include "libs/base/status_macros.h"

namespace granary::auth {
namespace {

using json = nlohmann::json;

// RFC 7518 3.2: an HS256 key must be at least as long as the hash output.
constexpr size_t kMinHs256SecretBytes = 32;
// Real tokens are a few kilobytes; a larger one is refused before any decoding work.
constexpr size_t kMaxTokenBytes = 16 * 1024;

struct JwtFree {
  void operator()(jwt_t* jwt) const { jwt_free(jwt); }
};
using JwtPtr = std::unique_ptr<jwt_t, JwtFree>;
// libjwt 1.10 has no jwt_free_str: its strings come from malloc.
struct MallocFree {
  void operator()(char* p) const { std::free(p); }
};

absl::Status Refused(absl::string_view reason) { return absl::UnauthenticatedError(reason); }
absl::Status Malformed() { return Refused("malformed token"); }

bool IsSupported(absl::string_view alg) {
  return alg == "HS256" || alg == "RS256" || alg == "ES256";
}

jwt_alg_t LibjwtAlg(absl::string_view alg) {
  if (alg == "HS256") return JWT_ALG_HS256;
  if (alg == "RS256") return JWT_ALG_RS256;
  if (alg == "ES256") return JWT_ALG_ES256;
  return JWT_ALG_INVAL;
}

// One base64url segment of a compact JWS as a JSON object, or nullopt.
std::optional<json> DecodeObject(absl::string_view segment) {
  std::string bytes;
  if (segment.empty() || !absl::WebSafeBase64Unescape(segment, &bytes)) return std::nullopt;
  json value = json::parse(bytes, nullptr, /*allow_exceptions=*/false);
  if (value.is_discarded() || !value.is_object()) return std::nullopt;
  return value;
}

struct Header {
  std::string alg;
  std::string kid;
};

absl::StatusOr<Header> ParseHeader(absl::string_view segment) {
  std::optional<json> header = DecodeObject(segment);
  if (!header.has_value()) return Malformed();
  auto alg = header->find("alg");
  if (alg == header->end() || !alg->is_string()) return Malformed();
  Header out{alg->get<std::string>(), ""};
  if (auto kid = header->find("kid"); kid != header->end()) {
    if (!kid->is_string()) return Malformed();
    out.kid = kid->get<std::string>();
  }
  // RFC 7515 4.1.11: extensions listed in `crit` must be understood; this verifier knows none.
  if (header->contains("crit")) return Refused("token has critical header extensions");
  return out;
}

// The algorithm as the caller wrote it goes into an error message: bounded and escaped.
std::string Printable(absl::string_view alg) {
  constexpr size_t kMax = 16;
  std::string escaped = absl::CHexEscape(alg.substr(0, kMax));
  return alg.size() > kMax ? absl::StrCat(escaped, "...") : escaped;
}

// A claim by name; a dotted name that is not itself a claim is followed as a path, so both
// Auth0's "https://example.com/roles" and Keycloak's "realm_access.roles" work.
const json* Claim(const json& claims, const std::string& name) {
  if (auto it = claims.find(name); it != claims.end()) return &*it;
  if (name.find('.') == std::string::npos) return nullptr;
  const json* node = &claims;
  for (absl::string_view part : absl::StrSplit(name, '.')) {
    if (!node->is_object()) return nullptr;
    auto it = node->find(std::string(part));
    if (it == node->end()) return nullptr;
    node = &*it;
  }
  return node;
}

// A NumericDate claim (RFC 7519 2): seconds since the epoch, possibly fractional.
// nullopt when absent; Malformed when not a number.
absl::StatusOr<std::optional<absl::Time>> NumericDate(const json& claims, const char* name) {
  auto it = claims.find(name);
  if (it == claims.end()) return std::nullopt;
  if (!it->is_number()) return Malformed();
  // absl::Seconds(double) saturates to infinity, so absurd values cannot overflow.
  return absl::UnixEpoch() + absl::Seconds(it->get<double>());
}

absl::Status CheckClaims(const json& claims, const JwtOptions& options, absl::Time now) {
  ASSIGN_OR_RETURN(std::optional<absl::Time> exp, NumericDate(claims, "exp"));
  // A token without expiry would be valid forever once leaked.
  if (!exp.has_value()) return Refused("token has no expiry");
  if (now >= *exp + options.leeway) return Refused("token expired");
  ASSIGN_OR_RETURN(std::optional<absl::Time> nbf, NumericDate(claims, "nbf"));
  if (nbf.has_value() && now + options.leeway < *nbf) return Refused("token not yet valid");

  if (!options.issuer.empty()) {
    auto iss = claims.find("iss");
    if (iss == claims.end() || !iss->is_string() ||
        iss->get_ref<const std::string&>() != options.issuer) {
      return Refused("wrong issuer");
    }
  }
  if (!options.audiences.empty()) {
    auto ours = [&](const json& aud) {
      if (!aud.is_string()) return false;
      for (const std::string& audience : options.audiences) {
        if (aud.get_ref<const std::string&>() == audience) return true;
      }
      return false;
    };
    bool found = false;
    if (auto aud = claims.find("aud"); aud != claims.end()) {
      if (aud->is_array()) {
        for (const json& one : *aud) found = found || ours(one);
      } else {
        found = ours(*aud);
      }
    }
    if (!found) return Refused("wrong audience");
  }
  return absl::OkStatus();
}

// Strings from a claim that is an array of strings or one string; other values are ignored,
// since an IdP may put objects beside the names we want.
void AppendStrings(const json* claim, std::vector<std::string>* out) {
  if (claim == nullptr) return;
  if (claim->is_string()) {
    if (!claim->get_ref<const std::string&>().empty()) out->push_back(claim->get<std::string>());
    return;
  }
  if (!claim->is_array()) return;
  for (const json& item : *claim) {
    if (item.is_string() && !item.get_ref<const std::string&>().empty()) {
      out->push_back(item.get<std::string>());
    }
  }
}

void Dedupe(std::vector<std::string>* values) {
  absl::flat_hash_set<std::string> seen;
  std::vector<std::string> unique;
  for (std::string& value : *values) {
    if (seen.insert(value).second) unique.push_back(std::move(value));
  }
  *values = std::move(unique);
}

absl::StatusOr<Identity> MapClaims(const json& claims, const JwtClaimMapping& mapping) {
  Identity who;
  for (const std::string& name : mapping.user_claims) {
    const json* user = Claim(claims, name);
    if (user != nullptr && user->is_string() && !user->get_ref<const std::string&>().empty()) {
      who.user = user->get<std::string>();
      break;
    }
  }
  if (who.user.empty()) return Refused("token names no user");

  AppendStrings(Claim(claims, mapping.roles_claim), &who.roles);
  if (!mapping.client_id.empty()) {
    // Looked up member by member: a client id may itself contain dots.
    auto access = claims.find("resource_access");
    if (access != claims.end() && access->is_object()) {
      auto client = access->find(mapping.client_id);
      if (client != access->end() && client->is_object()) {
        auto roles = client->find("roles");
        if (roles != client->end()) AppendStrings(&*roles, &who.roles);
      }
    }
  }
  AppendStrings(Claim(claims, mapping.groups_claim), &who.groups);
  Dedupe(&who.roles);
  Dedupe(&who.groups);
  return who;
}

}  // namespace

absl::StatusOr<std::unique_ptr<JwtAuthenticator>> JwtAuthenticator::Create(
    JwtOptions options, const base::Clock& clock) {
  if (options.algorithms.empty()) {
    return absl::InvalidArgumentError("algorithms: name at least one of HS256, RS256, ES256");
  }
  for (const std::string& alg : options.algorithms) {
    if (absl::EqualsIgnoreCase(alg, "none")) {
      return absl::InvalidArgumentError("algorithms: \"none\" (unsigned tokens) is never accepted");
    }
    if (!IsSupported(alg)) {
      return absl::InvalidArgumentError(absl::StrCat(
          "algorithms: unknown algorithm \"", Printable(alg), "\" (use HS256, RS256, ES256)"));
    }
    if (alg == "HS256" && options.hs256_secret.value().size() < kMinHs256SecretBytes) {
      return absl::InvalidArgumentError(options.hs256_secret.empty()
                                            ? "hs256_secret: required for HS256"
                                            : absl::StrCat("hs256_secret: must be at least ",
                                                           kMinHs256SecretBytes,
                                                           " bytes for HS256 (RFC 7518 3.2)"));
    }
    if (alg != "HS256" && options.keys == nullptr) {
      return absl::InvalidArgumentError(
          absl::StrCat("keys: a JWKS file or OIDC issuer is required for ", alg));
    }
  }
  if (options.leeway < absl::ZeroDuration()) {
    return absl::InvalidArgumentError("leeway: must not be negative");
  }
  if (options.claims.user_claims.empty()) {
    return absl::InvalidArgumentError("claims.user_claims: name at least one claim");
  }
  return std::unique_ptr<JwtAuthenticator>(new JwtAuthenticator(std::move(options), clock));
}

JwtAuthenticator::JwtAuthenticator(JwtOptions options, const base::Clock& clock)
    : options_(std::move(options)), clock_(clock) {}

absl::StatusOr<std::string> JwtAuthenticator::KeyFor(absl::string_view alg,
                                                     absl::string_view kid) const {
  // The key kind follows from the algorithm alone: the secret never verifies an RS/ES token
  // and a public key never serves as an HMAC secret.
  if (alg == "HS256") return options_.hs256_secret.value();
  ASSIGN_OR_RETURN(std::shared_ptr<const KeySet> keys, options_.keys->Keys());
  const PublicKey* key = keys->Find(kid, alg);
  if (key == nullptr) {
    ASSIGN_OR_RETURN(keys, options_.keys->KeysAfterUnknownKid());
    key = keys->Find(kid, alg);
  }
  if (key == nullptr) {
    return Refused(kid.empty() ? "token names no key id" : "unknown key id");
  }
  return key->pem;
}

bool JwtAuthenticator::MayWait(absl::string_view token) {
  if (options_.keys == nullptr) return false;
  absl::StatusOr<Header> header = ParseHeader(token.substr(0, token.find('.')));
  if (!header.ok() || header->alg == "HS256" || !IsSupported(header->alg)) return false;
  return options_.keys->MayWait(header->kid, header->alg);
}

absl::StatusOr<Identity> JwtAuthenticator::Authenticate(absl::string_view token) {
  if (token.empty()) return Refused("no bearer token");
  if (token.size() > kMaxTokenBytes) return Malformed();
  std::vector<absl::string_view> parts = absl::StrSplit(token, '.');
  if (parts.size() != 3) return Malformed();

  // Nothing in the header is trusted yet; it only selects what the token must match.
  ASSIGN_OR_RETURN(Header header, ParseHeader(parts[0]));
  bool accepted = false;
  for (const std::string& alg : options_.algorithms) accepted = accepted || alg == header.alg;
  if (!accepted) {
    return Refused(absl::StrCat("token algorithm ", Printable(header.alg), " is not accepted"));
  }
  if (parts[2].empty()) return Refused("bad signature");
  ASSIGN_OR_RETURN(std::string key, KeyFor(header.alg, header.kid));

  const std::string terminated(token);  // libjwt wants a C string.
  jwt_t* raw = nullptr;
  int rc = jwt_decode(&raw, terminated.c_str(), reinterpret_cast<const unsigned char*>(key.data()),
                      static_cast<int>(key.size()));
  JwtPtr jwt(raw);
  if (rc != 0 || jwt == nullptr) {
    // libjwt says EINVAL for both; tell them apart only on this failure path.
    return DecodeObject(parts[1]).has_value() ? Refused("bad signature") : Malformed();
  }
  // libjwt decodes the header again on its own: if it saw another algorithm than we did, it
  // verified something else than we chose the key for.
  if (jwt_get_alg(jwt.get()) != LibjwtAlg(header.alg)) return Refused("bad signature");

  std::unique_ptr<char, MallocFree> grants(jwt_get_grants_json(jwt.get(), nullptr));
  if (grants == nullptr) return Malformed();
  json claims = json::parse(grants.get(), nullptr, /*allow_exceptions=*/false);
  if (claims.is_discarded() || !claims.is_object()) return Malformed();

  RETURN_IF_ERROR(CheckClaims(claims, options_, clock_.Now()));
  ASSIGN_OR_RETURN(Identity who, MapClaims(claims, options_.claims));
  ASSIGN_OR_RETURN(std::optional<absl::Time> exp, NumericDate(claims, "exp"));
  if (exp.has_value()) who.valid_until = *exp + options_.leeway;
  return who;
}

absl::StatusOr<std::string> MintHs256Token(absl::string_view secret, const Identity& who,
                                           absl::Time now, absl::Duration ttl,
                                           absl::string_view issuer, absl::string_view audience) {
  if (secret.size() < kMinHs256SecretBytes) {
    return absl::InvalidArgumentError(
        absl::StrCat("HS256 secret must be at least ", kMinHs256SecretBytes, " bytes"));
  }
  if (who.user.empty()) return absl::InvalidArgumentError("token user is empty");
  if (ttl <= absl::ZeroDuration()) return absl::InvalidArgumentError("token ttl must be positive");

  json claims = {
      {"sub", who.user},
      {"preferred_username", who.user},
      {"roles", who.roles},
      {"groups", who.groups},
      {"iat", absl::ToUnixSeconds(now)},
      {"nbf", absl::ToUnixSeconds(now)},
      {"exp", absl::ToUnixSeconds(now + ttl)},
  };
  if (!issuer.empty()) claims["iss"] = std::string(issuer);
  if (!audience.empty()) claims["aud"] = std::string(audience);

  jwt_t* raw = nullptr;
  if (jwt_new(&raw) != 0) return absl::ResourceExhaustedError("jwt_new failed");
  JwtPtr jwt(raw);
  if (jwt_add_grants_json(jwt.get(), claims.dump().c_str()) != 0 ||
      jwt_set_alg(jwt.get(), JWT_ALG_HS256, reinterpret_cast<const unsigned char*>(secret.data()),
                  static_cast<int>(secret.size())) != 0) {
    return absl::InternalError("could not build the HS256 token");
  }
  std::unique_ptr<char, MallocFree> encoded(jwt_encode_str(jwt.get()));
  if (encoded == nullptr) return absl::InternalError("could not sign the HS256 token");
  return std::string(encoded.get());
}

}  // namespace granary::auth
