#include "analyzers/ipv6_lan.hpp"

#include <algorithm>

namespace clinicwatch {

namespace {

bool same_prefix(const IpNetwork& a, const IpNetwork& b) {
    return a.prefix == b.prefix && a.base == b.base;
}

}  // namespace

bool Ipv6Lan::learn_router(const Ipv6Router& seen) {
    for (auto& r : routers_) {
        if (r.mac != seen.mac) continue;
        Timestamp first = r.first_seen ? r.first_seen : seen.first_seen;
        bool was_configured_unseen = r.link_local.empty();
        std::string source = r.source == "configuration" ? r.source : seen.source;
        std::vector<IpAddress> addresses = std::move(r.addresses);
        for (const auto& a : seen.addresses)
            if (std::find(addresses.begin(), addresses.end(), a) == addresses.end())
                addresses.push_back(a);
        if (addresses.size() > Ipv6Router::kMaxAddresses)
            addresses.erase(addresses.begin(), addresses.end() - static_cast<std::ptrdiff_t>(
                                                                     Ipv6Router::kMaxAddresses));
        r = seen;
        r.first_seen = first;
        r.source = source;
        r.addresses = std::move(addresses);
        return was_configured_unseen;
    }
    if (routers_.size() >= kMaxRouters) {
        // Keep the most recently heard routers: replace the one silent longest.
        auto oldest = std::min_element(
            routers_.begin(), routers_.end(),
            [](const auto& a, const auto& b) { return a.last_seen < b.last_seen; });
        *oldest = seen;
        return true;
    }
    routers_.push_back(seen);
    return true;
}

bool Ipv6Lan::learn_prefix(const Ipv6Prefix& seen) {
    for (auto& p : prefixes_) {
        if (!same_prefix(p.prefix, seen.prefix)) continue;
        Timestamp first = p.first_seen ? p.first_seen : seen.first_seen;
        std::string source = p.source == "configuration" ? p.source : seen.source;
        p = seen;
        p.first_seen = first;
        p.source = source;
        return false;
    }
    if (prefixes_.size() >= kMaxPrefixes) {
        auto oldest =
            std::min_element(prefixes_.begin(), prefixes_.end(), [](const auto& a, const auto& b) {
                if ((a.source == "configuration") != (b.source == "configuration"))
                    return b.source == "configuration";
                return a.last_seen < b.last_seen;
            });
        *oldest = seen;
        return true;
    }
    prefixes_.push_back(seen);
    return true;
}

bool Ipv6Lan::learn_router_address(const MacAddress& mac, const IpAddress& address) {
    for (auto& r : routers_) {
        if (r.mac != mac) continue;
        auto it = std::find(r.addresses.begin(), r.addresses.end(), address);
        if (it != r.addresses.end()) {
            // Most recent last: the oldest (a renumbered prefix's) goes first when full.
            std::rotate(it, it + 1, r.addresses.end());
            return false;
        }
        if (r.addresses.size() >= Ipv6Router::kMaxAddresses) r.addresses.erase(r.addresses.begin());
        r.addresses.push_back(address);
        return true;
    }
    return false;
}

void Ipv6Lan::configure(const std::vector<MacAddress>& routers,
                        const std::vector<IpNetwork>& prefixes) {
    for (const auto& mac : routers) {
        bool known = std::any_of(routers_.begin(), routers_.end(),
                                 [&](const auto& r) { return r.mac == mac; });
        if (known) {
            for (auto& r : routers_)
                if (r.mac == mac) r.source = "configuration";
            continue;
        }
        Ipv6Router r;
        r.mac = mac;
        r.source = "configuration";
        if (routers_.size() < kMaxRouters) routers_.push_back(r);
    }
    for (const auto& n : prefixes) {
        if (!n.base.is_v6()) continue;
        Ipv6Prefix p;
        p.prefix = n;
        p.source = "configuration";
        bool known = false;
        for (auto& q : prefixes_)
            if (same_prefix(q.prefix, n)) {
                q.source = "configuration";
                known = true;
            }
        if (!known && prefixes_.size() < kMaxPrefixes) prefixes_.push_back(p);
    }
}

nlohmann::json Ipv6Lan::to_json() const {
    using nlohmann::json;
    json routers = json::array(), prefixes = json::array();
    for (const auto& r : routers_) {
        json dns = json::array();
        for (const auto& d : r.dns) dns.push_back(d.to_string());
        json addresses = json::array();
        for (const auto& a : r.addresses) addresses.push_back(a.to_string());
        routers.push_back({{"mac", r.mac.to_string()},
                           {"link_local", r.link_local.empty() ? "" : r.link_local.to_string()},
                           {"first_seen", r.first_seen},
                           {"last_seen", r.last_seen},
                           {"lifetime", r.lifetime},
                           {"managed", r.managed},
                           {"other", r.other},
                           {"preference", r.preference},
                           {"mtu", r.mtu},
                           {"dns", dns},
                           {"addresses", addresses},
                           {"source", r.source}});
    }
    for (const auto& p : prefixes_)
        prefixes.push_back({{"prefix", p.prefix.to_string()},
                            {"router_mac", p.router.is_zero() ? "" : p.router.to_string()},
                            {"first_seen", p.first_seen},
                            {"last_seen", p.last_seen},
                            {"valid_lifetime", p.valid_lifetime},
                            {"preferred_lifetime", p.preferred_lifetime},
                            {"source", p.source}});
    return {{"routers", routers}, {"prefixes", prefixes}};
}

void Ipv6Lan::restore(const nlohmann::json& j) {
    if (!j.is_object()) return;
    for (const auto& r : j.value("routers", nlohmann::json::array())) {
        if (!r.is_object()) continue;
        auto mac = MacAddress::parse(r.value("mac", ""));
        if (!mac) continue;
        Ipv6Router x;
        x.mac = *mac;
        if (auto ll = IpAddress::parse(r.value("link_local", ""))) x.link_local = *ll;
        x.first_seen = r.value("first_seen", Timestamp{0});
        x.last_seen = r.value("last_seen", Timestamp{0});
        x.lifetime = r.value("lifetime", std::uint16_t{0});
        x.managed = r.value("managed", false);
        x.other = r.value("other", false);
        x.preference = r.value("preference", 0);
        x.mtu = r.value("mtu", std::uint32_t{0});
        for (const auto& d : r.value("dns", nlohmann::json::array()))
            if (d.is_string())
                if (auto a = IpAddress::parse(d.get<std::string>())) x.dns.push_back(*a);
        for (const auto& a : r.value("addresses", nlohmann::json::array()))
            if (a.is_string())
                if (auto g = IpAddress::parse(a.get<std::string>()); g && g->is_v6())
                    if (x.addresses.size() < Ipv6Router::kMaxAddresses) x.addresses.push_back(*g);
        x.source = r.value("source", "ra");
        learn_router(x);
    }
    for (const auto& p : j.value("prefixes", nlohmann::json::array())) {
        if (!p.is_object()) continue;
        auto net = IpNetwork::parse(p.value("prefix", ""));
        if (!net || !net->base.is_v6()) continue;
        Ipv6Prefix x;
        x.prefix = *net;
        if (auto mac = MacAddress::parse(p.value("router_mac", ""))) x.router = *mac;
        x.first_seen = p.value("first_seen", Timestamp{0});
        x.last_seen = p.value("last_seen", Timestamp{0});
        x.valid_lifetime = p.value("valid_lifetime", std::uint32_t{0});
        x.preferred_lifetime = p.value("preferred_lifetime", std::uint32_t{0});
        x.source = p.value("source", "ra");
        learn_prefix(x);
    }
}

}  // namespace clinicwatch
