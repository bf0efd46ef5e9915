// `clinicwatch incidents`: the incidents (related alerts grouped into one event or one device's
// standing conditions), worst first, in the clinic's language. Correlates first when the
// database can be written, so what it shows is what the next digest will say.
#include <SQLiteCpp/SQLiteCpp.h>

#include <iostream>
#include <nlohmann/json.hpp>

#include "daemon/cli.hpp"
#include "daemon/incidents/describe.hpp"
#include "daemon/output.hpp"
#include "daemon/report/ledger.hpp"
#include "daemon/report/report.hpp"
#include "daemon/report/template.hpp"
#include "daemon/store/store.hpp"

namespace clinicwatch {

int command_incidents(const CommonOptions& common, const IncidentsOptions& options) {
    Config config = resolve_config(common);
    if (!options.language.empty()) config.digest.language = options.language;
    std::string db_path = resolve_db_path(common, config);
    auto opened = open_for_incidents(db_path);
    auto& db = *opened.db;
    auto list = current_incidents(db, config, options.all ? "1" : "status != 'resolved'");
    auto messages = load_messages(templates_dir(config), config.digest.language);
    auto now = static_cast<std::int64_t>(std::time(nullptr));
    DeviceNames names(messages, load_assets(db, messages, 0, now * kMicrosPerSecond));
    Table table{{"ID", "SEVERITY", "KIND", "DEVICE", "TITLE", "FIRST SEEN", "LAST SEEN", "ALERTS",
                 "STATUS", "CALL"},
                {}};
    auto json = nlohmann::json::array();
    for (const auto& s : list) {
        if (!options.kind.empty() && s.incident.kind != options.kind) continue;
        auto d = describe_incident(s.incident, s.id, messages, names);
        std::string status = s.incident.status;
        if (s.incident.ongoing && status == "open") status = "open (ongoing)";
        std::string ids;
        for (auto id : s.incident.alerts) ids += (ids.empty() ? "" : ",") + std::to_string(id);
        table.rows.push_back({s.id ? std::to_string(s.id) : "-", d["severity_name"],
                              s.incident.kind, d["device"], d["title"],
                              format_time(s.incident.first_seen), format_time(s.incident.last_seen),
                              ids, status, d["party"]});
        nlohmann::json conditions = nlohmann::json::array();
        for (const auto& c : d["conditions"]) conditions.push_back(c["text"]);
        json.push_back({
            {"id", s.id},
            {"key", s.incident.key},
            {"kind", s.incident.kind},
            {"severity", d["severity_name"]},
            {"title", d["title"]},
            {"device", d["device"]},
            {"device_mac",
             d["device_mac"].get<std::string>().empty() ? nlohmann::json() : d["device_mac"]},
            {"detail", d["detail"]},
            {"conditions", conditions},
            {"action", d["action"]},
            {"call", d["party"]},
            {"first_seen", format_time_iso(s.incident.first_seen)},
            {"last_seen", format_time_iso(s.incident.last_seen)},
            {"ongoing", s.incident.ongoing},
            {"status", s.incident.status},
            {"alerts", s.incident.alerts},
            {"revision", s.revision},
            {"mailed_revision", s.mailed_revision},
            {"facts", s.incident.facts},
        });
        // Outages (issue 22) have a one-line summary: the digest's first lines.
        if (!d["headline"].get<std::string>().empty()) json.back()["headline"] = d["headline"];
    }
    if (!opened.writable && common.format == OutputFormat::table)
        std::cerr << "clinicwatch: " << db_path
                  << " is read-only here: incidents were grouped in memory (no ids)\n";
    emit(common, table, json);
    return kExitOk;
}

}  // namespace clinicwatch
