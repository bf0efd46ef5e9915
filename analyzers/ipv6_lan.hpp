// What the sensor learned about the IPv6 side of the LAN: the routers (from their Router
// Advertisements, or named in the configuration) and the prefixes they put on the link. The
// inventory and egress ask it, per packet, whether a global IPv6 address is on the LAN, so a
// clinic on IPv6 IPoE (global addresses, no NAT) needs no IPv6 configuration. One object owned
// by the pipeline, written only by the ipv6-routers unit on the analysis thread; it survives
// reloads and is stored (meta "ipv6_lan") so a restart keeps it.
#pragma once

#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "capture/address.hpp"
#include "capture/packet.hpp"

namespace clinicwatch {

struct Ipv6Router {
    MacAddress mac;
    IpAddress link_local;  // the RA's source address (empty for a configured router not seen)
    Timestamp first_seen = 0, last_seen = 0;
    std::uint16_t lifetime = 0;  // router lifetime of the last RA, seconds
    bool managed = false, other = false;
    int preference = 0;
    std::uint32_t mtu = 0;       // 0: not announced
    std::vector<IpAddress> dns;  // RDNSS of the last RA
    std::string source;          // "ra", "configuration"
    // Its own global addresses, from its neighbour advertisements (newest last, at most
    // kMaxAddresses): another MAC claiming one of them is spoofing the router.
    std::vector<IpAddress> addresses;
    static constexpr std::size_t kMaxAddresses = 4;
};

struct Ipv6Prefix {
    IpNetwork prefix;
    MacAddress router;  // zero for a configured prefix
    Timestamp first_seen = 0, last_seen = 0;
    std::uint32_t valid_lifetime = 0, preferred_lifetime = 0;
    std::string source;  // "ra", "configuration"
};

class Ipv6Lan {
  public:
    static constexpr std::size_t kMaxRouters = 8;
    static constexpr std::size_t kMaxPrefixes = 16;

    // A link-local address, or one in an on-link prefix (the hot path: a few 8-byte
    // comparisons). Link-local addresses never leave the LAN, whatever internal_networks says.
    bool on_link(const IpAddress& a) const {
        if (!a.is_v6()) return false;
        if (a.bytes[0] == 0xfe && (a.bytes[1] & 0xc0) == 0x80) return true;
        for (const auto& p : prefixes_)
            if (p.prefix.prefix == 64
                    ? std::memcmp(a.bytes.data(), p.prefix.base.bytes.data(), 8) == 0
                    : p.prefix.contains(a))
                return true;
        return false;
    }
    bool is_router(const MacAddress& mac) const {
        for (const auto& r : routers_)
            if (r.mac == mac) return true;
        return false;
    }
    // The router whose link-local address, or one of whose global addresses, `a` is.
    const Ipv6Router* router_with_address(const IpAddress& a) const {
        for (const auto& r : routers_) {
            if (!r.link_local.empty() && r.link_local == a) return &r;
            for (const auto& g : r.addresses)
                if (g == a) return &r;
        }
        return nullptr;
    }
    const std::vector<Ipv6Router>& routers() const { return routers_; }
    const std::vector<Ipv6Prefix>& prefixes() const { return prefixes_; }

    // Learning (the ipv6-routers unit). Both return true when something new was learned (a
    // router or a prefix not known before): worth storing at once.
    bool learn_router(const Ipv6Router& seen);
    bool learn_prefix(const Ipv6Prefix& seen);
    // A global address the router `mac` answered for (true when new).
    bool learn_router_address(const MacAddress& mac, const IpAddress& address);
    // Configuration adds to what is learned: routers by MAC, prefixes by CIDR.
    void configure(const std::vector<MacAddress>& routers, const std::vector<IpNetwork>& prefixes);

    nlohmann::json to_json() const;
    // What an earlier run stored (ignores what it cannot read).
    void restore(const nlohmann::json& stored);

  private:
    std::vector<Ipv6Router> routers_;
    std::vector<Ipv6Prefix> prefixes_;
};

}  // namespace clinicwatch
