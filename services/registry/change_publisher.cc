#include "services/registry/change_publisher.h"

#include "absl/strings/str_cat.h"
#include "google/protobuf/util/time_util.h"
#include "granary/events/v1/events.pb.h"

#include "libs/base/log.h"

namespace granary::registry {

std::string ChangeSubject(const std::string& project) {
  return absl::StrCat("granary.registry.changed.", project);
}

NatsChangePublisher::NatsChangePublisher(std::shared_ptr<bus::Connection> nats,
                                         prometheus::Registry& metrics)
    : nats_(std::move(nats)) {
  auto& family = prometheus::BuildCounter()
                     .Name("granary_registry_change_events_total")
                     .Help("Change announcements on NATS, by outcome.")
                     .Register(metrics);
  sent_ = &family.Add({{"outcome", "sent"}});
  failed_ = &family.Add({{"outcome", "failed"}});
}

void NatsChangePublisher::Published(const std::string& project, int64_t version,
                                    absl::Time committed_time) {
  events::v1::RegistryChanged event;
  event.set_project(project);
  event.set_version(version);
  *event.mutable_committed_time() =
      google::protobuf::util::TimeUtil::MicrosecondsToTimestamp(absl::ToUnixMicros(committed_time));
  absl::Status s = nats_->Publish(ChangeSubject(project), event.SerializeAsString());
  if (s.ok()) {
    sent_->Increment();
    return;
  }
  failed_->Increment();
  base::LogWarning("change announcement failed; caches will pick it up when they poll")
      .With("project", project)
      .With("version", version)
      .With("error", s);
}

}  // namespace granary::registry
