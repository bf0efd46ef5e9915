// IPv6 Neighbor Discovery (RFC 4861) with the RA options clinics meet: prefix information,
// MTU, source/target link-layer address, recursive DNS servers (RFC 8106). Pure functions
// from an ICMPv6 message (type byte onwards) to a fixed-size struct: no allocation, every
// length checked; options beyond the caps are counted, not kept.
#pragma once

#include <array>
#include <cstdint>
#include <optional>

#include "capture/address.hpp"
#include "capture/bytes.hpp"

namespace clinicwatch::ndp {

enum Type : std::uint8_t {
    kRouterSolicit = 133,
    kRouterAdvert = 134,
    kNeighbourSolicit = 135,
    kNeighbourAdvert = 136,
    kRedirect = 137,
};

// NDP messages are only valid with hop limit 255 (RFC 4861 6.1.2, 7.1.1): one that crossed a
// router was forged off-link and hosts drop it.
constexpr std::uint8_t kHopLimit = 255;

struct PrefixInfo {
    IpNetwork prefix;
    bool on_link = false, autonomous = false;
    std::uint32_t valid_lifetime = 0, preferred_lifetime = 0;  // seconds; 0xffffffff infinite
};

struct RouterAdvert {
    static constexpr std::size_t kMaxPrefixes = 8, kMaxDns = 4;
    std::uint8_t hop_limit = 0;
    bool managed = false;  // M: addresses by DHCPv6
    bool other = false;    // O: other configuration (DNS) by DHCPv6
    int preference = 0;    // RFC 4191: -1 low, 0 medium, 1 high (reserved 2 read as medium)
    std::uint16_t router_lifetime = 0;  // seconds; 0: not a default router
    std::uint32_t reachable_time = 0, retrans_timer = 0;
    std::optional<MacAddress> source_mac;
    std::optional<std::uint32_t> mtu;
    std::array<PrefixInfo, kMaxPrefixes> prefixes{};
    std::uint8_t prefix_count = 0;
    std::array<IpAddress, kMaxDns> dns{};
    std::uint8_t dns_count = 0;
    std::uint32_t dns_lifetime = 0;
    std::uint16_t options_not_kept = 0;  // prefixes or DNS servers beyond the caps
};

struct RouterSolicit {
    std::optional<MacAddress> source_mac;
};

struct NeighbourSolicit {
    IpAddress target;
    std::optional<MacAddress> source_mac;
};

struct NeighbourAdvert {
    IpAddress target;
    bool router = false, solicited = false, override_flag = false;
    std::optional<MacAddress> target_mac;
};

struct Redirect {
    IpAddress target, destination;
    std::optional<MacAddress> target_mac;
};

// `message` is the whole ICMPv6 message (type, code, checksum, body); nothing when it is not
// that type, code is not 0, or a length does not fit.
std::optional<RouterAdvert> parse_router_advert(Bytes message);
std::optional<RouterSolicit> parse_router_solicit(Bytes message);
std::optional<NeighbourSolicit> parse_neighbour_solicit(Bytes message);
std::optional<NeighbourAdvert> parse_neighbour_advert(Bytes message);
std::optional<Redirect> parse_redirect(Bytes message);

// "M O", "O", "-": the flags as a vendor reads them in the router's configuration.
const char* flags_text(bool managed, bool other);

}  // namespace clinicwatch::ndp
