#include "daemon/report/network_summary.hpp"

#include <SQLiteCpp/SQLiteCpp.h>

#include <algorithm>
#include <ctime>
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
struct TopologyRow {
    std::string key;
    nlohmann::json attributes;
    Timestamp first_seen = 0, last_seen = 0;
};

// The local day of a packet time, as the analyzers key their per-day counts.
std::string day_text(Timestamp ts) {
    std::time_t secs = static_cast<std::time_t>(ts / kMicrosPerSecond);
    std::tm tm{};
    localtime_r(&secs, &tm);
    char buf[16];
    std::strftime(buf, sizeof buf, "%Y-%m-%d", &tm);
    return buf;
}

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

    // What the topology unit learned (issue 18): DHCP servers with their offers, the DNS
    // servers the devices asked, the equipment that announced itself. None from a database
    // older than the topology table.
    std::vector<TopologyRow> dhcp_rows, dns_rows, announced_rows, bridge_rows;
    if (db.execAndGet("SELECT count(*) FROM sqlite_master WHERE name = 'topology'").getInt() > 0) {
        SQLite::Statement st(db, R"sql(
            SELECT kind, key, attributes, first_seen, last_seen FROM topology
            WHERE kind IN ('dhcp-server', 'dns-server', 'announced', 'bridge') AND last_seen >= ?
            ORDER BY first_seen, key)sql");
        st.bind(1, static_cast<std::int64_t>(since));
        while (st.executeStep()) {
            TopologyRow row{st.getColumn(1).getString(),
                            nlohmann::json::parse(st.getColumn(2).getString(), nullptr, false),
                            st.getColumn(3).getInt64(), st.getColumn(4).getInt64()};
            if (!row.attributes.is_object()) continue;
            std::string kind = st.getColumn(0).getString();
            (kind == "dhcp-server"  ? dhcp_rows
             : kind == "dns-server" ? dns_rows
             : kind == "announced"  ? announced_rows
                                    : bridge_rows)
                .push_back(std::move(row));
        }
    }
    const std::string since_day = since > 0 ? day_text(since) : "";
    auto count_days = [&](const nlohmann::json& by_day) -> std::int64_t {
        std::int64_t n = 0;
        if (by_day.is_object())
            for (const auto& [day, count] : by_day.items())
                if (day >= since_day && count.is_number_integer()) n += count.get<std::int64_t>();
        return n;
    };
    auto strings = [](const nlohmann::json& v) {
        auto out = nlohmann::json::array();
        if (v.is_array())
            for (const auto& x : v)
                if (x.is_string()) out.push_back(x);
        return out;
    };

    // DHCP servers: every server seen answering, approved (configured, else the gateway) or
    // not, with its offers; approved servers not seen answering; and servers the rogue-dhcp
    // alerts name that the topology did not keep.
    auto dhcp = nlohmann::json::array();
    std::vector<IpAddress> approved = config.inventory.dhcp_servers;
    if (approved.empty() && config.network.gateway_ip)
        approved.push_back(*config.network.gateway_ip);
    auto is_approved_ip = [&](const std::string& text) {
        for (const auto& ip : approved)
            if (ip.to_string() == text) return true;
        return false;
    };
    std::map<std::string, const nlohmann::json*> rogue_alerts;  // server MAC -> alert
    for (const auto& a : alerts)
        if (a["kind"] == "rogue-dhcp")
            rogue_alerts.emplace(a["evidence"].value("server_mac", ""), &a);
    std::set<std::string> listed_macs, listed_ips;
    for (const auto& row : dhcp_rows) {
        const auto& at = row.attributes;
        std::string ip = at.value("server_ip", "");
        // A server on an approved address is still not approved when it is the one the
        // rogue-dhcp alert names (another device claiming the router's address).
        bool ok = is_approved_ip(ip) && !rogue_alerts.count(row.key);
        std::int64_t offers = count_days(at.value("offers_by_day", nlohmann::json::object()));
        if (offers == 0 && rogue_alerts.count(row.key))
            offers = rogue_alerts[row.key]->at("count").get<std::int64_t>();
        dhcp.push_back({{"address", or_null(ip)},
                        {"mac", row.key},
                        {"vendor", vendor_of(row.key)},
                        {"approved", ok},
                        {"offers", offers},
                        {"offered_routers", strings(at.value("routers", nlohmann::json()))},
                        {"offered_dns", strings(at.value("dns_servers", nlohmann::json()))},
                        {"first_seen_us", row.first_seen},
                        {"last_seen_us", row.last_seen}});
        listed_macs.insert(row.key);
        listed_ips.insert(ip);
    }
    for (const auto& [mac, alert] : rogue_alerts) {
        if (listed_macs.count(mac)) continue;
        const auto& a = *alert;
        const auto& e = a["evidence"];
        dhcp.push_back({{"address", e.value("server_ip", a["subject"].get<std::string>())},
                        {"mac", or_null(mac)},
                        {"vendor", mac.empty() ? nlohmann::json(nullptr) : vendor_of(mac)},
                        {"approved", false},
                        {"offers", a["count"]},
                        {"offered_routers", e.value("router_option", nlohmann::json::array())},
                        {"offered_dns", e.value("dns_option", nlohmann::json::array())},
                        {"first_seen_us", a["first_seen_us"]},
                        {"last_seen_us", a["last_seen_us"]}});
    }
    for (const auto& ip : approved) {
        std::string text = ip.to_string();
        if (listed_ips.count(text)) continue;
        std::string mac;
        // The gateway's configured MAC first: another device may have claimed its address.
        if (config.network.gateway_ip && *config.network.gateway_ip == ip &&
            config.network.gateway_mac)
            mac = config.network.gateway_mac->to_string();
        if (mac.empty() && by_ip.count(text)) mac = by_ip[text]->at("mac").get<std::string>();
        // Approved but not seen answering in the period: offers null.
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

    // DNS servers the devices asked (on the LAN, such as the router's forwarder, or on the
    // internet), and the ones DHCP servers handed out; with who handed each out.
    auto dns = nlohmann::json::array();
    auto handed_out_by = [&](const std::string& address) {
        auto by = nlohmann::json::array();
        for (const auto& d : dhcp)
            for (const auto& server : d["offered_dns"])
                if (server == address && d["address"].is_string() &&
                    std::find(by.begin(), by.end(), d["address"]) == by.end())
                    by.push_back(d["address"]);
        return by;
    };
    std::set<std::string> dns_listed;
    for (const auto& row : dns_rows) {
        const auto& at = row.attributes;
        std::string address = at.value("address", row.key);
        std::string mac = at.value("mac", "");
        bool lan = at.value("lan", false);
        const nlohmann::json* asset = nullptr;
        if (!mac.empty() && by_mac.count(mac)) asset = by_mac[mac];
        if (!asset && by_ip.count(address)) asset = by_ip[address];
        dns.push_back({{"address", address},
                       {"where", lan ? "lan" : "internet"},
                       {"mac", or_null(mac)},
                       {"device", asset ? asset->at("label") : nlohmann::json(nullptr)},
                       {"devices", at.value("clients", 0)},
                       {"queries", count_days(at.value("queries_by_day", nlohmann::json()))},
                       {"handed_out_by", handed_out_by(address)}});
        dns_listed.insert(address);
    }
    // Databases without the topology's DNS servers: resolvers on the internet asked directly.
    bool has_flows =
        db.execAndGet("SELECT count(*) FROM sqlite_master WHERE name = 'boundary_flows'").getInt() >
        0;
    if (has_flows && dns_rows.empty()) {
        SQLite::Statement st(db, R"sql(
            SELECT address, count(DISTINCT mac) FROM boundary_flows
            WHERE port = 53 AND direction = 'egress' AND last_seen >= ?
            GROUP BY address ORDER BY 2 DESC)sql");
        st.bind(1, static_cast<std::int64_t>(since));
        while (st.executeStep()) {
            std::string address = st.getColumn(0).getString();
            if (!dns_listed.insert(address).second) continue;
            dns.push_back({{"address", address},
                           {"where", "internet"},
                           {"mac", nullptr},
                           {"device", nullptr},
                           {"devices", st.getColumn(1).getInt64()},
                           {"queries", nullptr},
                           {"handed_out_by", handed_out_by(address)}});
        }
    }
    for (const auto& d : dhcp)
        for (const auto& server : d["offered_dns"]) {
            std::string address = server.get<std::string>();
            if (!dns_listed.insert(address).second) continue;
            auto ip = IpAddress::parse(address);
            bool lan = ip && is_internal(*ip, config);
            const nlohmann::json* asset = by_ip.count(address) ? by_ip[address] : nullptr;
            dns.push_back({{"address", address},
                           {"where", lan ? "lan" : "internet"},
                           {"mac", asset ? asset->at("mac") : nlohmann::json(nullptr)},
                           {"device", asset ? asset->at("label") : nlohmann::json(nullptr)},
                           {"devices", nullptr},  // handed out, not seen asked
                           {"queries", nullptr},
                           {"handed_out_by", handed_out_by(address)}});
        }

    // Switches and access points: what they announced (LLDP, CDP: name, model, the port the
    // frame left from), bridges by their BPDUs, devices the register calls one.
    auto switches = nlohmann::json::array();
    std::set<std::string> switch_macs;
    auto first_or_null = [](const nlohmann::json& list) {
        return list.is_array() && !list.empty() && list[0].is_string() ? list[0]
                                                                       : nlohmann::json(nullptr);
    };
    for (const auto& row : announced_rows) {
        const auto& at = row.attributes;
        std::string role = at.value("role", "");
        if (role != "switch" && role != "access-point") continue;
        if (!switch_macs.insert(row.key).second) continue;
        std::string model = at.value("platform", "");
        if (model.empty()) model = at.value("description", "");
        // CDP platforms read "cisco AIR-AP1815I-Q-K9": the maker is in its own column.
        if (model.rfind("cisco ", 0) == 0) model = model.substr(6);
        const nlohmann::json* asset = by_mac.count(row.key) ? by_mac[row.key] : nullptr;
        std::string name = at.value("name", "");
        if (name.empty() && asset) name = asset->at("label").get<std::string>();
        auto addresses = at.value("addresses", nlohmann::json::array());
        nlohmann::json address = first_or_null(addresses);
        if (address.is_null() && asset && !asset->at("addresses").empty())
            address = asset->at("addresses")[0];
        switches.push_back(
            {{"mac", row.key},
             {"name", or_null(name)},
             {"model", or_null(model)},
             {"port", first_or_null(at.value("ports", nlohmann::json()))},
             {"port_description", first_or_null(at.value("port_descriptions", nlohmann::json()))},
             {"kind", role},
             {"vendor", vendor_of(row.key)},
             {"address", address},
             {"source", at.value("platform", "").empty() ? "lldp" : "cdp"}});
    }
    for (const auto& row : bridge_rows) {
        std::string mac = row.attributes.value("mac", "");
        if (mac.empty() || !switch_macs.insert(mac).second) continue;
        const nlohmann::json* asset = by_mac.count(mac) ? by_mac[mac] : nullptr;
        switches.push_back(
            {{"mac", mac},
             {"name", asset ? asset->at("label") : nlohmann::json(nullptr)},
             {"model", nullptr},
             {"port", nullptr},  // a BPDU's port id is no label on the switch
             {"port_description", nullptr},
             {"kind", "switch"},
             {"vendor", vendor_of(mac)},
             {"address", asset && !asset->at("addresses").empty() ? asset->at("addresses")[0]
                                                                  : nlohmann::json(nullptr)},
             {"source", "stp"}});
    }
    // Devices whose own records show it (older databases), or that the register calls one.
    SQLite::Statement st(db,
                         "SELECT mac, names, evidence, os_version FROM assets WHERE last_seen >= ? "
                         "ORDER BY first_seen, mac");
    st.bind(1, static_cast<std::int64_t>(since));
    while (st.executeStep()) {
        std::string mac = st.getColumn(0).getString();
        if (switch_macs.count(mac)) continue;
        auto names = nlohmann::json::parse(st.getColumn(1).getString(), nullptr, false);
        auto evidence = nlohmann::json::parse(st.getColumn(2).getString(), nullptr, false);
        std::string os_version = st.getColumn(3).getString();
        std::string name, model, source;
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
            }
        if (source.empty() && os_version.find("STP") != std::string::npos) source = "stp";
        const nlohmann::json* asset = by_mac.count(mac) ? by_mac[mac] : nullptr;
        std::string role;
        if (asset && asset->at("raw").at("role").is_string()) role = asset->at("raw").at("role");
        if (source.empty() && (role == "switch" || role == "wifi-ap")) source = "register";
        if (source.empty()) continue;
        // A router announcing itself is listed with the routers.
        if (router_macs.count(mac) && role != "switch" && role != "wifi-ap") continue;
        if (name.empty() && asset) name = asset->at("label").get<std::string>();
        switch_macs.insert(mac);
        switches.push_back(
            {{"mac", mac},
             {"name", or_null(name)},
             {"model", or_null(model)},
             {"port", nullptr},
             {"port_description", nullptr},
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
