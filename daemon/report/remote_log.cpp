#include "daemon/report/remote_log.hpp"

#include <SQLiteCpp/SQLiteCpp.h>

namespace clinicwatch {

namespace {

std::string protocol_text(int protocol) {
    return protocol == 6 ? "tcp" : protocol == 17 ? "udp" : std::to_string(protocol);
}

// Allowed by the egress policy of the device's role: yes, no, or no policy judged it (null).
nlohmann::json allowed_of(const std::string& verdict) {
    if (verdict == "allowed") return true;
    if (verdict == "denied" || verdict == "inbound" || verdict == "refused") return false;
    return nullptr;
}

nlohmann::json or_null(const std::string& v) {
    return v.empty() ? nlohmann::json(nullptr) : nlohmann::json(v);
}

}  // namespace

nlohmann::json remote_maintenance_log(SQLite::Database& db,
                                      const std::map<std::string, nlohmann::json>& devices,
                                      Timestamp since, Timestamp until) {
    auto rows = nlohmann::json::array();
    if (db.execAndGet("SELECT count(*) FROM sqlite_master WHERE name = 'remote_sessions'")
            .getInt() == 0)
        return rows;  // a database from before the log was kept
    auto label_of = [&](const std::string& mac) -> std::string {
        auto it = devices.find(mac);
        return it == devices.end() ? mac : it->second["label"].get<std::string>();
    };
    const bool has_flows =
        db.execAndGet("SELECT count(*) FROM sqlite_master WHERE name = 'boundary_flows'").getInt() >
        0;
    // A session found by its handshake on an unusual port: the egress unit judged the same
    // connection's destination (its boundary-flow row); its name, too, when it had one.
    std::unique_ptr<SQLite::Statement> flow_st;
    if (has_flows)
        flow_st = std::make_unique<SQLite::Statement>(db, R"sql(
            SELECT verdict, name FROM boundary_flows
            WHERE mac = ? AND address = ? AND port = ? AND protocol = ?
              AND first_seen <= ? AND last_seen >= ?
            ORDER BY last_seen DESC LIMIT 1)sql");

    SQLite::Statement st(db, R"sql(
        SELECT mac, address, tool, direction, remote_address, remote_mac, remote_name, port,
               protocol, start_time, end_time, bytes_out, bytes_in, packets, verdict,
               recognised_by, ongoing
        FROM remote_sessions WHERE end_time >= ? AND start_time <= ?
        ORDER BY start_time, key)sql");
    st.bind(1, static_cast<std::int64_t>(since));
    st.bind(2, static_cast<std::int64_t>(until));
    while (st.executeStep()) {
        std::string mac = st.getColumn(0).getString();
        std::string direction = st.getColumn(3).getString();
        std::string remote_address = st.getColumn(4).getString();
        std::string remote_mac = st.getColumn(5).getString();
        std::string remote_name = st.getColumn(6).getString();
        int port = st.getColumn(7).getInt(), protocol = st.getColumn(8).getInt();
        Timestamp start = st.getColumn(9).getInt64(), end = st.getColumn(10).getInt64();
        std::string verdict = st.getColumn(14).getString();
        if (direction != "lan" && flow_st && (verdict.empty() || remote_name.empty())) {
            flow_st->bind(1, mac);
            flow_st->bind(2, remote_address);
            flow_st->bind(3, port);
            flow_st->bind(4, protocol);
            flow_st->bind(5, static_cast<std::int64_t>(end));
            flow_st->bind(6, static_cast<std::int64_t>(start));
            if (flow_st->executeStep()) {
                if (verdict.empty()) verdict = flow_st->getColumn(0).getString();
                if (remote_name.empty()) remote_name = flow_st->getColumn(1).getString();
            }
            flow_st->reset();
        }
        std::int64_t out = st.getColumn(11).getInt64(), in = st.getColumn(12).getInt64();
        rows.push_back(
            {{"mac", mac},
             {"device", label_of(mac)},
             {"address", or_null(st.getColumn(1).getString())},
             {"tool", st.getColumn(2).getString()},
             {"direction", direction},
             {"scope", direction == "lan" ? "lan" : "boundary"},
             {"remote_address", remote_address},
             {"remote_mac", or_null(remote_mac)},
             // A LAN party is named by the register or its host name, like any device.
             {"remote_device",
              remote_mac.empty() ? nlohmann::json(nullptr) : nlohmann::json(label_of(remote_mac))},
             {"remote_name", or_null(remote_name)},
             {"port", port},
             {"protocol", protocol_text(protocol)},
             {"start_us", start},
             {"end_us", end},
             {"duration_seconds", (end - start) / kMicrosPerSecond},
             {"bytes", out + in},
             {"bytes_out", out},
             {"bytes_in", in},
             {"packets", st.getColumn(13).getInt64()},
             {"ongoing", st.getColumn(16).getInt() != 0},
             {"recognised_by", st.getColumn(15).getString()},
             {"verdict", or_null(verdict)},
             {"allowed", allowed_of(verdict)}});
    }
    return rows;
}

}  // namespace clinicwatch
