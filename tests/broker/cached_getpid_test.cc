// The broker's cached getpid() (broker/cached_getpid.cc): it answers what
// the kernel answers, in a forked child too, and it is the getpid() that
// the libraries of the process (libzmq) call.
#include <dlfcn.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <string>

#include "support/process.h"

namespace roster::testing {
namespace {

pid_t kernel_pid() {
  return static_cast<pid_t>(::syscall(SYS_getpid));
}

TEST(CachedGetpid, AnswersWhatTheKernelAnswers) {
  EXPECT_EQ(::getpid(), kernel_pid());
  EXPECT_EQ(::getpid(), kernel_pid());
}

TEST(CachedGetpid, ShadowsTheCLibrarysForEveryLibrary) {
  // What a library's call to getpid() binds to: the first definition in
  // the global scope, which must be this executable's.
  void* bound = ::dlsym(RTLD_DEFAULT, "getpid");
  void* c_library = ::dlsym(RTLD_NEXT, "getpid");
  ASSERT_NE(bound, nullptr);
  ASSERT_NE(c_library, nullptr);
  EXPECT_EQ(bound, reinterpret_cast<void*>(&::getpid));
  EXPECT_NE(bound, c_library);
}

TEST(CachedGetpid, AForkedChildSeesItsOwnPid) {
  const pid_t parent = ::getpid();  // cached from here on
  const pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    const bool own = ::getpid() == kernel_pid() && ::getpid() != parent;
    ::_exit(own ? 0 : 1);
  }
  int status = 0;
  ASSERT_EQ(::waitpid(child, &status, 0), child);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 0) << "the child was served its parent's pid";
  EXPECT_EQ(::getpid(), parent);
}

TEST(CachedGetpid, TheBrokerExecutableExportsIt) {
  const std::string nm = find_on_path("nm");
  if (nm.empty()) GTEST_SKIP() << "nm (binutils) is not installed";
  const CommandResult result = run_command({nm, "-D", "--defined-only", bin("roster-broker")});
  ASSERT_EQ(result.exit_status, 0) << result.err;
  EXPECT_NE(result.out.find(" T getpid\n"), std::string::npos)
      << "roster-broker does not define getpid(): libzmq would call the C library's";
}

}  // namespace
}  // namespace roster::testing
