// Puts a repo in its canonical form: documented defaults made explicit (an entity's join key
// is its name; feature views are online and offline) and output-only fields cleared. Two
// repos that mean the same thing then compare equal, so re-applying a repo that omits a
// default is a no-op, not a change. The order of objects is kept: messages about the i-th
// object must point at the one the user wrote i-th.
//
//   Normalize(&repo);
#ifndef GRANARY_LIBS_CATALOG_NORMALIZE_H_
#define GRANARY_LIBS_CATALOG_NORMALIZE_H_

#include "google/protobuf/message.h"
#include "granary/registry/v1/repo.pb.h"

#include "libs/catalog/object_kinds.h"

namespace granary::catalog {

void Normalize(registry::v1::FeatureRepo* repo);
// One object of the given kind, as Normalize does it.
void NormalizeObject(ObjectKind kind, google::protobuf::Message* object);

}  // namespace granary::catalog

#endif  // GRANARY_LIBS_CATALOG_NORMALIZE_H_
