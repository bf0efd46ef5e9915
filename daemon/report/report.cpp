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
#include <map>
#include <set>
#include <sstream>

#include "daemon/cli.hpp"
#include "daemon/output.hpp"
#include "daemon/report/ledger.hpp"
#include "daemon/report/report_cli.hpp"
#include "daemon/report/template.hpp"
#include "daemon/store/store.hpp"

namespace clinicwatch {

namespace {

// Kinds shown in the report's thematic sections (unknown kinds still appear under open alerts).
const std::vector<std::string> kLegacyKinds = {"legacy-os",       "os-support-ending",
                                               "smb1-in-use",     "legacy-tls",
                                               "cleartext-login", "internet-explorer"};
const std::vector<std::string> kExternalKinds = {"egress-denied", "remote-access",
                                                 "inbound-exposure", "risky-protocol-wan"};
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

nlohmann::json build_report_model(SQLite::Database& db, const Config& config,
                                  const nlohmann::json& messages, const std::string& language,
                                  Timestamp since, Timestamp now) {
    nlohmann::json model;
    model["language"] = language;
    model["clinic"] = config.report.clinic_name.empty() ? messages.value("unknown", "")
                                                        : config.report.clinic_name;
    model["generated"] = local_minute(now);
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

    // The ledger grouped by responsible party (unknown last).
    const std::string unknown = messages.value("unknown", "(unknown)");
    std::map<std::string, nlohmann::json> groups;
    for (const auto& a : assets) groups[a["responsible"].get<std::string>()].push_back(a);
    auto ledger = nlohmann::json::array();
    for (auto& [party, list] : groups)
        if (party != unknown)
            ledger.push_back({{"responsible", party}, {"assets", list}, {"count", list.size()}});
    if (groups.count(unknown))
        ledger.push_back({{"responsible", unknown},
                          {"assets", groups[unknown]},
                          {"count", groups[unknown].size()}});
    model["ledger"] = ledger;
    model["assets"] = assets;

    // Facts the checklist evidence texts use.
    nlohmann::json facts;
    int registered = 0, unregistered = 0, eos_past = 0, eos_soon = 0, eos_check = 0, os_unknown = 0;
    auto legacy_assets = nlohmann::json::array();
    for (const auto& a : assets) {
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
    facts["assets_registered"] = registered;
    facts["assets_unregistered"] = unregistered;
    facts["eos_past"] = eos_past;
    facts["eos_soon"] = eos_soon;
    facts["eos_check"] = eos_check;
    facts["os_unknown"] = os_unknown;

    auto open_alerts = nlohmann::json::array();
    auto legacy_alerts = nlohmann::json::array();
    std::map<std::string, nlohmann::json> external;  // device label -> alerts
    std::map<std::string, int> open_by_kind;
    for (const auto& a : alerts) {
        std::string kind = a["kind"];
        bool open = a["status"] != "resolved";
        if (open) {
            open_alerts.push_back(a);
            ++open_by_kind[kind];
        }
        if (contains(kLegacyKinds, kind)) legacy_alerts.push_back(a);
        if (contains(kExternalKinds, kind))
            external[a["device"]["name"].get<std::string>()].push_back(a);
    }
    facts["alerts_open"] = open_alerts.size();
    model["facts"] = facts;
    model["open_alerts"] = open_alerts;
    model["has_open_alerts"] = !open_alerts.empty();
    model["all_alerts"] = alerts;
    model["legacy_assets"] = legacy_assets;
    model["legacy_alerts"] = legacy_alerts;
    model["has_legacy_alerts"] = !legacy_alerts.empty();
    model["has_legacy_assets"] = !legacy_assets.empty();
    model["has_legacy"] = !legacy_assets.empty() || !legacy_alerts.empty();
    // What each device exchanged across the internet boundary (the egress analyzer's daily
    // summaries), largest first; up to 20 destinations per device in the report.
    std::map<std::string, nlohmann::json> destinations;  // device label -> rows
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
            auto device = devices.find(mac);
            std::string label =
                device != devices.end() ? device->second["label"].get<std::string>() : mac;
            auto& rows = destinations[label];
            if (rows.size() >= 20) continue;
            int protocol = flows.getColumn(5).getInt();
            rows.push_back({{"direction", flows.getColumn(1).getString()},
                            {"address", flows.getColumn(2).getString()},
                            {"name", flows.getColumn(3).getString()},
                            {"port", std::to_string(flows.getColumn(4).getInt()) + "/" +
                                         (protocol == 6    ? "tcp"
                                          : protocol == 17 ? "udp"
                                                           : std::to_string(protocol))},
                            {"verdict", flows.getColumn(6).getString()},
                            {"bytes", flows.getColumn(7).getInt64()},
                            {"flows", flows.getColumn(8).getInt64()},
                            {"first_seen", local_minute(flows.getColumn(9).getInt64())},
                            {"last_seen", local_minute(flows.getColumn(10).getInt64())}});
        }
    }
    auto external_list = nlohmann::json::array();
    std::set<std::string> labels;
    for (const auto& [device, _] : external) labels.insert(device);
    for (const auto& [device, _] : destinations) labels.insert(device);
    for (const auto& device : labels) {
        nlohmann::json alerts_of =
            external.count(device) ? external[device] : nlohmann::json::array();
        nlohmann::json rows =
            destinations.count(device) ? destinations[device] : nlohmann::json::array();
        external_list.push_back({{"device", device},
                                 {"alerts", alerts_of},
                                 {"has_alerts", !alerts_of.empty()},
                                 {"destinations", rows},
                                 {"has_destinations", !rows.empty()}});
    }
    model["external"] = external_list;
    model["has_external"] = !external_list.empty();

    nlohmann::json health;
    model["chart"] = broadcast_chart(db, since, alerts, health);
    auto incidents = nlohmann::json::array();
    for (const auto& a : alerts)
        if (contains(kLoopKinds, a["kind"])) incidents.push_back(a);
    health["incidents"] = incidents;
    health["has_incidents"] = !incidents.empty();
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
             {"started", local_minute(run_st.getColumn(2).getInt64() * kMicrosPerSecond)},
             {"ended", run_st.getColumn(3).isNull()
                           ? ""
                           : local_minute(run_st.getColumn(3).getInt64() * kMicrosPerSecond)},
             {"packets", run_st.getColumn(4).getInt64()},
             {"capture_drops", run_st.getColumn(5).getInt64()},
             {"ring_drops", run_st.getColumn(6).getInt64()},
             {"outcome", run_st.getColumn(7).getString()}});
    model["runs"] = runs;
    model["health"] = health;

    // Inspection checklist: each item's evidence text filled in with the facts.
    auto checklist = nlohmann::json::array();
    for (const auto& item : messages.value("checklist", nlohmann::json::array())) {
        int kind_count = 0;
        for (const auto& k : item.value("kinds", nlohmann::json::array()))
            kind_count += open_by_kind[k.get<std::string>()];
        nlohmann::json values = facts;
        values["kind_count"] = kind_count;
        std::string coverage = item.value("coverage", "none");
        checklist.push_back({{"id", item.value("id", "")},
                             {"r5", item.value("r5", "")},
                             {"text", item.value("text", "")},
                             {"coverage", coverage},
                             {"coverage_label", messages["coverage"].value(coverage, coverage)},
                             {"kind_count", kind_count},
                             {"attention", kind_count > 0},
                             {"evidence", render_string(item.value("evidence", ""), values)}});
    }
    model["checklist"] = checklist;
    model["checklist_version"] = "R7 (令和7年度版)";
    return model;
}

std::string report_csv(const nlohmann::json& model, const nlohmann::json& messages) {
    Table table;
    for (const auto& h : messages.value("csv_headers", nlohmann::json::array()))
        table.headers.push_back(h.get<std::string>());
    for (const auto& group : model["ledger"])
        for (const auto& a : group["assets"])
            table.rows.push_back(
                {a["responsible"], a["register_name"], a["role"], a["registered_label"], a["mac"],
                 a["vendor"], a["addresses_text"], a["names_text"], a["os"],
                 std::to_string(a["os_confidence"].get<int>()), a["eos"], a["eos_label"],
                 a["services_text"], a["first_seen"], a["last_seen"]});
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
    {
        Config in_language = config;
        in_language.digest.language = language;
        DeviceNames names(messages, model["assets"]);
        auto incidents = nlohmann::json::array();
        for (const auto& s : current_incidents(*db, in_language, "status != 'resolved'"))
            incidents.push_back(describe_incident(s.incident, s.id, messages, names));
        model["incidents"] = std::move(incidents);
    }

    std::string text;
    if (options.format == "json")
        text = model.dump(2) + "\n";
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
