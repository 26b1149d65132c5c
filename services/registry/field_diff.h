// Field-by-field differences of two catalog objects of the same kind, found by protobuf
// reflection so that every kind (and every field added later) is covered by one routine.
// Lists of named items (a schema's fields, a service's projections) are compared by name, so a
// path reads "schema[conv_rate].dtype" rather than "schema[2].dtype". Output-only fields (meta,
// materialization intervals) are never a difference.
//
//   std::vector<v1::FieldChange> changes = DiffFields(old_view, new_view);
#ifndef GRANARY_SERVICES_REGISTRY_FIELD_DIFF_H_
#define GRANARY_SERVICES_REGISTRY_FIELD_DIFF_H_

#include <vector>

#include "google/protobuf/message.h"
#include "granary/registry/v1/diff.pb.h"

namespace granary::registry {

std::vector<v1::FieldChange> DiffFields(const google::protobuf::Message& before,
                                        const google::protobuf::Message& after);

}  // namespace granary::registry

#endif  // GRANARY_SERVICES_REGISTRY_FIELD_DIFF_H_
