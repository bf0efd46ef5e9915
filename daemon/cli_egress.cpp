// `clinicwatch egress`: per asset, the peers across the internet boundary with names, ports,
// bytes, first/last seen and the policy verdict, summed over the days asked for.
#include <SQLiteCpp/SQLiteCpp.h>

#include <iostream>
#include <nlohmann/json.hpp>

#include "daemon/cli.hpp"
#include "daemon/output.hpp"
#include "daemon/store/store.hpp"

namespace clinicwatch {

namespace {

std::string protocol_text(int p) {
    switch (p) {
        case 6:
            return "tcp";
        case 17:
            return "udp";
        case 1:
            return "icmp";
        case 50:
            return "esp";
        case 47:
            return "gre";
        case 58:
            return "icmpv6";
        default:
            return "ip-" + std::to_string(p);
    }
}

}  // namespace

int command_egress(const CommonOptions& common, const EgressOptions& options) {
    Config config = resolve_config(common);
    auto db = open_for_reading(resolve_db_path(common, config));
    if (Store::schema_version(*db) < 3) {
        std::cerr << "clinicwatch: this database has no boundary flows yet (written by an older "
                     "clinicwatch); replay or run again to fill it\n";
        return kExitOk;
    }
    Timestamp since = 0;
    if (!parse_time_option("--since", options.since, since)) return kExitUsage;
    std::string mac_filter;
    if (!options.asset.empty()) {
        auto mac = MacAddress::parse(options.asset);
        if (!mac) {
            std::cerr << "clinicwatch: --asset '" << options.asset
                      << "' is not a MAC address like 98:e7:43:0c:55:21\n";
            return kExitUsage;
        }
        mac_filter = mac->to_string();
    }
    std::string sql = R"sql(
        SELECT mac, direction, name, address, port, protocol, max(application), max(verdict),
               sum(flows), sum(packets), sum(bytes_out), sum(bytes_in), min(first_seen),
               max(last_seen), group_concat(DISTINCT name_source)
        FROM boundary_flows WHERE last_seen >= ?)sql";
    if (!mac_filter.empty()) sql += " AND mac = ?";
    sql += " GROUP BY mac, direction, name, address, port, protocol ORDER BY mac, min(first_seen)";
    SQLite::Statement st(*db, sql);
    st.bind(1, static_cast<std::int64_t>(since));
    if (!mac_filter.empty()) st.bind(2, mac_filter);
    Table table{{"ASSET", "DIRECTION", "NAME", "ADDRESS", "PORT", "BYTES OUT", "BYTES IN",
                 "FIRST SEEN", "LAST SEEN", "VERDICT", "APPLICATION"},
                {}};
    auto json = nlohmann::json::array();
    while (st.executeStep()) {
        std::string port = protocol_text(st.getColumn(5).getInt());
        if (st.getColumn(4).getInt() != 0 || st.getColumn(5).getInt() == 6 ||
            st.getColumn(5).getInt() == 17)
            port += "/" + std::to_string(st.getColumn(4).getInt());
        std::string name = st.getColumn(2).getString();
        table.rows.push_back(
            {st.getColumn(0).getString(), st.getColumn(1).getString(), name.empty() ? "-" : name,
             st.getColumn(3).getString(), port, std::to_string(st.getColumn(10).getInt64()),
             std::to_string(st.getColumn(11).getInt64()), format_time(st.getColumn(12).getInt64()),
             format_time(st.getColumn(13).getInt64()), st.getColumn(7).getString(),
             st.getColumn(6).getString()});
        json.push_back(
            {{"mac", st.getColumn(0).getString()},
             {"direction", st.getColumn(1).getString()},
             {"name", name},
             {"name_source", st.getColumn(14).isNull() ? "" : st.getColumn(14).getString()},
             {"address", st.getColumn(3).getString()},
             {"port", st.getColumn(4).getInt()},
             {"protocol", protocol_text(st.getColumn(5).getInt())},
             {"application", st.getColumn(6).getString()},
             {"verdict", st.getColumn(7).getString()},
             {"flows", st.getColumn(8).getInt64()},
             {"packets", st.getColumn(9).getInt64()},
             {"bytes_out", st.getColumn(10).getInt64()},
             {"bytes_in", st.getColumn(11).getInt64()},
             {"first_seen", format_time_iso(st.getColumn(12).getInt64())},
             {"last_seen", format_time_iso(st.getColumn(13).getInt64())}});
    }
    if (json.empty() && since != 0) {
        // Say what the database does hold, so a wrong --since is seen at once.
        SQLite::Statement range(*db, "SELECT min(first_seen), max(last_seen) FROM boundary_flows");
        if (range.executeStep() && !range.getColumn(0).isNull())
            std::cerr << "clinicwatch: no internet traffic recorded since " << format_time(since)
                      << "; the database holds " << format_time(range.getColumn(0).getInt64())
                      << " to " << format_time(range.getColumn(1).getInt64()) << "\n";
    }
    emit(common, table, json);
    return kExitOk;
}

}  // namespace clinicwatch
