#include "daemon/ipv6_network.hpp"

#include <SQLiteCpp/SQLiteCpp.h>

#include "analyzers/ipv6_lan.hpp"
#include "capture/protocols/ndp.hpp"

namespace clinicwatch {

Ipv6Network load_ipv6_network(SQLite::Database& db) {
    Ipv6Network out;
    std::string stored;
    try {
        SQLite::Statement st(db, "SELECT value FROM meta WHERE key = 'ipv6_lan'");
        if (!st.executeStep()) return out;
        stored = st.getColumn(0).getString();
    } catch (const SQLite::Exception&) {
        return out;  // no meta table yet
    }
    Ipv6Lan lan;
    lan.restore(nlohmann::json::parse(stored, nullptr, false));
    for (const auto& r : lan.routers()) {
        Ipv6RouterSeen x;
        x.mac = r.mac.to_string();
        x.link_local = r.link_local.empty() ? "" : r.link_local.to_string();
        x.first_seen_us = r.first_seen;
        x.last_seen_us = r.last_seen;
        x.lifetime_seconds = r.lifetime;
        x.flags = ndp::flags_text(r.managed, r.other);
        x.mtu = r.mtu;
        for (const auto& d : r.dns) x.dns.push_back(d.to_string());
        x.source = r.source;
        out.routers.push_back(std::move(x));
    }
    for (const auto& p : lan.prefixes()) {
        Ipv6PrefixSeen x;
        x.prefix = p.prefix.to_string();
        x.router_mac = p.router.is_zero() ? "" : p.router.to_string();
        x.first_seen_us = p.first_seen;
        x.last_seen_us = p.last_seen;
        x.valid_lifetime = p.valid_lifetime;
        x.preferred_lifetime = p.preferred_lifetime;
        x.deprecated = p.source == "ra" && p.preferred_lifetime == 0;
        x.source = p.source;
        out.prefixes.push_back(std::move(x));
    }
    return out;
}

nlohmann::json ipv6_network_json(const Ipv6Network& n) {
    using nlohmann::json;
    json routers = json::array(), prefixes = json::array();
    for (const auto& r : n.routers)
        routers.push_back({{"mac", r.mac},
                           {"link_local", r.link_local},
                           {"first_seen_us", r.first_seen_us},
                           {"last_seen_us", r.last_seen_us},
                           {"lifetime_seconds", r.lifetime_seconds},
                           {"flags", r.flags},
                           {"mtu", r.mtu},
                           {"dns", r.dns},
                           {"source", r.source}});
    for (const auto& p : n.prefixes)
        prefixes.push_back({{"prefix", p.prefix},
                            {"router_mac", p.router_mac},
                            {"first_seen_us", p.first_seen_us},
                            {"last_seen_us", p.last_seen_us},
                            {"valid_lifetime", p.valid_lifetime},
                            {"preferred_lifetime", p.preferred_lifetime},
                            {"deprecated", p.deprecated},
                            {"source", p.source}});
    return {{"routers", routers}, {"prefixes", prefixes}};
}

}  // namespace clinicwatch
