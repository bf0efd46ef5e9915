#include "daemon/report/report.hpp"

#include "daemon/incidents/describe.hpp"

#include <SQLiteCpp/SQLiteCpp.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <limits>
#include <map>
#include <set>
#include <sstream>

#include <spdlog/spdlog.h>
#include <yaml-cpp/yaml.h>
#include "daemon/cli.hpp"
#include "daemon/egress_rules.hpp"
#include "daemon/health/availability_chart.hpp"
#include "daemon/health/health.hpp"
#include "daemon/map/network_map.hpp"
#include "daemon/output.hpp"
#include "daemon/report/export.hpp"
#include "daemon/report/ledger.hpp"
#include "daemon/report/network_summary.hpp"
#include "daemon/report/remote_log.hpp"
#include "daemon/report/report_cli.hpp"
#include "daemon/report/template.hpp"
#include "daemon/store/store.hpp"

namespace clinicwatch {

namespace {

// Loop kinds, shown in the report's loop section.
const std::vector<std::string> kLoopKinds = {"l2-loop", "broadcast-storm", "arp-storm"};

bool contains(const std::vector<std::string>& list, const std::string& v) {
    return std::find(list.begin(), list.end(), v) != list.end();
}

std::string fixed(double v) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.1f", v);
    return buf;
}

// Broadcast frames per minute as an SVG polyline (at most kWidth buckets, the peak of each),
// with loop and storm incidents as bands. Coordinates only: the markup is in the template.
nlohmann::json broadcast_chart(SQLite::Database& db, Timestamp since, const nlohmann::json& alerts,
                               nlohmann::json& health) {
    constexpr int kWidth = 640, kHeight = 160, kLeft = 60, kTop = 10;
    SQLite::Statement st(db,
                         "SELECT minute, frames, broadcast_frames, capture_drops, ring_drops "
                         "FROM minute_stats WHERE minute >= ? ORDER BY minute");
    st.bind(1, static_cast<std::int64_t>(since));
    std::vector<std::pair<Timestamp, std::int64_t>> minutes;
    std::int64_t frames = 0, broadcast = 0, capture_drops = 0, ring_drops = 0, peak = 0;
    Timestamp peak_at = 0;
    while (st.executeStep()) {
        Timestamp m = st.getColumn(0).getInt64();
        std::int64_t b = st.getColumn(2).getInt64();
        minutes.emplace_back(m, b);
        frames += st.getColumn(1).getInt64();
        broadcast += b;
        capture_drops += st.getColumn(3).getInt64();
        ring_drops += st.getColumn(4).getInt64();
        if (b > peak) peak = b, peak_at = m;
    }
    health["minutes"] = minutes.size();
    health["frames"] = frames;
    health["broadcast_frames"] = broadcast;
    health["broadcast_per_minute_avg"] =
        minutes.empty() ? "0" : fixed(static_cast<double>(broadcast) / minutes.size());
    health["broadcast_per_minute_peak"] = peak;
    health["broadcast_peak_at"] = local_minute(peak_at);
    health["capture_drops"] = capture_drops;
    health["ring_drops"] = ring_drops;
    nlohmann::json chart = {{"has_data", !minutes.empty()},
                            {"width", kWidth + kLeft + 10},
                            {"height", kHeight + kTop + 30},
                            {"plot_left", kLeft},
                            {"plot_top", kTop},
                            {"plot_width", kWidth},
                            {"plot_height", kHeight},
                            {"plot_bottom", kTop + kHeight},
                            {"plot_right", kLeft + kWidth}};
    if (minutes.empty()) return chart;
    Timestamp t0 = minutes.front().first;
    Timestamp t1 = minutes.back().first + 60 * kMicrosPerSecond;
    double span = static_cast<double>(t1 - t0);
    std::vector<std::int64_t> buckets(kWidth, -1);
    for (auto [m, b] : minutes) {
        auto i = static_cast<std::size_t>((m - t0) / span * kWidth);
        i = std::min<std::size_t>(i, kWidth - 1);
        buckets[i] = std::max(buckets[i], b);
    }
    double top = std::max<double>(1.0, static_cast<double>(peak));
    std::string points;
    for (int i = 0; i < kWidth; ++i) {
        if (buckets[i] < 0) continue;
        double y = kTop + kHeight - buckets[i] / top * kHeight;
        points += (points.empty() ? "" : " ") + std::to_string(kLeft + i) + "," + fixed(y);
    }
    if (points.find(' ') == std::string::npos)  // one point: draw a short flat line
        points += " " + std::to_string(kLeft + kWidth) + points.substr(points.find(','));
    chart["points"] = points;
    chart["y_max"] = peak;
    chart["y_max_y"] = kTop + 4;
    chart["x_start"] = local_minute(t0);
    chart["x_end"] = local_minute(t1);
    chart["x_label_y"] = kTop + kHeight + 18;
    auto incidents = nlohmann::json::array();
    for (const auto& a : alerts) {
        if (!contains(kLoopKinds, a["kind"])) continue;
        Timestamp s = a["first_seen_us"], e = a["ended_at_us"];
        if (e == 0) e = a["last_seen_us"];
        if (e < t0 || s > t1) continue;
        double x0 = (std::max(s, t0) - t0) / span * kWidth;
        double x1 = (std::min(e, t1) - t0) / span * kWidth;
        incidents.push_back({{"x", fixed(kLeft + x0)},
                             {"w", fixed(std::max(2.0, x1 - x0))},
                             {"label", a["text"]["title"].get<std::string>() + " " +
                                           a["first_seen"].get<std::string>()}});
    }
    chart["incidents"] = incidents;
    return chart;
}

}  // namespace

void use_clinic_timezone(const Config& config) {
    if (config.digest.timezone.empty()) return;
    ::setenv("TZ", config.digest.timezone.c_str(), 1);
    ::tzset();
}

namespace {

struct Category {
    std::string name;
    std::vector<std::string> domains;
};

// rules/internet-categories.yaml; empty when unreadable (everything is then "other").
std::vector<Category> load_categories(const Config& config) {
    std::vector<Category> out;
    try {
        YAML::Node root = YAML::LoadFile(resolve_rules_dir(config.egress.rules_dir) +
                                         "/internet-categories.yaml");
        for (const auto& c : root["categories"]) {
            Category cat{c["name"].as<std::string>(), {}};
            for (const auto& d : c["domains"]) cat.domains.push_back(d.as<std::string>());
            out.push_back(std::move(cat));
        }
    } catch (const std::exception&) {
        out.clear();
    }
    return out;
}

bool has_suffix(const std::string& name, const std::string& suffix) {
    if (name.size() < suffix.size()) return false;
    if (name.compare(name.size() - suffix.size(), suffix.size(), suffix) != 0) return false;
    return name.size() == suffix.size() || name[name.size() - suffix.size() - 1] == '.';
}

std::string category_of(const std::vector<Category>& categories, const std::string& name) {
    if (name.empty()) return "unnamed";
    for (const auto& c : categories)
        for (const auto& d : c.domains)
            if (has_suffix(name, d)) return c.name;
    return "other";
}

std::string port_text(int port, int protocol) {
    return std::to_string(port) + "/" +
           (protocol == 6    ? "tcp"
            : protocol == 17 ? "udp"
                             : std::to_string(protocol));
}

std::string in_words(const nlohmann::json& messages, const char* section, const std::string& v) {
    if (messages.contains(section) && messages[section].contains(v))
        return messages[section][v].get<std::string>();
    return v;
}

std::string duration_text(const nlohmann::json& messages, std::int64_t seconds) {
    std::int64_t h = seconds / 3600, m = seconds % 3600 / 60, s = seconds % 60;
    nlohmann::json v = {{"h", h}, {"m", m}, {"s", s}};
    const char* key = h ? "duration_h" : m ? "duration_m" : "duration_s";
    return render_string(messages.value(key, std::string("{{h}}:{{m}}:{{s}}")), v);
}

std::string bytes_text(std::int64_t bytes) {
    char buf[32];
    if (bytes >= 1'000'000'000)
        std::snprintf(buf, sizeof buf, "%.1f GB", bytes / 1e9);
    else if (bytes >= 1'000'000)
        std::snprintf(buf, sizeof buf, "%.1f MB", bytes / 1e6);
    else if (bytes >= 1'000)
        std::snprintf(buf, sizeof buf, "%.1f kB", bytes / 1e3);
    else
        std::snprintf(buf, sizeof buf, "%lld B", static_cast<long long>(bytes));
    return buf;
}

}  // namespace

nlohmann::json build_report_model(SQLite::Database& db, const Config& config,
                                  const nlohmann::json& messages, const std::string& language,
                                  Timestamp since, Timestamp now) {
    nlohmann::json model;
    model["language"] = language;
    model["clinic"] = config.report.clinic_name.empty() ? messages.value("unknown", "")
                                                        : config.report.clinic_name;
    model["clinic_configured"] = !config.report.clinic_name.empty();
    model["generated"] = local_minute(now);
    model["generated_us"] = now;
    model["schema_version"] = Store::schema_version(db);

    auto assets = load_assets(db, messages, since, now);
    auto devices = assets_by_mac(assets);
    std::string since_sql = std::to_string(since);
    auto alerts = load_alerts(db, messages, devices, "last_seen >= " + since_sql);

    // Period: from --since (or the first thing seen) to the last thing seen.
    Timestamp first = 0, last = 0;
    auto widen = [&](Timestamp a, Timestamp b) {
        if (a && (!first || a < first)) first = a;
        if (b > last) last = b;
    };
    for (const auto& a : assets) widen(a["first_seen_us"], a["last_seen_us"]);
    for (const auto& a : alerts) widen(a["first_seen_us"], a["last_seen_us"]);
    {
        SQLite::Statement st(db,
                             "SELECT min(minute), max(minute) FROM minute_stats WHERE minute >= ?");
        st.bind(1, static_cast<std::int64_t>(since));
        if (st.executeStep() && !st.getColumn(0).isNull())
            widen(st.getColumn(0).getInt64(), st.getColumn(1).getInt64() + 60 * kMicrosPerSecond);
    }
    if (since) first = since;
    model["period_start"] = local_minute(first);
    model["period_end"] = local_minute(last);
    model["period_start_us"] = first;
    model["period_end_us"] = last;
    double hours = last > first ? static_cast<double>(last - first) / 3.6e9 : 0.0;
    model["period_hours"] = fixed(hours);
    model["period_short"] = hours < 24.0 * 7;

    // The ledger: the clinic's devices grouped by responsible party (unknown last). Staff
    // members' own phones and devices behind randomised MACs are only counted (privacy).
    const std::string unknown = messages.value("unknown", "(unknown)");
    std::map<std::string, nlohmann::json> groups;
    auto personal = nlohmann::json::array();
    for (const auto& a : assets) {
        if (a["personal"].get<bool>()) {
            personal.push_back(a);
            continue;
        }
        groups[a["responsible_label"].get<std::string>()].push_back(a);
    }
    auto ledger = nlohmann::json::array();
    for (auto& [party, list] : groups)
        if (party != unknown)
            ledger.push_back({{"responsible", party}, {"assets", list}, {"count", list.size()}});
    if (groups.count(unknown))
        ledger.push_back({{"responsible", unknown},
                          {"assets", groups[unknown]},
                          {"count", groups[unknown].size()}});
    model["has_ledger"] = !ledger.empty();
    model["ledger"] = ledger;
    model["assets"] = assets;

    // Facts the summary and the checklist evidence texts use.
    nlohmann::json facts;
    int registered = 0, unregistered = 0, eos_past = 0, eos_soon = 0, eos_check = 0, os_unknown = 0;
    int personal_count = 0, randomized = 0;
    auto legacy_assets = nlohmann::json::array();
    for (const auto& a : assets) {
        if (a["personal"].get<bool>()) {
            ++personal_count;
            randomized += a["randomized_mac"].get<bool>();
            continue;
        }
        registered += a["registered"] == "yes";
        unregistered += a["registered"] == "no";
        eos_past += a["eos_status"] == "past";
        eos_soon += a["eos_status"] == "soon";
        eos_check += a["eos_status"] == "check";
        os_unknown += !a["os_known"].get<bool>();
        if (a["eos_status"] == "past" || a["eos_status"] == "soon" || a["eos_status"] == "check")
            legacy_assets.push_back(a);
    }
    facts["assets_total"] = assets.size();
    facts["assets_ledger"] = assets.size() - static_cast<std::size_t>(personal_count);
    facts["assets_registered"] = registered;
    facts["assets_unregistered"] = unregistered;
    facts["assets_to_check"] = eos_check + eos_past;
    facts["eos_past"] = eos_past;
    facts["eos_soon"] = eos_soon;
    facts["eos_check"] = eos_check;
    facts["os_unknown"] = os_unknown;
    facts["personal_devices"] = personal_count;
    facts["randomized_mac_devices"] = randomized;

    auto open_alerts = nlohmann::json::array();
    std::map<std::string, int> open_by_kind;
    for (const auto& a : alerts) {
        if (a["status"] == "resolved") continue;
        open_alerts.push_back(a);
        ++open_by_kind[a["kind"].get<std::string>()];
    }
    facts["alerts_open"] = open_alerts.size();
    model["open_alerts"] = open_alerts;
    model["all_alerts"] = alerts;
    model["legacy_assets"] = legacy_assets;
    model["has_legacy_assets"] = !legacy_assets.empty();

    // Incidents (issue 16), in the report's language: current when the database can be written.
    {
        Config in_language = config;
        in_language.digest.language = language;
        DeviceNames names(messages, assets);
        auto incidents = nlohmann::json::array();
        int critical = 0, attention = 0;
        for (const auto& s : current_incidents(db, in_language, "status != 'resolved'")) {
            auto d = describe_incident(s.incident, s.id, messages, names);
            d["facts"] = s.incident.facts;
            d["subject_mac"] = s.incident.subject_mac;
            critical += d["bucket"] == "critical";
            attention += d["bucket"] == "attention";
            incidents.push_back(std::move(d));
        }
        // What to fix first: the worst five (correlate() orders worst first).
        auto first_fixes = nlohmann::json::array();
        for (const auto& i : incidents)
            if (first_fixes.size() < 5 && i["bucket"] != "info") first_fixes.push_back(i);
        facts["incidents_open"] = incidents.size();
        facts["incidents_critical"] = critical;
        facts["incidents_attention"] = attention;
        model["incidents"] = incidents;
        model["has_incidents"] = !incidents.empty();
        model["first_fixes"] = first_fixes;
        model["has_first_fixes"] = !first_fixes.empty();
    }

    // Remote maintenance (2-②): one row per session. The checklist counts devices and
    // sessions, not the alerts they raised.
    // An internet party that was never named by a DNS answer or TLS SNI: said so.
    const std::string unknown_name = messages.value("unnamed_party", "-");
    auto remote = remote_maintenance_log(db, devices, since, std::numeric_limits<Timestamp>::max());
    std::set<std::string> remote_devices;
    std::int64_t remote_sessions = 0, remote_not_allowed = 0, remote_ongoing = 0;
    for (auto& r : remote) {
        remote_devices.insert(r["mac"].get<std::string>());
        ++remote_sessions;
        remote_not_allowed += r["allowed"] == false;
        remote_ongoing += r["ongoing"] == true;
        std::string direction = r["direction"];
        r["direction_label"] = in_words(messages, "directions", direction);
        r["start"] = local_minute(r["start_us"]);
        r["end"] = local_minute(r["end_us"]);
        r["duration"] = duration_text(messages, r["duration_seconds"]);
        r["bytes_text"] = bytes_text(r["bytes"]);
        std::string allowed = r["allowed"].is_null()     ? "no_policy"
                              : r["allowed"].get<bool>() ? "yes"
                                                         : "no";
        if (direction == "lan") allowed = "lan";
        r["allowed_label"] = in_words(messages, "allowed", allowed);
        r["not_allowed"] = r["allowed"] == false;
        // The remote party in words: a LAN device by its name, an internet one by its DNS/TLS
        // name when known.
        r["remote_name_text"] = r["remote_device"].is_string() ? r["remote_device"]
                                : r["remote_name"].is_string() ? r["remote_name"]
                                                               : nlohmann::json(unknown_name);
    }
    facts["remote_devices"] = remote_devices.size();
    facts["remote_sessions"] = remote_sessions;
    facts["remote_not_allowed"] = remote_not_allowed;
    facts["remote_ongoing"] = remote_ongoing;
    model["remote_log"] = remote;
    model["has_remote_log"] = !remote.empty();

    // The network itself (2-①, 構成図).
    auto network = network_summary(db, config, assets, alerts, since);
    // The network map (issue 18), drawn from the topology the sensor learned; none from a
    // database older than the topology table.
    try {
        // Drawn over the report's own period (packet time), as its title says.
        auto topology = network_summary(db, messages, first, last);
        if (!topology["segments"].empty() || !topology["routers"].empty())
            network["map_svg"] = network_map_svg(topology, messages);
    } catch (const std::exception& e) {
        spdlog::debug("report: no network map ({})", e.what());
    }
    // Each server's availability as its clients saw it (issue 22): codes in server_availability
    // (the JSON export); in the HTML a chart, one row per server with its share answered and
    // its outages labelled with their times.
    try {
        for (const auto& a : server_availability(db, since, now))
            network["server_availability"].push_back(to_json(a));
        // Rows named as everywhere else: register name, host name, else "maker device (address)"
        // (a rogue DHCP server has only its maker and address to go by).
        DeviceNames names(messages, assets);
        auto chart =
            availability_chart(db, since, now, [&](const std::string& mac, const std::string& ip) {
                return names.name_without_address(mac, ip);
            });
        network["availability_svg"] = availability_chart_svg(chart, messages);
    } catch (const std::exception& e) {
        spdlog::debug("report: no server availability ({})", e.what());
    }
    auto join_list = [](const nlohmann::json& list) {
        std::string out;
        for (const auto& v : list) out += (out.empty() ? "" : ", ") + v.get<std::string>();
        return out;
    };
    auto text_or = [&](const nlohmann::json& v) {
        return v.is_null() ? unknown : v.is_string() ? v.get<std::string>() : v.dump();
    };
    for (auto& d : network["dhcp_servers"]) {
        d["approved_label"] =
            in_words(messages, "approved", d["approved"].get<bool>() ? "yes" : "no");
        d["offered_routers_text"] = join_list(d["offered_routers"]);
        d["offered_dns_text"] = join_list(d["offered_dns"]);
        d["offers_text"] = d["offers"].is_null() ? messages.value("not_counted", "-")
                                                 : std::to_string(d["offers"].get<std::int64_t>());
        d["vendor_text"] = text_or(d["vendor"]);
        d["mac_text"] = text_or(d["mac"]);
    }
    for (auto& r : network["routers"]) {
        r["vendor_text"] = text_or(r["vendor"]);
        r["mac_text"] = text_or(r["mac"]);
        r["address_text"] = text_or(r["address"]);
        r["source_label"] = in_words(messages, "network_sources", r["source"]);
    }
    for (auto& d : network["dns_servers"]) {
        d["where_label"] = in_words(messages, "network_where", d["where"]);
        d["handed_out_by_text"] = join_list(d["handed_out_by"]);
        d["device_text"] = d["device"].is_string() ? d["device"].get<std::string>() : "";
        d["devices_text"] =
            d["devices"].is_null() ? "-" : std::to_string(d["devices"].get<std::int64_t>());
        d["queries_text"] =
            d["queries"].is_null() ? "-" : std::to_string(d["queries"].get<std::int64_t>());
    }
    for (auto& sw : network["switches"]) {
        for (const char* f : {"name", "model", "port", "port_description", "vendor", "address"})
            sw[std::string(f) + "_text"] = sw[f].is_null() ? "" : sw[f].get<std::string>();
        // The description only where it says more than the port's name.
        if (sw["port_description_text"] == sw["port_text"]) sw["port_description_text"] = "";
        sw["kind_label"] = in_words(messages, "network_kinds", sw["kind"]);
        sw["source_label"] = in_words(messages, "network_sources", sw["source"]);
    }
    for (const char* list : {"subnets", "routers", "dhcp_servers", "dns_servers", "switches"})
        network[std::string("has_") + list] = !network[list].empty();
    network["has_ipv6"] =
        !network["ipv6"]["prefixes"].empty() || !network["ipv6"]["routers"].empty();
    network["has_availability"] = !network["server_availability"].empty();
    network["has_map"] = network["map_svg"].is_string();
    model["network"] = network;

    // What each clinic device exchanged across the internet boundary (the appendix): the
    // unusual destinations itemised (up to 20), the ones the egress policy allows summarised.
    // Personal devices: categories only, never a destination.
    auto categories = load_categories(config);
    // Routine: what the role's policy allows, or (without a policy) a service every PC
    // legitimately reaches (rules/well-known-services.yaml: updates, time, revocation ...).
    std::vector<std::string> routine_domains;
    try {
        for (const auto& svc :
             load_egress_rules(resolve_rules_dir(config.egress.rules_dir)).services)
            routine_domains.insert(routine_domains.end(), svc.domains.begin(), svc.domains.end());
    } catch (const std::exception&) {
        // Rules unreadable: only the policy's verdict marks routine traffic.
    }
    auto is_routine = [&](const std::string& verdict, const std::string& name) {
        if (verdict == "allowed") return true;
        if (verdict != "observed" || name.empty()) return false;
        for (const auto& d : routine_domains)
            if (has_suffix(name, d)) return true;
        return false;
    };
    std::map<std::string, nlohmann::json> destinations;                   // mac -> rows
    std::map<std::string, std::pair<std::string, std::int64_t>> routine;  // mac -> (top, count)
    std::map<std::string, std::int64_t> routine_bytes;
    std::map<std::string, nlohmann::json> personal_use;  // category -> totals
    std::map<std::string, std::set<std::string>> personal_devices_of;
    auto clinic_destinations = nlohmann::json::array();  // for the JSON export
    bool has_flows_table =
        db.execAndGet("SELECT count(*) FROM sqlite_master WHERE name = 'boundary_flows'").getInt() >
        0;
    if (has_flows_table) {
        SQLite::Statement flows(db, R"sql(
            SELECT mac, direction, address, name, port, protocol, verdict,
                   sum(bytes_out + bytes_in), sum(flows), min(first_seen), max(last_seen)
            FROM boundary_flows WHERE last_seen >= ?
            GROUP BY mac, direction, address, name, port, protocol, verdict
            ORDER BY 8 DESC)sql");
        flows.bind(1, static_cast<std::int64_t>(since));
        while (flows.executeStep()) {
            std::string mac = flows.getColumn(0).getString();
            std::string name = flows.getColumn(3).getString();
            std::string verdict = flows.getColumn(6).getString();
            std::int64_t bytes = flows.getColumn(7).getInt64();
            std::int64_t count = flows.getColumn(8).getInt64();
            auto device = devices.find(mac);
            bool is_personal = device != devices.end() && device->second["personal"].get<bool>();
            if (is_personal) {
                std::string cat = category_of(categories, name);
                auto& u = personal_use[cat];
                if (u.is_null()) u = {{"category", cat}, {"bytes", 0}, {"flows", 0}};
                u["bytes"] = u["bytes"].get<std::int64_t>() + bytes;
                u["flows"] = u["flows"].get<std::int64_t>() + count;
                personal_devices_of[cat].insert(mac);
                continue;
            }
            int port = flows.getColumn(4).getInt(), protocol = flows.getColumn(5).getInt();
            clinic_destinations.push_back(
                {{"mac", mac},
                 {"direction", flows.getColumn(1).getString()},
                 {"address", flows.getColumn(2).getString()},
                 {"name", name.empty() ? nlohmann::json(nullptr) : nlohmann::json(name)},
                 {"port", port},
                 {"protocol", protocol == 6    ? "tcp"
                              : protocol == 17 ? "udp"
                                               : std::to_string(protocol)},
                 {"verdict", verdict},
                 {"bytes", bytes},
                 {"flows", count},
                 {"first_seen_us", flows.getColumn(9).getInt64()},
                 {"last_seen_us", flows.getColumn(10).getInt64()}});
            if (is_routine(verdict, name)) {
                auto& r = routine[mac];
                if (r.first.empty()) r.first = name.empty() ? flows.getColumn(2).getString() : name;
                ++r.second;
                routine_bytes[mac] += bytes;
                continue;
            }
            auto& rows = destinations[mac];
            if (rows.size() >= 20) continue;
            rows.push_back(
                {{"direction", in_words(messages, "directions", flows.getColumn(1).getString())},
                 {"address", flows.getColumn(2).getString()},
                 {"name", name},
                 {"port", port_text(port, protocol)},
                 {"verdict", in_words(messages, "verdicts", verdict)},
                 {"attention", verdict == "denied" || verdict == "inbound"},
                 {"bytes", bytes_text(bytes)},
                 {"flows", count},
                 {"first_seen", local_minute(flows.getColumn(9).getInt64())},
                 {"last_seen", local_minute(flows.getColumn(10).getInt64())}});
        }
    }
    auto external_list = nlohmann::json::array();
    std::set<std::string> macs;
    for (const auto& [mac, _] : destinations) macs.insert(mac);
    for (const auto& [mac, _] : routine) macs.insert(mac);
    for (const auto& mac : macs) {
        auto device = devices.find(mac);
        nlohmann::json rows = destinations.count(mac) ? destinations[mac] : nlohmann::json::array();
        nlohmann::json entry = {
            {"device", device != devices.end() ? device->second["label"] : nlohmann::json(mac)},
            {"mac", mac},
            {"destinations", rows},
            {"has_destinations", !rows.empty()},
            {"has_routine", routine.count(mac) > 0}};
        if (routine.count(mac)) {
            auto [top, n] = routine[mac];
            entry["routine_text"] =
                render_string(messages.value("routine_summary", std::string("{{top}} +{{n}}")),
                              {{"top", top},
                               {"n", n - 1},
                               {"total", n},
                               {"bytes", bytes_text(routine_bytes[mac])}});
        }
        external_list.push_back(std::move(entry));
    }
    model["external"] = external_list;
    model["has_external"] = !external_list.empty();
    model["destinations"] = clinic_destinations;
    auto personal_list = nlohmann::json::array();
    for (auto& [cat, u] : personal_use) {
        u["devices"] = personal_devices_of[cat].size();
        u["label"] = in_words(messages, "categories", cat);
        u["bytes_text"] = bytes_text(u["bytes"]);
        personal_list.push_back(u);
    }
    model["personal"] = {{"devices", personal_count},
                         {"randomized_mac", randomized},
                         {"categories", personal_list},
                         {"has_categories", !personal_list.empty()},
                         {"any", personal_count > 0}};

    nlohmann::json health;
    model["chart"] = broadcast_chart(db, since, alerts, health);
    auto loops = nlohmann::json::array();
    for (const auto& i : model["incidents"])
        if (i["kind"] == "l2-loop" || i["kind"] == "broadcast-storm" || i["kind"] == "arp-storm")
            loops.push_back(i);
    health["incidents"] = loops;
    health["has_incidents"] = !loops.empty();
    health["runs"] = db.execAndGet("SELECT count(*) FROM runs").getInt64();
    // Every capture run (replay or live) with its drops: the JSON carries everything.
    auto runs = nlohmann::json::array();
    SQLite::Statement run_st(db,
                             "SELECT mode, source, started_wall, ended_wall, packets, "
                             "capture_drops, ring_drops, outcome FROM runs ORDER BY id");
    while (run_st.executeStep())
        runs.push_back(
            {{"mode", run_st.getColumn(0).getString()},
             {"source", run_st.getColumn(1).getString()},
             {"started_us", run_st.getColumn(2).getInt64() * kMicrosPerSecond},
             {"ended_us", run_st.getColumn(3).isNull()
                              ? nlohmann::json(nullptr)
                              : nlohmann::json(run_st.getColumn(3).getInt64() * kMicrosPerSecond)},
             {"packets", run_st.getColumn(4).getInt64()},
             {"capture_drops", run_st.getColumn(5).getInt64()},
             {"ring_drops", run_st.getColumn(6).getInt64()},
             {"outcome", run_st.getColumn(7).getString()}});
    model["runs"] = runs;
    model["health"] = health;

    // Inspection checklist (令和7年度版, 令和6年度版 numbers beside): each item's evidence text
    // filled in with the facts.
    auto checklist = nlohmann::json::array();
    for (const auto& item : messages.value("checklist", nlohmann::json::array())) {
        int kind_count = 0;
        for (const auto& k : item.value("kinds", nlohmann::json::array()))
            kind_count += open_by_kind[k.get<std::string>()];
        nlohmann::json values = facts;
        values["kind_count"] = kind_count;
        std::string coverage = item.value("coverage", "none");
        bool attention = kind_count > 0;
        if (item.value("id", "") == "2-②") attention = remote_not_allowed > 0 || kind_count > 0;
        checklist.push_back({{"id", item.value("id", "")},
                             {"r6", item.value("r6", "")},
                             {"text", item.value("text", "")},
                             {"coverage", coverage},
                             {"coverage_label", messages["coverage"].value(coverage, coverage)},
                             {"kind_count", kind_count},
                             {"attention", attention},
                             {"evidence", render_string(item.value("evidence", ""), values)}});
    }
    model["facts"] = facts;
    model["checklist"] = checklist;
    return model;
}

std::string report_csv(const nlohmann::json& model, const nlohmann::json& messages) {
    Table table;
    for (const auto& h : messages.value("csv_headers", nlohmann::json::array()))
        table.headers.push_back(h.get<std::string>());
    for (const auto& group : model["ledger"])
        for (const auto& a : group["assets"])
            // The last four columns are the vendor's to fill in (location, model, purpose,
            // administrator): the sensor cannot see them.
            table.rows.push_back(
                {a["responsible_label"], a["register_name"], a["role_label"], a["registered_label"],
                 a["mac"], a["vendor"], a["addresses_text"], a["names_text"], a["os"],
                 std::to_string(a["os_confidence"].get<int>()), a["eos"], a["eos_label"],
                 a["services_text"], a["first_seen"], a["last_seen"], "", "", "", ""});
    std::ostringstream out;
    out << "\xEF\xBB\xBF";  // BOM: Excel reads the file as UTF-8 only with it
    print_csv(out, table);
    return out.str();
}

int command_report(const CommonOptions& common, const ReportOptions& options) {
    Config config = resolve_config(common);
    use_clinic_timezone(config);
    std::string language = options.language.empty() ? config.report.language : options.language;
    if (language != "ja" && language != "en") {
        std::cerr << "clinicwatch: --lang must be ja or en, got '" << language << "'\n";
        return kExitUsage;
    }
    Timestamp since = 0;
    if (!options.since.empty()) {
        auto t = parse_time(options.since);
        if (!t) {
            std::cerr
                << "clinicwatch: --since '" << options.since
                << "' is not a time: use 2026-11-20, 2026-11-20T08:00:00+09:00, or 24h / 7d\n";
            return kExitUsage;
        }
        since = *t;
    }
    // Correlates first when the database can be written, so the incidents are current.
    auto db = open_for_incidents(resolve_db_path(common, config)).db;
    auto dir = templates_dir(config);
    nlohmann::json messages = load_messages(dir, language);
    Timestamp now = static_cast<Timestamp>(std::time(nullptr)) * kMicrosPerSecond;
    nlohmann::json model = build_report_model(*db, config, messages, language, since, now);

    std::string text;
    if (options.format == "json")
        text = report_export(model).dump(2) + "\n";
    else if (options.format == "csv")
        text = report_csv(model, messages);
    else
        text = render_file(dir, "report." + language + ".html", model, Escape::html);

    if (options.out.empty() || options.out == "-") {
        std::cout << text;
        return kExitOk;
    }
    auto folder = std::filesystem::path(options.out).parent_path();
    if (!folder.empty() && !std::filesystem::is_directory(folder)) {
        std::cerr << "clinicwatch: cannot write the report to " << options.out << ": the folder "
                  << folder.string()
                  << " does not exist (create it first, or give another --out)\n";
        return kExitDatabase;
    }
    std::string tmp = options.out + ".tmp";
    {
        std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
        out << text;
        if (!out.flush()) {
            std::error_code ignored;
            std::filesystem::remove(tmp, ignored);
            std::cerr << "clinicwatch: cannot write the report to " << options.out
                      << " (check the folder's permissions and free space)\n";
            return kExitDatabase;
        }
    }
    std::rename(tmp.c_str(), options.out.c_str());  // never leave half a report behind
    std::fprintf(stderr, "report written to %s (%zu devices, %zu open alerts)\n",
                 options.out.c_str(), model["assets"].size(), model["open_alerts"].size());
    return kExitOk;
}

}  // namespace clinicwatch
