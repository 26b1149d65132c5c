#include "services/ingestion/batch_id.h"

#include <algorithm>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "google/protobuf/io/coded_stream.h"
#include "google/protobuf/io/zero_copy_stream_impl_lite.h"
#include <openssl/evp.h>

namespace granary::ingestion {

std::string ContentBatchId(absl::string_view project, const v1::PushRequest& request) {
  v1::PushRequest canonical = request;
  canonical.clear_batch_id();
  canonical.set_project(std::string(project));
  // Unspecified means ONLINE: the same push either way.
  if (canonical.to() == v1::PUSH_TARGET_UNSPECIFIED) canonical.set_to(v1::ONLINE);
  std::string bytes;
  {
    google::protobuf::io::StringOutputStream stream(&bytes);
    google::protobuf::io::CodedOutputStream out(&stream);
    out.SetSerializationDeterministic(true);
    canonical.SerializeToCodedStream(&out);
  }
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  EVP_Digest(bytes.data(), bytes.size(), digest, &length, EVP_sha256(), nullptr);
  return absl::StrCat("c-", absl::BytesToHexString(absl::string_view(
                                reinterpret_cast<const char*>(digest), std::min(length, 16u))));
}

}  // namespace granary::ingestion
