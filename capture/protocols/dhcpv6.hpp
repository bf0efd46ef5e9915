// DHCPv6 (RFC 8415): the client/server messages a clinic LAN carries (Solicit, Advertise,
// Request, Reply, Information-request ...) with the options that say who the server is and
// what it hands out: server and client DUIDs, IA_NA addresses, IA_PD prefixes, DNS servers
// (RFC 3646). A pure function from a UDP payload to a fixed-size struct: no allocation, every
// length checked; values beyond the caps are counted, not kept. Relay messages are recognised
// by type only.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string_view>

#include "capture/address.hpp"
#include "capture/bytes.hpp"

namespace clinicwatch::dhcpv6 {

constexpr std::uint16_t kClientPort = 546;
constexpr std::uint16_t kServerPort = 547;

enum MessageType : std::uint8_t {
    kSolicit = 1,
    kAdvertise = 2,
    kRequest = 3,
    kConfirm = 4,
    kRenew = 5,
    kRebind = 6,
    kReply = 7,
    kRelease = 8,
    kDecline = 9,
    kReconfigure = 10,
    kInformationRequest = 11,
    kRelayForward = 12,
    kRelayReply = 13,
};

struct Message {
    static constexpr std::size_t kMaxAddresses = 4, kMaxPrefixes = 4, kMaxDns = 4;
    std::uint8_t type = 0;
    std::uint32_t transaction_id = 0;  // 24 bits
    // The MAC inside a DUID-LL or DUID-LLT over Ethernet, when the DUID is one.
    std::optional<MacAddress> client_mac, server_mac;
    bool has_client_id = false, has_server_id = false;
    bool has_ia_na = false, has_ia_pd = false;
    std::array<IpAddress, kMaxAddresses> addresses{};  // IA_NA / IAADDR
    std::uint8_t address_count = 0;
    std::array<IpNetwork, kMaxPrefixes> prefixes{};  // IA_PD / IAPREFIX
    std::uint8_t prefix_count = 0;
    std::array<IpAddress, kMaxDns> dns{};  // option 23
    std::uint8_t dns_count = 0;
    std::optional<std::uint16_t> status;  // top-level status code (0 success)
    std::uint16_t values_not_kept = 0;

    // Sent by a server (or a relay towards the client).
    bool from_server() const {
        return type == kAdvertise || type == kReply || type == kReconfigure || type == kRelayReply;
    }
};

// `payload` is the UDP payload. Nothing when the type is unknown or an option runs past the end.
std::optional<Message> parse(Bytes payload);

std::string_view message_type_name(std::uint8_t type);

}  // namespace clinicwatch::dhcpv6
