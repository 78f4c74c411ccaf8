# Generates roster_build_version.h (roster::kVersion, roster::kGitRevision,
# roster::version_text) into the build tree and offers it as the interface
# library roster_version, for the --version of the three binaries.
#
# The revision is `git describe --always --dirty` of the source tree, taken
# when CMake configures (re-run cmake to refresh it). It is empty when git
# is missing or the sources are not a checkout of their own (a release
# tarball unpacked inside some other repository must not borrow its
# revision). Packagers may set it with -DROSTER_GIT_REVISION=<text>.
set(ROSTER_GIT_REVISION "" CACHE STRING
  "Revision for --version (default: git describe of the source checkout)")

set(ROSTER_BUILD_REVISION "${ROSTER_GIT_REVISION}")
if(ROSTER_BUILD_REVISION STREQUAL "")
  find_package(Git QUIET)
  if(GIT_FOUND)
    execute_process(
      COMMAND "${GIT_EXECUTABLE}" rev-parse --show-toplevel
      WORKING_DIRECTORY "${PROJECT_SOURCE_DIR}"
      RESULT_VARIABLE toplevel_status
      OUTPUT_VARIABLE toplevel
      OUTPUT_STRIP_TRAILING_WHITESPACE
      ERROR_QUIET)
    if(toplevel_status EQUAL 0)
      get_filename_component(toplevel "${toplevel}" REALPATH)
      get_filename_component(source_dir "${PROJECT_SOURCE_DIR}" REALPATH)
    endif()
    if(toplevel_status EQUAL 0 AND toplevel STREQUAL source_dir)
      execute_process(
        COMMAND "${GIT_EXECUTABLE}" describe --always --dirty
        WORKING_DIRECTORY "${PROJECT_SOURCE_DIR}"
        RESULT_VARIABLE describe_status
        OUTPUT_VARIABLE describe
        OUTPUT_STRIP_TRAILING_WHITESPACE
        ERROR_QUIET)
      if(describe_status EQUAL 0)
        set(ROSTER_BUILD_REVISION "${describe}")
      endif()
    endif()
  endif()
endif()
# Only characters that are safe inside a C string literal.
string(REGEX REPLACE "[^A-Za-z0-9._+~-]" "" ROSTER_BUILD_REVISION "${ROSTER_BUILD_REVISION}")
if(ROSTER_BUILD_REVISION STREQUAL "")
  message(STATUS "roster ${PROJECT_VERSION}: no git revision")
else()
  message(STATUS "roster ${PROJECT_VERSION}: git revision ${ROSTER_BUILD_REVISION}")
endif()

configure_file(${CMAKE_CURRENT_LIST_DIR}/build_version.h.in
  ${PROJECT_BINARY_DIR}/generated/roster_build_version.h @ONLY)
add_library(roster_version INTERFACE)
target_include_directories(roster_version INTERFACE ${PROJECT_BINARY_DIR}/generated)
