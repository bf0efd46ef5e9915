#include "daemon/report/export.hpp"

#include <algorithm>

#include "capture/packet.hpp"
#include "daemon/output.hpp"

namespace clinicwatch {

namespace {

using nlohmann::json;

json iso(const json& us) {
    if (!us.is_number_integer() || us.get<Timestamp>() == 0) return nullptr;
    return format_time_iso(us.get<Timestamp>());
}

const char* kSeverity[] = {"info", "low", "medium", "high", "critical"};

std::string severity_code(const json& s) {
    int v = s.is_number_integer() ? s.get<int>() : 0;
    return kSeverity[std::clamp(v, 0, 4)];
}

json device(const json& a) {
    const json& raw = a["raw"];
    json services = json::array();
    for (const auto& p : a["services"])
        if (p.is_number_integer()) services.push_back(p);
    return {{"mac", a["mac"]},
            {"vlan", a["vlan"]},
            {"vendor", raw["vendor"]},
            {"randomized_mac", a["randomized_mac"]},
            {"personal", a["personal"]},
            {"addresses", a["addresses"]},
            {"ipv6_addresses", a.value("ipv6_addresses", json::array())},
            {"names", a["personal"].get<bool>() ? json::array() : a["names"]},
            {"tcp_services", services},
            {"os",
             {{"family", raw["os_family"]},
              {"version", raw["os_version"]},
              {"confidence", raw["os_confidence"]},
              {"support", a["eos_status"]},
              {"end_of_support", raw["end_of_support"]}}},
            {"register",
             {{"registered", a["registered"] == "yes"},
              {"name", raw["register_name"]},
              {"role", raw["role"]},
              {"responsible", raw["responsible"]}}},
            {"first_seen", iso(a["first_seen_us"])},
            {"last_seen", iso(a["last_seen_us"])},
            {"frames", a["frames"]},
            {"bytes", a["bytes"]}};
}

}  // namespace

json report_export(const json& model) {
    json out;
    out["schema"] = "clinicwatch-report";
    out["schema_version"] = kReportSchemaVersion;
    out["generated_at"] = iso(model["generated_us"]);
    out["language"] = model["language"];
    out["clinic_name"] = model["clinic_configured"].get<bool>() ? model["clinic"] : json(nullptr);
    out["period"] = {{"start", iso(model["period_start_us"])},
                     {"end", iso(model["period_end_us"])}};
    out["database_schema_version"] = model["schema_version"];
    const json& f = model["facts"];
    out["summary"] = {{"devices", f["assets_total"]},
                      {"ledger_devices", f["assets_ledger"]},
                      {"registered", f["assets_registered"]},
                      {"unregistered", f["assets_unregistered"]},
                      {"end_of_support_past", f["eos_past"]},
                      {"end_of_support_check", f["eos_check"]},
                      {"end_of_support_soon", f["eos_soon"]},
                      {"os_unknown", f["os_unknown"]},
                      {"personal_devices", f["personal_devices"]},
                      {"randomized_mac_devices", f["randomized_mac_devices"]},
                      {"incidents_open", f["incidents_open"]},
                      {"alerts_open", f["alerts_open"]},
                      {"remote_devices", f["remote_devices"]},
                      {"remote_sessions", f["remote_sessions"]}};

    out["devices"] = json::array();
    for (const auto& a : model["assets"]) out["devices"].push_back(device(a));

    out["incidents"] = json::array();
    for (const auto& i : model["incidents"])
        out["incidents"].push_back(
            {{"id", i["id"]},
             {"kind", i["kind"]},
             {"severity", severity_code(i["severity"])},
             {"status", i["status"]},
             {"subject_mac",
              i["subject_mac"].get<std::string>().empty() ? json(nullptr) : i["subject_mac"]},
             {"first_seen", iso(i["first_seen_us"])},
             {"last_seen", iso(i["last_seen_us"])},
             {"ongoing", i["ongoing"]},
             {"alert_ids", i["alerts"]}});

    out["alerts"] = json::array();
    for (const auto& a : model["all_alerts"])
        out["alerts"].push_back({{"id", a["id"]},
                                 {"kind", a["kind"]},
                                 {"severity", severity_code(a["severity"])},
                                 {"status", a["status"]},
                                 {"subject_mac", a["subject_mac"]},
                                 {"first_seen", iso(a["first_seen_us"])},
                                 {"last_seen", iso(a["last_seen_us"])},
                                 {"ended_at", iso(a["ended_at_us"])},
                                 {"count", a["count"]},
                                 {"evidence", a["evidence"]}});

    out["remote_maintenance"] = json::array();
    for (const auto& r : model["remote_log"])
        out["remote_maintenance"].push_back({{"mac", r["mac"]},
                                             {"address", r["address"]},
                                             {"tool", r["tool"]},
                                             {"direction", r["direction"]},
                                             {"scope", r["scope"]},
                                             {"remote_address", r["remote_address"]},
                                             {"remote_mac", r["remote_mac"]},
                                             {"remote_name", r["remote_name"]},
                                             {"port", r["port"]},
                                             {"protocol", r["protocol"]},
                                             {"start", iso(r["start_us"])},
                                             {"end", iso(r["end_us"])},
                                             {"ongoing", r["ongoing"]},
                                             {"duration_seconds", r["duration_seconds"]},
                                             {"bytes", r["bytes"]},
                                             {"bytes_out", r["bytes_out"]},
                                             {"bytes_in", r["bytes_in"]},
                                             {"recognised_by", r["recognised_by"]},
                                             {"verdict", r["verdict"]},
                                             {"allowed", r["allowed"]}});

    const json& n = model["network"];
    json network = {{"subnets", n["subnets"]},
                    {"routers", json::array()},
                    {"dhcp_servers", json::array()},
                    {"dns_servers", json::array()},
                    {"switches", json::array()},
                    {"ipv6", n["ipv6"]},
                    {"server_availability", n["server_availability"]}};
    for (const auto& r : n["routers"])
        network["routers"].push_back({{"address", r["address"]},
                                      {"mac", r["mac"]},
                                      {"vendor", r["vendor"]},
                                      {"source", r["source"]}});
    for (const auto& d : n["dhcp_servers"])
        network["dhcp_servers"].push_back({{"address", d["address"]},
                                           {"mac", d["mac"]},
                                           {"vendor", d["vendor"]},
                                           {"approved", d["approved"]},
                                           {"offers", d["offers"]},
                                           {"offered_routers", d["offered_routers"]},
                                           {"offered_dns", d["offered_dns"]},
                                           {"first_seen", iso(d["first_seen_us"])},
                                           {"last_seen", iso(d["last_seen_us"])}});
    for (const auto& d : n["dns_servers"])
        network["dns_servers"].push_back({{"address", d["address"]},
                                          {"where", d["where"]},
                                          {"mac", d["mac"]},
                                          {"devices", d["devices"]},
                                          {"queries", d["queries"]},
                                          {"handed_out_by", d["handed_out_by"]}});
    for (const auto& s : n["switches"])
        network["switches"].push_back({{"mac", s["mac"]},
                                       {"kind", s["kind"]},
                                       {"name", s["name"]},
                                       {"model", s["model"]},
                                       {"port", s["port"]},
                                       {"port_description", s["port_description"]},
                                       {"vendor", s["vendor"]},
                                       {"address", s["address"]},
                                       {"source", s["source"]}});
    out["network"] = network;

    out["destinations"] = json::array();
    for (const auto& d : model["destinations"])
        out["destinations"].push_back({{"mac", d["mac"]},
                                       {"direction", d["direction"]},
                                       {"address", d["address"]},
                                       {"name", d["name"]},
                                       {"port", d["port"]},
                                       {"protocol", d["protocol"]},
                                       {"verdict", d["verdict"]},
                                       {"bytes", d["bytes"]},
                                       {"flows", d["flows"]},
                                       {"first_seen", iso(d["first_seen_us"])},
                                       {"last_seen", iso(d["last_seen_us"])}});
    json categories = json::array();
    for (const auto& c : model["personal"]["categories"])
        categories.push_back({{"category", c["category"]},
                              {"devices", c["devices"]},
                              {"bytes", c["bytes"]},
                              {"flows", c["flows"]}});
    out["personal_use"] = {{"devices", model["personal"]["devices"]},
                           {"randomized_mac_devices", model["personal"]["randomized_mac"]},
                           {"categories", categories}};

    const json& h = model["health"];
    json runs = json::array();
    for (const auto& r : model["runs"])
        runs.push_back({{"mode", r["mode"]},
                        {"source", r["source"]},
                        {"started", iso(r["started_us"])},
                        {"ended", r["ended_us"].is_null() ? json(nullptr) : iso(r["ended_us"])},
                        {"packets", r["packets"]},
                        {"capture_drops", r["capture_drops"]},
                        {"ring_drops", r["ring_drops"]},
                        {"outcome", r["outcome"]}});
    out["capture"] = {{"minutes", h["minutes"]},
                      {"frames", h["frames"]},
                      {"broadcast_frames", h["broadcast_frames"]},
                      {"broadcast_per_minute_peak", h["broadcast_per_minute_peak"]},
                      {"capture_drops", h["capture_drops"]},
                      {"ring_drops", h["ring_drops"]},
                      {"runs", runs}};

    out["checklist"] = json::array();
    for (const auto& c : model["checklist"])
        out["checklist"].push_back({{"item", c["id"]},
                                    {"item_r6", c["r6"]},
                                    {"coverage", c["coverage"]},
                                    {"open_alerts", c["kind_count"]},
                                    {"attention", c["attention"]}});
    out["checklist_version"] = "R7";
    return out;
}

}  // namespace clinicwatch
