// Whether a pooled connection's socket went bad while it sat idle: the peer closed it, reset
// it, or sent something unsolicited (a server that shuts down says goodbye before closing).
// A zero-timeout poll, no round trip: pools check connections before reuse instead of
// retrying commands after a failure, which could run a command twice.
//
//   if (IdleSocketIsStale(fd)) drop the connection and open a new one;
#ifndef GRANARY_LIBS_BASE_IDLE_SOCKET_H_
#define GRANARY_LIBS_BASE_IDLE_SOCKET_H_

namespace granary::base {

// True when the socket is closed, in error, or has unread data. A negative fd is stale.
bool IdleSocketIsStale(int fd);

}  // namespace granary::base

#endif  // GRANARY_LIBS_BASE_IDLE_SOCKET_H_
