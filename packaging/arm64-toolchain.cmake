# packaging/arm64-toolchain.cmake: cross-build for 64-bit ARM (Raspberry Pi 3/4/5 on Raspberry Pi
# OS bookworm 64-bit, or Debian 12 arm64) with Debian's cross toolchain (crossbuild-essential-arm64)
# and the multiarch :arm64 -dev packages. packaging/build-arm64.sh installs both and uses this file.
set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_SYSTEM_PROCESSOR aarch64)
set(CMAKE_C_COMPILER aarch64-linux-gnu-gcc)
set(CMAKE_CXX_COMPILER aarch64-linux-gnu-g++)
set(CMAKE_LIBRARY_ARCHITECTURE aarch64-linux-gnu)

# Libraries and CMake package files of the target come from the arm64 multiarch folders (and from
# CLINICWATCH_ARM64_EXTRA_ROOT: -dev packages that cannot be installed beside their amd64 twin,
# unpacked by build-arm64.sh); programs (pkg-config, qemu) from the build machine.
set(CMAKE_FIND_ROOT_PATH "${CLINICWATCH_ARM64_EXTRA_ROOT}" /)
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE BOTH)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE ONLY)
set(ENV{PKG_CONFIG_LIBDIR} "/usr/lib/aarch64-linux-gnu/pkgconfig:/usr/share/pkgconfig")

# Test programs (and gtest's discovery) run under user-mode QEMU; libc6:arm64 puts the arm64
# dynamic loader where an arm64 binary looks for it, so no sysroot option is needed.
set(CMAKE_CROSSCOMPILING_EMULATOR qemu-aarch64-static)
set(CPACK_DEBIAN_PACKAGE_ARCHITECTURE arm64)
list(APPEND CMAKE_TRY_COMPILE_PLATFORM_VARIABLES CLINICWATCH_ARM64_EXTRA_ROOT)
