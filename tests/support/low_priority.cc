#include "support/low_priority.h"

#include <sys/resource.h>

namespace roster::testing {

void lower_this_thread_priority() {
  // PRIO_PROCESS with 0 names the calling thread on Linux, not the process.
  (void)setpriority(PRIO_PROCESS, 0, 19);
}

}  // namespace roster::testing
