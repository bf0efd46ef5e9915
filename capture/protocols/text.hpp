// Small text helpers shared by the protocol parsers: UTF-16LE to UTF-8 and bounded C strings.
// Every helper stops at its limit, so hostile input cannot make a parser allocate much.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "capture/bytes.hpp"

namespace clinicwatch::text {

// Converts UTF-16LE code units to UTF-8 until a NUL unit, the end of `in`, or `max_chars`.
// `consumed` (optional) gets the bytes used, including the terminating NUL when one was seen.
std::string utf16le_to_utf8(Bytes in, std::size_t max_chars, std::size_t* consumed = nullptr);

// Reads a NUL-terminated 8-bit string (kept as is; non-printable bytes become '?').
std::string cstring(Bytes in, std::size_t max_chars, std::size_t* consumed = nullptr);

// Trims trailing spaces and NULs (NetBIOS names are space padded).
std::string trim_right(std::string s);

// Up to `max_chars` bytes as printable ASCII: line breaks and tabs become spaces, anything else
// outside 0x20..0x7e becomes '?' (device names and descriptions from the wire).
std::string printable_ascii(Bytes in, std::size_t max_chars);

// A name from the wire made safe to store and show, once, where it is parsed: valid UTF-8 is
// kept (Japanese device names), control characters (C0, DEL, C1: escape sequences) and invalid
// bytes become '?', and the result is at most `max_bytes` long, cut on a character boundary.
std::string safe_name(std::string_view in, std::size_t max_bytes);

// ASCII case-insensitive equality (header names).
bool iequals(std::string_view a, std::string_view b);
// Without leading spaces/tabs and trailing spaces/tabs/CR (header values).
std::string_view trim(std::string_view s);

}  // namespace clinicwatch::text
