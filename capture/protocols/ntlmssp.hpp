// NTLMSSP messages (MS-NLMP 2.2.1.1-2.2.1.3, VERSION 2.2.2.10), wherever they travel: inside
// SMB session setups (SPNEGO), HTTP Authorization / WWW-Authenticate headers (base64), DCE/RPC,
// LDAP... The VERSION field names the OS build of the sender: NEGOTIATE and AUTHENTICATE come
// from the client, CHALLENGE from the server. Never parses or keeps the responses themselves.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "capture/bytes.hpp"

namespace clinicwatch::ntlmssp {

enum MessageType : std::uint32_t { kNegotiate = 1, kChallenge = 2, kAuthenticate = 3 };
constexpr std::uint32_t kFlagUnicode = 0x00000001;
constexpr std::uint32_t kFlagVersion = 0x02000000;

struct Version {
    std::uint8_t major = 0, minor = 0;
    std::uint16_t build = 0;
    std::uint8_t revision = 0;  // NTLMRevisionCurrent, 0x0f
};

struct Message {
    std::uint32_t type = 0;
    std::uint32_t flags = 0;
    std::optional<Version> version;  // only when the VERSION flag is set and the field exists
    std::string domain;              // NEGOTIATE (if supplied) / AUTHENTICATE
    std::string workstation;         // NEGOTIATE (if supplied) / AUTHENTICATE: the client's name
    std::string user;                // AUTHENTICATE user name (an account name, not a secret)
    std::string target_name;         // CHALLENGE
    // AUTHENTICATE: the lengths of LmChallengeResponse and NtChallengeResponse (MS-NLMP
    // 2.2.1.3); an NT response of 24 bytes is NTLMv1 (3.3.1), NTLMv2's is longer (3.3.2).
    std::uint16_t lm_response_length = 0, nt_response_length = 0;
    bool from_client() const { return type != kChallenge; }
};

constexpr std::size_t kMaxString = 128;

// `message` starts with "NTLMSSP\0".
std::optional<Message> parse(Bytes message);
// Finds the first "NTLMSSP\0" in `payload` (bounded scan) and parses from there.
std::optional<Message> find(Bytes payload);
// The token after "NTLM " or "Negotiate " in an HTTP auth header, base64-decoded and parsed.
std::optional<Message> parse_http_auth(std::string_view header_value);

// Standard base64 (RFC 4648), ignoring whitespace; nothing for invalid input or beyond max_out.
std::optional<std::vector<std::uint8_t>> decode_base64(std::string_view in, std::size_t max_out);

}  // namespace clinicwatch::ntlmssp
