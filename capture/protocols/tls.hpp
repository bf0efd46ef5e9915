// TLS handshake hellos (RFC 5246 7.4.1, RFC 8446 4.1.2/4.1.3) from the first record of a
// connection: versions offered and chosen, cipher suites, extensions (SNI, supported_versions,
// groups, point formats) and the JA3 fingerprint (Salesforce JA3: MD5 of
// "version,ciphers,extensions,groups,point_formats", GREASE values removed). Made general so
// the egress analyzer can reuse it for SNI.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "capture/bytes.hpp"

namespace clinicwatch::tls {

constexpr std::uint16_t kSsl3 = 0x0300, kTls10 = 0x0301, kTls11 = 0x0302, kTls12 = 0x0303,
                        kTls13 = 0x0304;

constexpr std::size_t kMaxAlpn = 8;

struct ClientHello {
    std::uint16_t record_version = 0;
    std::uint16_t handshake_version = 0;  // legacy_version
    std::vector<std::uint16_t> cipher_suites;
    std::vector<std::uint16_t> extensions;          // types, in order
    std::vector<std::uint16_t> groups;              // supported_groups (10)
    std::vector<std::uint8_t> ec_point_formats;     // (11)
    std::vector<std::uint16_t> supported_versions;  // (43)
    std::string sni;                                // server_name (0), host_name entry
    std::vector<std::string> alpn;      // application_layer_protocol_negotiation (16), printable
                                        // names only, at most kMaxAlpn
    bool extensions_truncated = false;  // the hello continued past this segment

    // The highest version offered, from supported_versions when present (GREASE ignored).
    std::uint16_t highest_version() const;
    std::string ja3() const;
    std::string ja3_hash() const;
    // A 64-bit hash of exactly what JA3 reads (GREASE removed): equal keys mean equal JA3s, so
    // a caller can skip building and MD5-ing the string for a hello it has just seen.
    std::uint64_t ja3_key() const;
};

struct ServerHello {
    std::uint16_t record_version = 0;
    std::uint16_t handshake_version = 0;
    std::uint16_t cipher_suite = 0;
    std::optional<std::uint16_t> supported_version;  // (43), TLS 1.3
    std::uint16_t negotiated_version() const {
        return supported_version ? *supported_version : handshake_version;
    }
};

constexpr std::size_t kMaxCipherSuites = 256;
constexpr std::size_t kMaxExtensions = 64;
constexpr std::size_t kMaxListItems = 64;

// Cheap check: a handshake record (0x16 0x03 ...) whose first message has this type
// (1 ClientHello, 2 ServerHello).
bool is_handshake(Bytes payload, std::uint8_t message_type);

// `record` starts at the TLS record header.
std::optional<ClientHello> parse_client_hello(Bytes record);
std::optional<ServerHello> parse_server_hello(Bytes record);
// A ClientHello handshake message without a record header (as QUIC carries it in CRYPTO
// frames, RFC 9001 §4.1), starting at its type byte. record_version stays 0.
std::optional<ClientHello> parse_client_hello_message(Bytes message);

bool is_grease(std::uint16_t value);
// "TLS 1.2", "SSL 3.0", or hex.
std::string version_name(std::uint16_t version);
// Lower-case hex MD5 (RFC 1321); small and self-contained, for JA3.
std::string md5_hex(Bytes data);

}  // namespace clinicwatch::tls
