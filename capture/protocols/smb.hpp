// SMB over TCP 445/139 (NetBIOS session header + SMB1 or SMB2 message), the parts that tell
// which OS and which SMB generation a host speaks: SMB1 NEGOTIATE dialect strings, SMB1
// SESSION_SETUP_ANDX Native OS / Native LAN Manager strings (ASCII or UTF-16LE), SMB2
// NEGOTIATE dialect lists, negotiate contexts and the chosen dialect, and the security blob
// (SPNEGO/NTLMSSP) of session setups. Layouts: MS-CIFS 2.2.4.52/53, MS-SMB 2.2.4.6,
// MS-SMB2 2.2.3/2.2.4/2.2.5/2.2.6.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "capture/bytes.hpp"

namespace clinicwatch::smb {

enum class Kind : std::uint8_t {
    smb1_negotiate_request,
    smb1_negotiate_response,
    smb1_session_setup_request,
    smb1_session_setup_response,
    smb1_other,
    smb2_negotiate_request,
    smb2_negotiate_response,
    smb2_session_setup_request,
    smb2_session_setup_response,
    smb2_other,
};

struct Message {
    Kind kind = Kind::smb1_other;
    bool smb1 = true;
    bool response = false;
    std::uint16_t command = 0;
    std::vector<std::string> dialect_names;    // SMB1 NEGOTIATE request, in order (bounded)
    std::uint16_t dialect_index = 0xffff;      // SMB1 NEGOTIATE response
    std::vector<std::uint16_t> dialects;       // SMB2 NEGOTIATE request (bounded)
    std::vector<std::uint16_t> context_types;  // SMB2 negotiate contexts (3.1.1 only, bounded)
    std::uint16_t dialect_revision = 0;        // SMB2 NEGOTIATE response
    std::string native_os, native_lanman;      // SMB1 SESSION_SETUP_ANDX
    Bytes security_blob;                       // session setup / negotiate response blob
};

constexpr std::size_t kMaxDialects = 32;
constexpr std::size_t kMaxContexts = 16;
constexpr std::size_t kMaxString = 256;

// A TCP payload that starts with a NetBIOS session message (type 0x00 + 24-bit length). Only
// the first message in the segment is parsed; a message longer than the segment is parsed
// as far as the fields we need are present.
std::optional<Message> parse(Bytes tcp_payload);
// The SMB message itself, starting at 0xFF 'SMB' or 0xFE 'SMB'.
std::optional<Message> parse_message(Bytes smb);

// "SMB 2.002" style dialect name for an SMB2 dialect number (0x0311 -> "3.1.1").
std::string dialect_name(std::uint16_t dialect);

}  // namespace clinicwatch::smb
