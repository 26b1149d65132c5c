#include "libs/catalog/normalize.h"

#include "granary/registry/v1/objects.pb.h"

#include "libs/catalog/rules.h"

namespace granary::catalog {

void NormalizeObject(ObjectKind kind, google::protobuf::Message* object) {
  const google::protobuf::Descriptor* d = object->GetDescriptor();
  for (int i = 0; i < d->field_count(); ++i) {
    if (IsOutputOnly(d->field(i))) object->GetReflection()->ClearField(object, d->field(i));
  }
  switch (kind) {
    case registry::v1::ENTITY: {
      auto* e = static_cast<registry::v1::Entity*>(object);
      if (e->join_key().empty()) e->set_join_key(e->name());
      break;
    }
    case registry::v1::FEATURE_VIEW: {
      auto* fv = static_cast<registry::v1::FeatureView*>(object);
      if (!fv->has_online()) fv->set_online(true);
      if (!fv->has_offline()) fv->set_offline(true);
      break;
    }
    default:
      break;
  }
}

void Normalize(registry::v1::FeatureRepo* repo) {
  if (repo->has_project()) NormalizeObject(registry::v1::PROJECT, repo->mutable_project());
  for (ObjectKind kind : RepoKinds()) {
    for (google::protobuf::Message* object : MutableObjectsOf(repo, kind)) {
      NormalizeObject(kind, object);
    }
  }
}

}  // namespace granary::catalog
