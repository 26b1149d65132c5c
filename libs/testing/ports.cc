#include "libs/testing/ports.h"

#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>

#include "absl/random/random.h"
#include "absl/strings/str_cat.h"
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

namespace granary::testing {
namespace {

constexpr int kLowestPort = 10000;

// The first port of the kernel's ephemeral range (32768 by default).
int EphemeralStart() {
  std::ifstream in("/proc/sys/net/ipv4/ip_local_port_range");
  int low = 0, high = 0;
  if (in >> low >> high && low > kLowestPort) return low;
  return 32768;
}

// A socket bound to 127.0.0.1:port (port 0: any), or -1. *bound receives the port.
int Bind(int port, int* bound) {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(static_cast<uint16_t>(port));
  socklen_t len = sizeof(addr);
  if (bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0 ||
      getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    close(fd);
    return -1;
  }
  *bound = ntohs(addr.sin_port);
  return fd;
}

}  // namespace

absl::StatusOr<std::vector<int>> PickFreePorts(int n) {
  absl::BitGen rng;
  int high = EphemeralStart() - 1;
  std::vector<int> ports;
  std::vector<int> held;
  for (int attempt = 0; static_cast<int>(ports.size()) < n && attempt < 100 * n; ++attempt) {
    int port = 0;
    int fd = Bind(high > kLowestPort ? absl::Uniform(rng, kLowestPort, high + 1) : 0, &port);
    if (fd < 0) continue;  // taken: draw again
    held.push_back(fd);
    ports.push_back(port);
  }
  for (int fd : held) close(fd);
  if (static_cast<int>(ports.size()) < n) {
    return absl::UnavailableError(
        absl::StrCat("found only ", ports.size(), " of ", n, " free ports"));
  }
  return ports;
}

absl::StatusOr<int> PickFreePort() {
  absl::StatusOr<std::vector<int>> ports = PickFreePorts(1);
  if (!ports.ok()) return ports.status();
  return (*ports)[0];
}

}  // namespace granary::testing
