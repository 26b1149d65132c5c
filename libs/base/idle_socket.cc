#include "libs/base/idle_socket.h"

#include <poll.h>

namespace granary::base {

bool IdleSocketIsStale(int fd) {
  if (fd < 0) return true;
  struct pollfd p = {fd, POLLIN | POLLRDHUP, 0};
  int n = poll(&p, 1, 0);
  if (n < 0) return true;
  // Nothing to read and no hang-up: the connection is as we left it.
  return n > 0 && (p.revents & (POLLIN | POLLRDHUP | POLLHUP | POLLERR | POLLNVAL)) != 0;
}

}  // namespace granary::base
