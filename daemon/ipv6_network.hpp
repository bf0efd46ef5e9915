// The IPv6 side of the LAN as the sensor learned it (issue 20), for the vendor report's network
// summary and anything else that reads the database: the routers heard advertising (MAC,
// link-local address, flags, lifetime, MTU, DNS servers, when heard) and the prefixes they put
// on the link (with lifetimes; a deprecated prefix is one being renumbered away). Plain data,
// read from the store (meta "ipv6_lan", written by the ipv6-routers unit); empty when the LAN
// has no IPv6 routers.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace SQLite {
class Database;
}

namespace clinicwatch {

struct Ipv6RouterSeen {
    std::string mac, link_local;
    std::int64_t first_seen_us = 0, last_seen_us = 0;
    int lifetime_seconds = 0;      // 0: not (any more) a default router
    std::string flags;             // "M O", "O", "M" or "-" (how hosts get addresses and DNS)
    std::uint32_t mtu = 0;         // 0: not announced
    std::vector<std::string> dns;  // RDNSS
    std::string source;            // "ra" (learned) or "configuration"
};

struct Ipv6PrefixSeen {
    std::string prefix;  // "2409:10:a0:1200::/64"
    std::string router_mac;
    std::int64_t first_seen_us = 0, last_seen_us = 0;
    std::uint32_t valid_lifetime = 0, preferred_lifetime = 0;
    bool deprecated = false;  // preferred lifetime 0: being renumbered away
    std::string source;       // "ra" or "configuration"
};

struct Ipv6Network {
    std::vector<Ipv6RouterSeen> routers;
    std::vector<Ipv6PrefixSeen> prefixes;
    bool empty() const { return routers.empty() && prefixes.empty(); }
};

// What the database holds (never throws on a database without it: empty).
Ipv6Network load_ipv6_network(SQLite::Database& db);

// The same as JSON for the report's model: {"routers": [...], "prefixes": [...]} with the
// fields above (times as microseconds).
nlohmann::json ipv6_network_json(const Ipv6Network& network);

}  // namespace clinicwatch
