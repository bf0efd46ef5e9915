# Read by cpack at packaging time (CPACK_PROJECT_CONFIG_FILE in packaging/cpack.cmake).
if(NOT CPACK_CLINICWATCH_INSTALL_PREFIX STREQUAL CPACK_PACKAGING_INSTALL_PREFIX)
  message(FATAL_ERROR
    "clinicwatch: this tree was configured with CMAKE_INSTALL_PREFIX="
    "${CPACK_CLINICWATCH_INSTALL_PREFIX}, but the package installs under "
    "${CPACK_PACKAGING_INSTALL_PREFIX}; the binary would not find its rules. "
    "Use `cmake --preset package` (or -DCMAKE_INSTALL_PREFIX=/usr).")
endif()
