#include "libs/bus/publisher.h"

#include "absl/synchronization/notification.h"

namespace granary::bus {

absl::StatusOr<PublishAck> AckedPublisher::Publish(absl::string_view subject,
                                                   absl::string_view data, absl::string_view msg_id,
                                                   absl::string_view traceparent) {
  absl::Notification finished;
  absl::StatusOr<PublishAck> result;
  PublishAsync(subject, data, msg_id, traceparent, [&](absl::StatusOr<PublishAck> ack) {
    result = std::move(ack);
    finished.Notify();
  });
  finished.WaitForNotification();
  return result;
}

}  // namespace granary::bus
