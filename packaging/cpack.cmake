# packaging/cpack.cmake: install layout of the appliance and the Debian package (CPack DEB).
# Included from the top-level CMakeLists.txt after the targets exist. Build the .deb with
#   cmake --preset package && cmake --build --preset package && cpack --preset package
# (any built tree can be packed too: `cd build/release && cpack -G DEB`; the installed binary
# finds its rules and templates beside itself, /usr/bin -> /usr/share/clinicwatch).
include(GNUInstallDirs)

# Detection knowledge and report templates: read at start from <prefix>/share/clinicwatch.
# Both folders are filled by other parts of the project; install whatever is there.
if(EXISTS "${PROJECT_SOURCE_DIR}/rules")
  install(DIRECTORY "${PROJECT_SOURCE_DIR}/rules/" DESTINATION "${CMAKE_INSTALL_DATADIR}/clinicwatch/rules")
endif()
if(EXISTS "${PROJECT_SOURCE_DIR}/daemon/report/templates")
  install(DIRECTORY "${PROJECT_SOURCE_DIR}/daemon/report/templates/"
          DESTINATION "${CMAKE_INSTALL_DATADIR}/clinicwatch/templates")
endif()

# The configuration: a conffile (see packaging/deb/conffiles), so dpkg keeps local edits on
# upgrade and asks when both sides changed. Always /etc/clinicwatch, where the program looks
# by default, whatever the prefix.
install(FILES "${PROJECT_SOURCE_DIR}/config/clinicwatch.example.yaml"
        DESTINATION /etc/clinicwatch RENAME clinicwatch.yaml)

# systemd unit and sysusers.d entry, under /usr/lib where systemd looks for vendor files.
install(FILES "${CMAKE_CURRENT_LIST_DIR}/clinicwatch.service" DESTINATION lib/systemd/system)
install(FILES "${CMAKE_CURRENT_LIST_DIR}/clinicwatch.sysusers" DESTINATION lib/sysusers.d
        RENAME clinicwatch.conf)

install(FILES "${PROJECT_SOURCE_DIR}/README.md" "${PROJECT_SOURCE_DIR}/docs/install.md"
              "${PROJECT_SOURCE_DIR}/docs/events.md" "${PROJECT_SOURCE_DIR}/docs/fleet.md"
              "${PROJECT_SOURCE_DIR}/config/clinicwatch.example.yaml"
        DESTINATION "${CMAKE_INSTALL_DOCDIR}")
# For those who watch many clinics (docs/fleet.md), samples only, nothing enabled: the rsyslog
# relay snippet, and the Prometheus alert rules with their promtool test.
install(FILES "${PROJECT_SOURCE_DIR}/docs/rsyslog/30-clinicwatch.conf"
        DESTINATION "${CMAKE_INSTALL_DOCDIR}/rsyslog")
install(FILES "${PROJECT_SOURCE_DIR}/docs/prometheus/clinicwatch-rules.yml"
              "${PROJECT_SOURCE_DIR}/docs/prometheus/clinicwatch-rules.test.yml"
        DESTINATION "${CMAKE_INSTALL_DOCDIR}/prometheus")

set(CLINICWATCH_PACKAGE_MAINTAINER "clinicwatch maintainers <maintainers@clinicwatch.invalid>"
    CACHE STRING "Maintainer field of the .deb")

set(CPACK_GENERATOR "DEB")
set(CPACK_PACKAGE_NAME "clinicwatch")
set(CPACK_PACKAGE_VENDOR "clinicwatch")
set(CPACK_PACKAGE_VERSION "${PROJECT_VERSION}")
set(CPACK_PACKAGE_CONTACT "${CLINICWATCH_PACKAGE_MAINTAINER}")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "passive network sensor for small clinic LANs")
set(CPACK_PACKAGE_DESCRIPTION
    "clinicwatch sits on a switch mirror port, never sends a packet, and keeps an asset\n\
inventory, alerts (loops and storms, unregistered devices, unsupported operating systems,\n\
unexpected internet traffic, remote-maintenance tools) and network statistics in SQLite.")
set(CPACK_PACKAGING_INSTALL_PREFIX "/usr")
set(CPACK_STRIP_FILES ON)
set(CPACK_PACKAGE_DIRECTORY "${PROJECT_BINARY_DIR}/packages")

set(CPACK_DEBIAN_FILE_NAME "DEB-DEFAULT")
set(CPACK_DEBIAN_PACKAGE_RELEASE "1")
set(CPACK_DEBIAN_PACKAGE_MAINTAINER "${CLINICWATCH_PACKAGE_MAINTAINER}")
set(CPACK_DEBIAN_PACKAGE_SECTION "net")
set(CPACK_DEBIAN_PACKAGE_PRIORITY "optional")
# Depends computed by dpkg-shlibdeps from the binary (needs dpkg-dev and file), and libcurl4,
# which the binary loads when it sends mail (daemon/digest/smtp.cpp) instead of linking it.
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_PACKAGE_DEPENDS "libcurl4 (>= 7.74)")
set(CPACK_DEBIAN_PACKAGE_CONTROL_EXTRA
    "${CMAKE_CURRENT_LIST_DIR}/deb/conffiles" "${CMAKE_CURRENT_LIST_DIR}/deb/postinst"
    "${CMAKE_CURRENT_LIST_DIR}/deb/prerm" "${CMAKE_CURRENT_LIST_DIR}/deb/postrm")
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION ON)

include(CPack)
