// NetBIOS browser announcements: UDP 138 datagram -> SMB1 TRANSACTION (0x25) -> mailslot
// \MAILSLOT\BROWSE (or \MAILSLOT\LANMAN). Windows hosts announce their OS major.minor and
// server-type bits every few minutes, which makes this the cheapest passive OS evidence.
// Layouts: MS-BRWS 2.2.1/2.2.6/2.2.7, MS-CIFS TRANSACTION, Wireshark packet-smb-browse.c.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "capture/bytes.hpp"

namespace clinicwatch::browser {

enum Opcode : std::uint8_t {
    kHostAnnouncement = 0x01,
    kDomainAnnouncement = 0x0c,
    kLocalMasterAnnouncement = 0x0f,
};

// Server type bits (MS-SRVS 2.2.2.7).
enum ServerType : std::uint32_t {
    kWorkstation = 0x1,
    kServer = 0x2,
    kDomainController = 0x8,
    kBackupDomainController = 0x10,
    kServerUnix = 0x800,  // Samba and other non-Windows SMB servers
    kNt = 0x1000,
    kServerNt = 0x8000,  // a server SKU
};

struct Announcement {
    std::uint8_t opcode = 0;
    std::string mailslot;     // "\MAILSLOT\BROWSE" or "\MAILSLOT\LANMAN"
    std::string server_name;  // NetBIOS name (workgroup for a DomainAnnouncement)
    std::uint8_t os_major = 0, os_minor = 0;
    std::uint32_t server_type = 0;
    std::string comment;  // LMB name in a DomainAnnouncement

    bool is_windows_server() const {
        return (server_type & (kServerNt | kDomainController | kBackupDomainController)) != 0;
    }
    bool is_samba() const { return (server_type & kServerUnix) != 0; }
};

// Parses a whole UDP 138 payload. Returns nothing for other datagrams (elections, requests,
// other mailslots) and for anything truncated or malformed.
std::optional<Announcement> parse_datagram(Bytes udp_payload);

}  // namespace clinicwatch::browser
