# roster_component_library(<name> <source>...): the static library of a
# client component (agent, subscriber) in the current directory. Its public
# headers are in include/ (installed ones name no ZeroMQ type), its private
# ones in src/; it builds on roster_common, with ZeroMQ and spdlog private.
function(roster_component_library name)
  add_library(${name} STATIC ${ARGN})
  target_include_directories(${name}
    PUBLIC $<BUILD_INTERFACE:${CMAKE_CURRENT_SOURCE_DIR}/include>
    PRIVATE ${CMAKE_CURRENT_SOURCE_DIR}/src)
  target_link_libraries(${name}
    PUBLIC roster_common Threads::Threads
    PRIVATE cppzmq spdlog::spdlog)
endfunction()
