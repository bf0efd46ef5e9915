#include "daemon/report/network_summary.hpp"

#include <SQLiteCpp/SQLiteCpp.h>

#include <map>
#include <set>

#include "capture/address.hpp"
#include "daemon/ipv6_network.hpp"

namespace clinicwatch {

namespace {

nlohmann::json or_null(const std::string& v) {
    return v.empty() ? nlohmann::json(nullptr) : nlohmann::json(v);
}

// The configured internal network holding `a`, else its /24 (IPv4) or /64 (IPv6).
std::string subnet_of(const IpAddress& a, const Config& config) {
    for (const auto& n : config.network.internal_networks)
        if (n.contains(a)) return n.to_string();
    IpNetwork n{a, a.family == IpAddress::Family::v4 ? 24 : 64};
    int keep = n.prefix / 8;
    for (int i = keep; i < 16; ++i) n.base.bytes[static_cast<std::size_t>(i)] = 0;
    return n.to_string();
}

// Configured internal networks, and private ranges (RFC 1918, RFC 4193): a home router's own
// 192.168.11.0/24 is a LAN too, if not the clinic's.
bool is_internal(const IpAddress& a, const Config& config) {
    for (const auto& n : config.network.internal_networks)
        if (n.contains(a)) return true;
    auto b = a.bytes;
    if (a.family == IpAddress::Family::v6) return (b[0] & 0xfe) == 0xfc;
    if (a.family != IpAddress::Family::v4) return false;
    return b[0] == 10 || (b[0] == 172 && (b[1] & 0xf0) == 16) || (b[0] == 192 && b[1] == 168);
}

}  // namespace

nlohmann::json network_summary(SQLite::Database& db, const Config& config,
                               const nlohmann::json& assets, const nlohmann::json& alerts,
                               Timestamp since) {
    std::map<std::string, const nlohmann::json*> by_mac, by_ip;
    for (const auto& a : assets) {
        by_mac[a["mac"].get<std::string>()] = &a;
        for (const auto& ip : a["addresses"]) by_ip[ip.get<std::string>()] = &a;
    }
    auto vendor_of = [&](const std::string& mac) -> nlohmann::json {
        auto it = by_mac.find(mac);
        return it == by_mac.end() ? nlohmann::json(nullptr) : it->second->at("raw").at("vendor");
    };

    // Subnets per VLAN: the internal addresses devices used.
    std::map<std::pair<int, std::string>, std::set<std::string>> subnets;
    for (const auto& a : assets)
        for (const auto& text : a["addresses"])
            if (auto ip = IpAddress::parse(text.get<std::string>()); ip && is_internal(*ip, config))
                subnets[{a["vlan"].get<int>(), subnet_of(*ip, config)}].insert(
                    a["mac"].get<std::string>());
    auto subnet_list = nlohmann::json::array();
    for (const auto& [key, macs] : subnets)
        subnet_list.push_back(
            {{"vlan", key.first}, {"prefix", key.second}, {"devices", macs.size()}});

    // Routers: the configured gateway, and devices the register calls a router.
    auto routers = nlohmann::json::array();
    std::set<std::string> router_macs;
    if (config.network.gateway_ip || config.network.gateway_mac) {
        std::string ip = config.network.gateway_ip ? config.network.gateway_ip->to_string() : "";
        std::string mac = config.network.gateway_mac ? config.network.gateway_mac->to_string() : "";
        if (mac.empty() && by_ip.count(ip)) mac = by_ip[ip]->at("mac").get<std::string>();
        router_macs.insert(mac);
        routers.push_back({{"address", or_null(ip)},
                           {"mac", or_null(mac)},
                           {"vendor", vendor_of(mac)},
                           {"source", "config"}});
    }
    for (const auto& a : assets) {
        std::string mac = a["mac"];
        auto role = a["raw"]["role"];
        if (router_macs.count(mac) || !role.is_string() || role != "router") continue;
        router_macs.insert(mac);
        routers.push_back(
            {{"address", a["addresses"].empty() ? nlohmann::json(nullptr) : a["addresses"][0]},
             {"mac", mac},
             {"vendor", a["raw"]["vendor"]},
             {"source", "register"}});
    }

    // DHCP servers: the approved ones (configured, else the gateway) and every server the
    // rogue-dhcp alerts name, with what it offered. Offers of approved servers are not stored.
    auto dhcp = nlohmann::json::array();
    std::vector<IpAddress> approved = config.inventory.dhcp_servers;
    if (approved.empty() && config.network.gateway_ip)
        approved.push_back(*config.network.gateway_ip);
    for (const auto& ip : approved) {
        std::string text = ip.to_string();
        std::string mac;
        // The gateway's configured MAC first: another device may have claimed its address.
        if (config.network.gateway_ip && *config.network.gateway_ip == ip &&
            config.network.gateway_mac)
            mac = config.network.gateway_mac->to_string();
        if (mac.empty() && by_ip.count(text)) mac = by_ip[text]->at("mac").get<std::string>();
        dhcp.push_back({{"address", text},
                        {"mac", or_null(mac)},
                        {"vendor", mac.empty() ? nlohmann::json(nullptr) : vendor_of(mac)},
                        {"approved", true},
                        {"offers", nullptr},
                        {"offered_routers", nlohmann::json::array()},
                        {"offered_dns", nlohmann::json::array()},
                        {"first_seen_us", nullptr},
                        {"last_seen_us", nullptr}});
    }
    std::map<std::string, nlohmann::json> rogue;
    for (const auto& a : alerts) {
        if (a["kind"] != "rogue-dhcp") continue;
        const auto& e = a["evidence"];
        std::string ip = e.value("server_ip", a["subject"].get<std::string>());
        auto& r = rogue[ip];
        if (r.is_null()) {
            std::string mac = e.value("server_mac", "");
            r = {{"address", ip},
                 {"mac", or_null(mac)},
                 {"vendor", mac.empty() ? nlohmann::json(nullptr) : vendor_of(mac)},
                 {"approved", false},
                 {"offers", 0},
                 {"offered_routers", e.value("router_option", nlohmann::json::array())},
                 {"offered_dns", e.value("dns_option", nlohmann::json::array())},
                 {"first_seen_us", a["first_seen_us"]},
                 {"last_seen_us", a["last_seen_us"]}};
        }
        r["offers"] = r["offers"].get<std::int64_t>() + a["count"].get<std::int64_t>();
    }
    for (auto& [_, r] : rogue) dhcp.push_back(r);

    // DNS servers used: resolvers on the internet the devices asked directly (boundary flows on
    // port 53), and the ones DHCP servers handed out.
    auto dns = nlohmann::json::array();
    bool has_flows =
        db.execAndGet("SELECT count(*) FROM sqlite_master WHERE name = 'boundary_flows'").getInt() >
        0;
    if (has_flows) {
        SQLite::Statement st(db, R"sql(
            SELECT address, count(DISTINCT mac), sum(flows) FROM boundary_flows
            WHERE port = 53 AND direction = 'egress' AND last_seen >= ?
            GROUP BY address ORDER BY 3 DESC)sql");
        st.bind(1, static_cast<std::int64_t>(since));
        while (st.executeStep())
            dns.push_back({{"address", st.getColumn(0).getString()},
                           {"where", "internet"},
                           {"devices", st.getColumn(1).getInt64()},
                           {"flows", st.getColumn(2).getInt64()},
                           {"handed_out_by", nullptr}});
    }
    for (const auto& d : dhcp)
        for (const auto& server : d["offered_dns"]) {
            auto ip = IpAddress::parse(server.get<std::string>());
            bool lan = ip && is_internal(*ip, config);
            dns.push_back({{"address", server},
                           {"where", lan ? "lan" : "internet"},
                           {"devices", nullptr},
                           {"flows", nullptr},
                           {"handed_out_by", d["address"]}});
        }

    // Switches and access points: devices that announced themselves (LLDP, CDP), sent STP
    // BPDUs, or that the register calls one.
    auto switches = nlohmann::json::array();
    SQLite::Statement st(db,
                         "SELECT mac, names, evidence, os_version FROM assets WHERE last_seen >= ? "
                         "ORDER BY first_seen, mac");
    st.bind(1, static_cast<std::int64_t>(since));
    while (st.executeStep()) {
        std::string mac = st.getColumn(0).getString();
        auto names = nlohmann::json::parse(st.getColumn(1).getString(), nullptr, false);
        auto evidence = nlohmann::json::parse(st.getColumn(2).getString(), nullptr, false);
        std::string os_version = st.getColumn(3).getString();
        std::string name, model, port, source;
        if (names.is_array())
            for (const auto& n : names)
                if (n.is_object() &&
                    (n.value("source", "") == "lldp" || n.value("source", "") == "cdp")) {
                    name = n.value("value", "");
                    source = n.value("source", "");
                }
        if (evidence.is_array())
            for (const auto& e : evidence) {
                if (!e.is_object()) continue;
                std::string v = e.value("value", "");
                if (v.rfind("platform=", 0) == 0) model = v.substr(9), source = "cdp";
                if (v.rfind("sysdesc=", 0) == 0 && model.empty())
                    model = v.substr(8), source = "lldp";
                if (v.rfind("port=", 0) == 0) port = v.substr(5);
            }
        if (source.empty() && os_version.find("STP") != std::string::npos) source = "stp";
        const nlohmann::json* asset = by_mac.count(mac) ? by_mac[mac] : nullptr;
        std::string role;
        if (asset && asset->at("raw").at("role").is_string()) role = asset->at("raw").at("role");
        if (source.empty() && (role == "switch" || role == "wifi-ap")) source = "register";
        if (source.empty()) continue;
        if (name.empty() && asset) name = asset->at("label").get<std::string>();
        switches.push_back(
            {{"mac", mac},
             {"name", or_null(name)},
             {"model", or_null(model)},
             {"port", or_null(port)},
             {"kind", role == "wifi-ap" ? "access-point" : "switch"},
             {"vendor", vendor_of(mac)},
             {"address", asset && !asset->at("addresses").empty() ? asset->at("addresses")[0]
                                                                  : nlohmann::json(nullptr)},
             {"source", source}});
    }

    nlohmann::json out = {{"subnets", subnet_list},
                          {"routers", routers},
                          {"dhcp_servers", dhcp},
                          {"dns_servers", dns},
                          {"switches", switches}};
    // Hooks for the other issues (see the header): the coordinator fills them at merge.
    // IPv6 (issue 20): the routers heard advertising and the prefixes they put on the link.
    auto prefixes6 = nlohmann::json::array(), routers6 = nlohmann::json::array();
    Ipv6Network v6 = load_ipv6_network(db);
    for (const auto& p : v6.prefixes)
        prefixes6.push_back({{"prefix", p.prefix},
                             {"router_mac", or_null(p.router_mac)},
                             {"deprecated", p.deprecated},
                             {"source", p.source}});
    for (const auto& r : v6.routers)
        routers6.push_back({{"address", or_null(r.link_local)},
                            {"mac", r.mac},
                            {"vendor", vendor_of(r.mac)},
                            {"flags", r.flags},
                            {"default_router", r.lifetime_seconds > 0},
                            {"dns_servers", r.dns},
                            {"source", r.source}});
    out["ipv6"] = {{"prefixes", prefixes6}, {"routers", routers6}};
    out["map_svg"] = nullptr;
    out["server_availability"] = nlohmann::json::array();
    return out;
}

}  // namespace clinicwatch
