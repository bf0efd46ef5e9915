#pragma once
// CLINICWATCH_ASAN_BUILD is defined under AddressSanitizer, where resident memory is mostly
// shadow memory and quarantine (memory budgets mean nothing) and everything runs slower. GCC
// announces ASan with __SANITIZE_ADDRESS__, clang only through __has_feature(address_sanitizer).

#if defined(__SANITIZE_ADDRESS__)
#define CLINICWATCH_ASAN_BUILD 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define CLINICWATCH_ASAN_BUILD 1
#endif
#endif
