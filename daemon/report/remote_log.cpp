#include "daemon/report/remote_log.hpp"

#include <SQLiteCpp/SQLiteCpp.h>

#include <algorithm>
#include <set>

#include "daemon/egress_rules.hpp"

namespace clinicwatch {

namespace {

std::string protocol_text(int protocol) {
    return protocol == 6 ? "tcp" : protocol == 17 ? "udp" : std::to_string(protocol);
}

// allowed by the egress policy of the device's role: yes, no, or no policy for it (null).
nlohmann::json allowed_of(const std::string& verdict) {
    if (verdict == "allowed") return true;
    if (verdict == "denied" || verdict == "inbound" || verdict == "refused") return false;
    return nullptr;
}

}  // namespace

nlohmann::json remote_maintenance_log(SQLite::Database& db, const Config& config,
                                      const std::map<std::string, nlohmann::json>& devices,
                                      const nlohmann::json& alerts, Timestamp since) {
    // The tools' names as the rules give them (the egress analyzer stores them per flow).
    std::set<std::string> tools;
    try {
        for (const auto& t : load_egress_rules(resolve_rules_dir(config.egress.rules_dir)).tools)
            tools.insert(t.name);
    } catch (const std::exception&) {
        // Rules unreadable: the alerts below still name the sessions they saw.
    }
    auto rows = nlohmann::json::array();
    auto label_of = [&](const std::string& mac) -> std::string {
        auto it = devices.find(mac);
        return it == devices.end() ? mac : it->second["label"].get<std::string>();
    };
    auto add = [&](const std::string& mac, const std::string& tool, const std::string& direction,
                   const std::string& address, const std::string& name, int port,
                   const std::string& protocol, Timestamp start, Timestamp end,
                   nlohmann::json bytes, std::int64_t sessions, const std::string& verdict,
                   const std::string& scope) {
        rows.push_back(
            {{"mac", mac},
             {"device", label_of(mac)},
             {"tool", tool},
             {"direction", direction},
             {"scope", scope},
             {"remote_address", address},
             {"remote_name", name.empty() ? nlohmann::json(nullptr) : nlohmann::json(name)},
             {"port", port},
             {"protocol", protocol},
             {"start_us", start},
             {"end_us", end},
             {"duration_seconds", (end - start) / kMicrosPerSecond},
             {"bytes", std::move(bytes)},
             {"sessions", sessions},
             {"verdict", verdict},
             {"allowed", allowed_of(verdict)}});
    };

    std::set<std::string> covered;  // mac|address|port of flows already listed
    bool has_flows =
        db.execAndGet("SELECT count(*) FROM sqlite_master WHERE name = 'boundary_flows'").getInt() >
        0;
    // Sessions on a tool's port or name found by the egress analyzer (application = the tool),
    // and flows a remote-access handshake alert points at (any port).
    std::set<std::string> handshake_keys;
    for (const auto& a : alerts)
        if (a["kind"] == "remote-access" && a["evidence"].value("scope", "") == "boundary") {
            const auto& e = a["evidence"];
            std::string inside_mac = a["device"]["mac"];
            bool inbound = e.value("server_mac", "") == inside_mac;
            std::string outside = inbound ? e.value("client_ip", "") : e.value("server_ip", "");
            handshake_keys.insert(inside_mac + "|" + outside + "|" +
                                  std::to_string(e.value("port", 0)));
        }
    if (has_flows) {
        SQLite::Statement st(db, R"sql(
            SELECT mac, direction, address, name, port, protocol, application, verdict,
                   sum(flows), sum(bytes_out + bytes_in), min(first_seen), max(last_seen)
            FROM boundary_flows WHERE last_seen >= ?
            GROUP BY mac, day, direction, address, name, port, protocol
            ORDER BY min(first_seen))sql");
        st.bind(1, static_cast<std::int64_t>(since));
        while (st.executeStep()) {
            std::string mac = st.getColumn(0).getString();
            std::string address = st.getColumn(2).getString();
            int port = st.getColumn(4).getInt();
            std::string application = st.getColumn(6).getString();
            std::string key = mac + "|" + address + "|" + std::to_string(port);
            if (!tools.count(application) && !handshake_keys.count(key)) continue;
            covered.insert(key);
            std::string tool = application;
            if (!tools.count(tool))
                for (const auto& a : alerts)
                    if (a["kind"] == "remote-access" && a["device"]["mac"] == mac)
                        tool = a["evidence"].value("tool", tool);
            add(mac, tool, st.getColumn(1).getString(), address, st.getColumn(3).getString(), port,
                protocol_text(st.getColumn(5).getInt()), st.getColumn(10).getInt64(),
                st.getColumn(11).getInt64(), st.getColumn(9).getInt64(), st.getColumn(8).getInt64(),
                st.getColumn(7).getString(), "boundary");
        }
    }
    // LAN sessions (and boundary ones without a stored flow): the alerts are the record.
    for (const auto& a : alerts) {
        if (a["kind"] != "remote-access") continue;
        const auto& e = a["evidence"];
        std::string scope = e.value("scope", "");
        std::string mac = a["device"]["mac"];
        bool inbound = e.value("server_mac", "") == mac;
        std::string peer = inbound ? e.value("client_ip", "") : e.value("server_ip", "");
        int port = e.value("port", 0);
        if (scope != "lan" && covered.count(mac + "|" + peer + "|" + std::to_string(port)))
            continue;
        if (scope != "lan" && scope != "boundary") continue;
        add(mac, e.value("tool", ""), inbound ? "inbound" : "egress", peer, "", port,
            e.value("protocol", "tcp"), a["first_seen_us"], a["last_seen_us"], nullptr,
            a["count"].get<std::int64_t>(), scope == "lan" ? "lan" : "", scope);
    }
    std::stable_sort(rows.begin(), rows.end(), [](const auto& x, const auto& y) {
        return x["start_us"].template get<Timestamp>() < y["start_us"].template get<Timestamp>();
    });
    return rows;
}

}  // namespace clinicwatch
