# install() rules: the three binaries, the libraries with their public
# headers, an exported CMake package (find_package(roster) gives
# roster::common, roster::curve, roster::subscriber and roster::agent) and roster.pc for
# pkg-config. Every destination is relative to the install prefix, so
# `cmake --install build --prefix /tmp/p` writes only under /tmp/p. The
# system files of the Debian package (units, /etc/roster) are in
# packaging/CMakeLists.txt, behind ROSTER_PACKAGE.
include(GNUInstallDirs)
include(CMakePackageConfigHelpers)

set(ROSTER_CMAKE_DIR ${CMAKE_INSTALL_LIBDIR}/cmake/roster)

install(TARGETS roster-broker roster-agent rosterctl
  RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR} COMPONENT runtime)

set_target_properties(roster_common PROPERTIES EXPORT_NAME common)
set_target_properties(roster_curve PROPERTIES EXPORT_NAME curve)
set_target_properties(roster_subscriber PROPERTIES EXPORT_NAME subscriber)
set_target_properties(roster_agent PROPERTIES EXPORT_NAME agent)
foreach(lib roster_common roster_curve roster_subscriber roster_agent)
  target_include_directories(${lib} INTERFACE $<INSTALL_INTERFACE:${CMAKE_INSTALL_INCLUDEDIR}>)
endforeach()
install(TARGETS roster_common roster_curve roster_subscriber roster_agent
  EXPORT roster-targets
  ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR} COMPONENT development)
# Used privately by the agent and subscriber libraries (static, so their
# users link it too); its headers name ZeroMQ types and are not installed.
set_target_properties(roster_curve_client PROPERTIES EXPORT_NAME curve_client)
install(TARGETS roster_curve_client
  EXPORT roster-targets
  ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR} COMPONENT development)
foreach(dir common curve subscriber agent)
  install(DIRECTORY ${PROJECT_SOURCE_DIR}/${dir}/include/roster
    DESTINATION ${CMAKE_INSTALL_INCLUDEDIR} COMPONENT development
    FILES_MATCHING PATTERN "*.h")
endforeach()

install(EXPORT roster-targets
  NAMESPACE roster::
  DESTINATION ${ROSTER_CMAKE_DIR} COMPONENT development)
configure_package_config_file(${CMAKE_CURRENT_LIST_DIR}/roster-config.cmake.in
  ${PROJECT_BINARY_DIR}/roster-config.cmake
  INSTALL_DESTINATION ${ROSTER_CMAKE_DIR})
# 0.x: a minor version may break the API, so only the same minor matches.
write_basic_package_version_file(${PROJECT_BINARY_DIR}/roster-config-version.cmake
  COMPATIBILITY SameMinorVersion)
install(FILES
  ${PROJECT_BINARY_DIR}/roster-config.cmake
  ${PROJECT_BINARY_DIR}/roster-config-version.cmake
  DESTINATION ${ROSTER_CMAKE_DIR} COMPONENT development)

# pkg-config: relocatable (paths from ${pcfiledir}) unless the directories
# were given as absolute paths.
if(IS_ABSOLUTE "${CMAKE_INSTALL_LIBDIR}" OR IS_ABSOLUTE "${CMAKE_INSTALL_INCLUDEDIR}")
  set(ROSTER_PC_PREFIX "${CMAKE_INSTALL_PREFIX}")
  set(ROSTER_PC_LIBDIR "${CMAKE_INSTALL_FULL_LIBDIR}")
  set(ROSTER_PC_INCLUDEDIR "${CMAKE_INSTALL_FULL_INCLUDEDIR}")
else()
  file(RELATIVE_PATH pc_to_prefix
    "/prefix/${CMAKE_INSTALL_LIBDIR}/pkgconfig" "/prefix")
  set(ROSTER_PC_PREFIX "\${pcfiledir}/${pc_to_prefix}")
  set(ROSTER_PC_LIBDIR "\${prefix}/${CMAKE_INSTALL_LIBDIR}")
  set(ROSTER_PC_INCLUDEDIR "\${prefix}/${CMAKE_INSTALL_INCLUDEDIR}")
endif()
configure_file(${CMAKE_CURRENT_LIST_DIR}/roster.pc.in ${PROJECT_BINARY_DIR}/roster.pc @ONLY)
install(FILES ${PROJECT_BINARY_DIR}/roster.pc
  DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig COMPONENT development)
