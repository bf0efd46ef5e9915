// TLS ClientHello (RFC 8446 §4.1.2, RFC 5246 §7.4.1.2) from the first bytes of a TCP stream:
// the name the client asks for (SNI, RFC 6066 §3) and the offered versions. A pure function
// over one record; a ClientHello split over several TCP segments yields what the first
// segment holds when the SNI is inside it, else nothing.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "capture/bytes.hpp"

namespace clinicwatch::tls {

struct TlsClientHello {
    std::uint16_t record_version = 0;  // TLS record layer version (0x0301 for most clients)
    std::uint16_t legacy_version = 0;  // ClientHello.legacy_version (0x0303 even for TLS 1.3)
    std::string sni;                   // host_name from server_name, lower-case; empty if none
    std::vector<std::uint16_t> supported_versions;  // extension 43, in order
    std::vector<std::uint16_t> cipher_suites;       // in order
    std::vector<std::uint16_t> extension_types;     // in order
    bool truncated = false;  // the record continues past the bytes we were given
};

constexpr std::size_t kMaxCipherSuites = 128;
constexpr std::size_t kMaxExtensions = 64;
constexpr std::size_t kMaxSupportedVersions = 16;

// `data` starts at a TLS record header (content type 22, handshake type 1).
std::optional<TlsClientHello> parse_client_hello(Bytes data);

}  // namespace clinicwatch::tls
