#include "libs/base/thread_name.h"

#include <pthread.h>

#include <string>

namespace granary::base {

void NameThisThread(absl::string_view name) {
  std::string cut(name.substr(0, 15));
  (void)pthread_setname_np(pthread_self(), cut.c_str());
}

}  // namespace granary::base
