// The query commands: `assets`, `alerts`, `stats`. They open the database read-only, so they
// work while the daemon writes (WAL).
#include <SQLiteCpp/SQLiteCpp.h>

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <iostream>
#include <nlohmann/json.hpp>

#include "analyzers/findings.hpp"
#include "daemon/cli.hpp"
#include "daemon/output.hpp"
#include "daemon/report/template.hpp"
#include "daemon/store/store.hpp"

namespace clinicwatch {

namespace {

// "[{value, source, ...}]" -> "a, b" (distinct values, in order).
std::string joined_values(const std::string& json_text) {
    std::string out;
    auto list = nlohmann::json::parse(json_text, nullptr, false);
    if (!list.is_array()) return out;
    std::vector<std::string> seen;
    for (const auto& item : list) {
        std::string v = item.value("value", "");
        if (v.empty() || std::find(seen.begin(), seen.end(), v) != seen.end()) continue;
        seen.push_back(v);
        out += (out.empty() ? "" : ", ") + v;
        // An IPv6 address's kind as stored (issue 20): "2409:10:a0:1200::5 (temporary)".
        if (item.contains("kind") && item["kind"].is_string())
            out += " (" + item["kind"].get<std::string>() + ")";
    }
    return out;
}

// "0.97 high": the number and the word the reference's thresholds give it.
std::string confidence_text(double c) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.2f", c);
    return std::string(buf);
}

// "past since 2020-01-14", "ends 2027-01-12", "supported"...
std::string support_text(const std::string& state, const std::string& end) {
    if (state == "past") return "PAST END " + end;
    if (state == "ending-soon") return "ends " + end;
    if (state == "check") return "CHECK (ended " + end + " if the older edition)";
    if (state == "supported") return end.empty() ? "supported" : "to " + end;
    return state;
}

std::string lowered(std::string s) {
    for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return s;
}

// The MACs of the devices an IP address or a name (register name, host name) belongs to.
std::vector<std::string> macs_for(SQLite::Database& db, const std::string& what) {
    std::vector<std::string> out;
    std::string want = lowered(what);
    SQLite::Statement st(db, "SELECT DISTINCT mac, addresses, names, register_name FROM assets");
    while (st.executeStep()) {
        bool match = lowered(st.getColumn(3).getString()) == want;
        for (int col : {1, 2}) {
            auto list = nlohmann::json::parse(st.getColumn(col).getString(), nullptr, false);
            if (!list.is_array()) continue;
            for (const auto& item : list) {
                std::string v = lowered(item.value("value", ""));
                match |= v == want || (v.ends_with(".local") && v.substr(0, v.size() - 6) == want);
            }
        }
        std::string mac = st.getColumn(0).getString();
        if (match && std::find(out.begin(), out.end(), mac) == out.end()) out.push_back(mac);
    }
    return out;
}

int print_os_why(const CommonOptions& common, SQLite::Database& db, const std::string& which) {
    // A MAC is written with ':' or '-' ("192.168.100.110" has twelve digits too).
    bool looks_like_mac = which.size() == 17 && (which[2] == ':' || which[2] == '-');
    auto mac = looks_like_mac ? MacAddress::parse(which) : std::nullopt;
    if (!mac) {
        auto macs = macs_for(db, which);
        if (macs.empty()) {
            std::cerr << "clinicwatch: --why: no device with the MAC, IP address or name '" << which
                      << "' in the database (`clinicwatch assets` lists them)\n";
            return kExitUsage;
        }
        if (macs.size() > 1) {
            std::cerr << "clinicwatch: --why: '" << which << "' matches " << macs.size()
                      << " devices; give one of their MACs:";
            for (const auto& m : macs) std::cerr << " " << m;
            std::cerr << "\n";
            return kExitUsage;
        }
        mac = MacAddress::parse(macs[0]);
    }
    SQLite::Statement st(db,
                         "SELECT vlan, names, addresses, os_family, os_version, os_confidence, "
                         "os_support, os_support_end, os_explanation, evidence FROM assets "
                         "WHERE mac = ? ORDER BY vlan");
    st.bind(1, mac->to_string());
    bool any = false;
    auto all = nlohmann::json::array();
    while (st.executeStep()) {
        any = true;
        auto why = nlohmann::json::parse(st.getColumn(8).getString(), nullptr, false);
        auto evidence = nlohmann::json::parse(st.getColumn(9).getString(), nullptr, false);
        if (common.format == OutputFormat::json) {
            all.push_back({{"mac", mac->to_string()},
                           {"vlan", st.getColumn(0).getInt()},
                           {"os", why},
                           {"evidence", evidence}});
            continue;
        }
        std::cout << mac->to_string() << " (VLAN " << st.getColumn(0).getInt() << ") "
                  << joined_values(st.getColumn(2).getString()) << " "
                  << joined_values(st.getColumn(1).getString()) << "\n";
        std::string os = st.getColumn(3).getString();
        if (os.empty()) {
            std::cout << "  OS: unknown (no evidence a rule understands)\n";
        } else {
            std::cout << "  OS: " << os << " " << st.getColumn(4).getString() << ", confidence "
                      << confidence_text(st.getColumn(5).getDouble()) << " ("
                      << why.value("level", "") << ")";
            if (!why.value("role", std::string()).empty())
                std::cout << ", role " << why.value("role", "");
            std::cout << "\n";
            auto support = why.value("support", nlohmann::json::object());
            std::cout << "  End of support: " << support.value("state", "unknown");
            if (support.contains("end"))
                std::cout << " (" << support["end"].get<std::string>() << ")";
            if (support.contains("days_past"))
                std::cout << ", " << support["days_past"] << " days ago";
            if (support.contains("days_left"))
                std::cout << ", in " << support["days_left"] << " days";
            std::cout << "\n";
            for (const char* k : {"extended_note", "note", "source"})
                if (support.contains(k))
                    std::cout << "    " << k << ": " << support[k].get<std::string>() << "\n";
            for (const char* section : {"evidence", "conflicts"}) {
                auto list = why.value(section, nlohmann::json::array());
                if (list.empty()) continue;
                std::cout << "  "
                          << (std::string(section) == "evidence"
                                  ? "Evidence for it:"
                                  : "Conflicting evidence (lowered the confidence):")
                          << "\n";
                for (const auto& e : list) {
                    char w[16];
                    std::snprintf(w, sizeof w, "%.2f", e.value("weight", 0.0));
                    std::cout << "    [" << e.value("source", "") << "] " << e.value("value", "")
                              << "\n        -> " << e.value("says", "") << " (rule "
                              << e.value("rule", "") << ", weight " << w << ")\n";
                }
            }
        }
        std::cout << "  All evidence seen:\n";
        if (evidence.is_array())
            for (const auto& e : evidence)
                std::cout << "    [" << e.value("source", "") << "] " << e.value("value", "")
                          << "  (last " << format_time(e.value("last_seen", std::int64_t{0}))
                          << ")\n";
    }
    if (!any) {
        std::cerr << "clinicwatch: no asset with MAC " << mac->to_string() << " in the database\n";
        return kExitUsage;
    }
    if (common.format == OutputFormat::json) std::cout << all.dump(2) << '\n';
    return kExitOk;
}

}  // namespace

int command_assets(const CommonOptions& common, const AssetsOptions& options) {
    Config config = resolve_config(common);
    auto db = open_for_reading(resolve_db_path(common, config));
    if (!options.why.empty()) return print_os_why(common, *db, options.why);
    // Columns by index: 0 mac, 1 vlan, 2 vendor, 3 randomized_mac, 4 addresses, 5 names,
    // 6 os_family, 7 os_version, 8 os_confidence, 9 first_seen, 10 last_seen, 11 frames,
    // 12 bytes, 13 services, 14 evidence, 15 registered, 16 register_name, 17 role,
    // 18 responsible, 19 os_support, 20 os_support_end.
    std::string sql =
        "SELECT mac, vlan, vendor, randomized_mac, addresses, names, os_family, os_version, "
        "os_confidence, first_seen, last_seen, frames, bytes, services, evidence, registered, "
        "register_name, role, responsible, os_support, os_support_end FROM assets WHERE 1";
    if (!options.vendor.empty()) sql += " AND vendor LIKE '%' || :vendor || '%'";
    if (!options.role.empty()) sql += " AND role = :role";
    if (options.unregistered) sql += " AND registered = 0";
    sql += " ORDER BY first_seen, mac";
    SQLite::Statement st(*db, sql);
    if (!options.vendor.empty()) st.bind(":vendor", options.vendor);
    if (!options.role.empty()) st.bind(":role", options.role);
    Table table{{"MAC", "VLAN", "VENDOR", "NAME", "ROLE", "REGISTERED", "ADDRESSES", "NAMES SEEN",
                 "OS", "CONF", "SUPPORT", "FIRST SEEN", "LAST SEEN", "FRAMES"},
                {}};
    auto json = nlohmann::json::array();
    while (st.executeStep()) {
        std::string mac = st.getColumn(0).getString();
        std::string vendor = st.getColumn(2).getString();
        bool randomized = st.getColumn(3).getInt() != 0;
        std::string os = st.getColumn(6).getString();
        if (!st.getColumn(7).getString().empty()) os += " " + st.getColumn(7).getString();
        bool registered = st.getColumn(15).getInt() != 0;
        table.rows.push_back(
            {mac, std::to_string(st.getColumn(1).getInt()),
             randomized && vendor.empty() ? "(randomised MAC)" : vendor,
             st.getColumn(16).getString(), st.getColumn(17).getString(), registered ? "yes" : "no",
             joined_values(st.getColumn(4).getString()), joined_values(st.getColumn(5).getString()),
             os, os.empty() ? "" : confidence_text(st.getColumn(8).getDouble()),
             support_text(st.getColumn(19).getString(), st.getColumn(20).getString()),
             format_time(st.getColumn(9).getInt64()), format_time(st.getColumn(10).getInt64()),
             std::to_string(st.getColumn(11).getInt64())});
        json.push_back({
            {"mac", mac},
            {"vlan", st.getColumn(1).getInt()},
            {"vendor", vendor},
            {"randomized_mac", randomized},
            {"registered", registered},
            {"register_name", st.getColumn(16).getString()},
            {"role", st.getColumn(17).getString()},
            {"responsible", st.getColumn(18).getString()},
            {"addresses", nlohmann::json::parse(st.getColumn(4).getString(), nullptr, false)},
            {"names", nlohmann::json::parse(st.getColumn(5).getString(), nullptr, false)},
            {"os_family", st.getColumn(6).getString()},
            {"os_version", st.getColumn(7).getString()},
            {"os_confidence", st.getColumn(8).getDouble()},
            {"os_support", st.getColumn(19).getString()},
            {"os_support_end", st.getColumn(20).getString()},
            {"first_seen", format_time_iso(st.getColumn(9).getInt64())},
            {"last_seen", format_time_iso(st.getColumn(10).getInt64())},
            {"frames", st.getColumn(11).getInt64()},
            {"bytes", st.getColumn(12).getInt64()},
            {"services", nlohmann::json::parse(st.getColumn(13).getString(), nullptr, false)},
            {"evidence", nlohmann::json::parse(st.getColumn(14).getString(), nullptr, false)},
        });
    }
    emit(common, table, json);
    return kExitOk;
}

int command_alerts(const CommonOptions& common, const AlertsOptions& options) {
    Config config = resolve_config(common);
    auto db = open_for_reading(resolve_db_path(common, config));
    int min_severity = 0;
    if (!options.min_severity.empty()) {
        auto s = parse_severity(options.min_severity);
        if (!s) {
            std::cerr << "clinicwatch: --severity must be one of info, low, medium, high, "
                         "critical; got '"
                      << options.min_severity << "'\n";
            return kExitUsage;
        }
        min_severity = static_cast<int>(*s);
    }
    if (!options.kind.empty()) {
        auto kinds = known_alert_kinds(config);
        SQLite::Statement stored(*db, "SELECT DISTINCT kind FROM alerts");
        while (stored.executeStep())
            if (std::find(kinds.begin(), kinds.end(), stored.getColumn(0).getString()) ==
                kinds.end())
                kinds.push_back(stored.getColumn(0).getString());
        if (std::find(kinds.begin(), kinds.end(), options.kind) == kinds.end()) {
            std::sort(kinds.begin(), kinds.end());
            std::cerr << "clinicwatch: --kind: no alert kind '" << options.kind
                      << "'; the kinds are:";
            for (const auto& k : kinds) std::cerr << " " << k;
            std::cerr << "\n";
            return kExitUsage;
        }
    }
    std::string sql =
        "SELECT id, kind, severity, subject_mac, subject, summary, first_seen, last_seen, count, "
        "status, ended_at, evidence FROM alerts WHERE severity >= ?";
    if (!options.include_resolved) sql += " AND status != 'resolved'";
    if (!options.kind.empty()) sql += " AND kind = ?";
    sql += " ORDER BY first_seen, id";
    SQLite::Statement st(*db, sql);
    st.bind(1, min_severity);
    if (!options.kind.empty()) st.bind(2, options.kind);
    Table table{{"ID", "SEVERITY", "KIND", "SUBJECT", "FIRST SEEN", "LAST SEEN", "COUNT", "STATUS",
                 "SUMMARY"},
                {}};
    auto json = nlohmann::json::array();
    while (st.executeStep()) {
        auto severity = to_string(static_cast<Severity>(st.getColumn(2).getInt()));
        std::string status = st.getColumn(9).getString();
        if (!st.getColumn(10).isNull() && status == "open") status = "open (ended)";
        table.rows.push_back(
            {std::to_string(st.getColumn(0).getInt64()), std::string(severity),
             st.getColumn(1).getString(), st.getColumn(4).getString(),
             format_time(st.getColumn(6).getInt64()), format_time(st.getColumn(7).getInt64()),
             std::to_string(st.getColumn(8).getInt64()), status, st.getColumn(5).getString()});
        nlohmann::json j = {
            {"id", st.getColumn(0).getInt64()},
            {"kind", st.getColumn(1).getString()},
            {"severity", severity},
            {"subject_mac", st.getColumn(3).isNull() ? nlohmann::json()
                                                     : nlohmann::json(st.getColumn(3).getString())},
            {"subject", st.getColumn(4).getString()},
            {"summary", st.getColumn(5).getString()},
            {"first_seen", format_time_iso(st.getColumn(6).getInt64())},
            {"last_seen", format_time_iso(st.getColumn(7).getInt64())},
            {"count", st.getColumn(8).getInt64()},
            {"status", st.getColumn(9).getString()},
            {"ended_at", st.getColumn(10).isNull()
                             ? nlohmann::json()
                             : nlohmann::json(format_time_iso(st.getColumn(10).getInt64()))},
            {"evidence", nlohmann::json::parse(st.getColumn(11).getString(), nullptr, false)},
        };
        json.push_back(std::move(j));
    }
    emit(common, table, json);
    return kExitOk;
}

int command_stats(const CommonOptions& common, const StatsOptions& options) {
    Config config = resolve_config(common);
    auto db = open_for_reading(resolve_db_path(common, config));
    Timestamp since = 0, until = INT64_MAX;
    if (!parse_time_option("--since", options.since, since) ||
        !parse_time_option("--until", options.until, until))
        return kExitUsage;
    SQLite::Statement st(*db,
                         "SELECT minute, frames, bytes, broadcast_frames, multicast_frames, "
                         "undecodable_frames, capture_drops, ring_drops, active_hosts FROM "
                         "minute_stats WHERE minute >= ? AND minute < ? ORDER BY minute");
    st.bind(1, static_cast<std::int64_t>(since));
    st.bind(2, static_cast<std::int64_t>(until));
    Table table{{"MINUTE", "FRAMES", "BYTES", "BROADCAST", "MULTICAST", "UNDECODABLE",
                 "CAPTURE DROPS", "RING DROPS", "ACTIVE HOSTS"},
                {}};
    auto json = nlohmann::json::array();
    while (st.executeStep()) {
        std::vector<std::string> row{format_time(st.getColumn(0).getInt64())};
        for (int i = 1; i <= 8; ++i) row.push_back(std::to_string(st.getColumn(i).getInt64()));
        table.rows.push_back(row);
        json.push_back({{"minute", format_time_iso(st.getColumn(0).getInt64())},
                        {"frames", st.getColumn(1).getInt64()},
                        {"bytes", st.getColumn(2).getInt64()},
                        {"broadcast_frames", st.getColumn(3).getInt64()},
                        {"multicast_frames", st.getColumn(4).getInt64()},
                        {"undecodable_frames", st.getColumn(5).getInt64()},
                        {"capture_drops", st.getColumn(6).getInt64()},
                        {"ring_drops", st.getColumn(7).getInt64()},
                        {"active_hosts", st.getColumn(8).getInt64()}});
    }
    if (json.empty()) {
        // Say what the database does hold, so a wrong --since is seen at once.
        SQLite::Statement range(*db, "SELECT min(minute), max(minute) FROM minute_stats");
        if (range.executeStep() && !range.getColumn(0).isNull())
            std::cerr << "clinicwatch: no minute statistics in that range; the database holds "
                      << format_time(range.getColumn(0).getInt64()) << " to "
                      << format_time(range.getColumn(1).getInt64() + 59 * kMicrosPerSecond) << "\n";
        else
            std::cerr << "clinicwatch: the database holds no minute statistics yet\n";
    }
    emit(common, table, json);
    return kExitOk;
}

std::vector<std::string> known_alert_kinds(const Config& config) {
    std::vector<std::string> out;
    auto messages = load_messages(templates_dir(config), "en");
    const auto kinds = messages.value("kinds", nlohmann::json::object());
    for (const auto& [kind, _] : kinds.items()) out.push_back(kind);
    return out;
}

void emit(const CommonOptions& common, const Table& table, const nlohmann::json& json) {
    switch (common.format) {
        case OutputFormat::json:
            std::cout << json.dump(2) << '\n';
            break;
        case OutputFormat::csv:
            print_csv(std::cout, table);
            break;
        case OutputFormat::table:
            print_table(std::cout, table);
            break;
    }
}

}  // namespace clinicwatch
