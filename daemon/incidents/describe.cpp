#include "daemon/incidents/describe.hpp"

#include <SQLiteCpp/SQLiteCpp.h>
#include <sqlite3.h>

#include <algorithm>
#include <ctime>

#include "analyzers/findings.hpp"
#include "daemon/report/ledger.hpp"
#include "daemon/report/template.hpp"

namespace clinicwatch {

namespace {

std::string text_of(const nlohmann::json& j, const char* field) {
    if (!j.is_object()) return {};
    auto it = j.find(field);
    return it != j.end() && it->is_string() ? it->get<std::string>() : std::string();
}

// A message text (a Mustache template) at `path` ("incidents.l2-loop.title"); empty if absent.
std::string message(const nlohmann::json& messages, std::initializer_list<const char*> path) {
    const nlohmann::json* node = &messages;
    for (const char* step : path) {
        if (!node->is_object() || !node->contains(step)) return {};
        node = &(*node)[step];
    }
    return node->is_string() ? node->get<std::string>() : std::string();
}

std::string join(const std::vector<std::string>& parts, const std::string& sep) {
    std::string out;
    for (const auto& p : parts) {
        if (p.empty()) continue;
        out += (out.empty() ? "" : sep) + p;
    }
    return out;
}

// At most `limit` names, then "ほか N台" / "and N more".
std::string names_list(const nlohmann::json& messages, const std::vector<std::string>& names,
                       std::size_t limit = 4, const char* more = "and_more") {
    std::vector<std::string> shown(
        names.begin(), names.begin() + static_cast<long>(std::min(limit, names.size())));
    std::string sep = message(messages, {"list_separator"});
    std::string out = join(shown, sep.empty() ? ", " : sep);
    if (names.size() > limit)
        out += render_string(message(messages, {more}), {{"n", names.size() - limit}});
    return out;
}

std::string translated(const nlohmann::json& messages, const char* table, const std::string& key) {
    if (key.empty()) return key;
    if (messages.contains(table) && messages[table].is_object()) {
        const auto& t = messages[table];
        if (t.contains(key) && t[key].is_string()) return t[key].get<std::string>();
    }
    return key;  // the clinic's own words stay as written
}

}  // namespace

DeviceNames::DeviceNames(const nlohmann::json& messages, const nlohmann::json& assets)
    : messages_(messages) {
    for (const auto& a : assets) {
        std::string mac = a.value("mac", "");
        by_mac_.emplace(mac, a);
        for (const auto& ip : a.value("addresses", nlohmann::json::array()))
            if (ip.is_string()) mac_by_ip_.emplace(ip.get<std::string>(), mac);
    }
}

const nlohmann::json* DeviceNames::asset(const std::string& mac) const {
    auto it = by_mac_.find(mac);
    return it == by_mac_.end() ? nullptr : &it->second;
}

std::string DeviceNames::name(const std::string& mac_in, const std::string& ip) const {
    return name(mac_in, ip, true);
}

std::string DeviceNames::name_without_address(const std::string& mac, const std::string& ip) const {
    return name(mac, ip, false);
}

std::string DeviceNames::name(const std::string& mac_in, const std::string& ip,
                              bool with_address) const {
    std::string mac = mac_in;
    if (mac.empty() && !ip.empty())
        if (auto it = mac_by_ip_.find(ip); it != mac_by_ip_.end()) mac = it->second;
    const std::string unknown = messages_.value("unknown", "(unknown)");
    const nlohmann::json* a = asset(mac);
    std::string address = ip;
    if (a) {
        if (a->value("registered", "") == "yes") {
            std::string n = a->value("register_name", "");
            if (!n.empty() && n != unknown) return n;
        }
        for (const auto& n : a->value("names", nlohmann::json::array())) {
            std::string s = n.get<std::string>();
            if (s.size() > 6 && s.ends_with(".local")) s.resize(s.size() - 6);
            if (!s.empty()) return s;
        }
        if (address.empty() && !a->value("addresses", nlohmann::json::array()).empty())
            address = (*a)["addresses"][0].get<std::string>();
    }
    std::string vendor = a ? a->value("vendor", "") : "";
    if (vendor == unknown) vendor.clear();
    if (a && a->value("randomized_mac", false)) vendor.clear();
    nlohmann::json model = {{"vendor", vendor}, {"ip", address.empty() ? mac : address}};
    std::string tmpl = message(
        messages_,
        {vendor.empty() ? (with_address ? "device_unknown_maker" : "device_unknown_maker_only")
                        : (with_address ? "device_by_maker" : "device_by_maker_only")});
    if (mac.empty() && address.empty()) return unknown;
    return render_string(tmpl, model);
}

std::string DeviceNames::role(const std::string& mac) const {
    const nlohmann::json* a = asset(mac);
    std::string r = a ? a->value("role", "") : "";
    if (r == messages_.value("unknown", "(unknown)")) return {};
    return translated(messages_, "roles", r);
}

std::string DeviceNames::responsible(const std::string& mac) const {
    const nlohmann::json* a = asset(mac);
    std::string r = a ? a->value("responsible", "") : "";
    if (r == messages_.value("unknown", "(unknown)")) return {};
    return translated(messages_, "parties", r);
}

std::string DeviceNames::service_phrase(const std::string& mac) const {
    const nlohmann::json* a = asset(mac);
    std::string role = a ? a->value("role", "") : "";
    std::string phrase =
        role.empty() ? "" : message(messages_, {"health", "services", role.c_str()});
    return phrase.empty() ? message(messages_, {"health", "services", "default"}) : phrase;
}

std::string severity_bucket(int severity) {
    if (severity >= static_cast<int>(Severity::critical)) return "critical";
    if (severity >= static_cast<int>(Severity::medium)) return "attention";
    return "info";
}

nlohmann::json describe_incident(const Incident& in, std::int64_t id,
                                 const nlohmann::json& messages, const DeviceNames& names) {
    const nlohmann::json& f = in.facts;
    std::string kind = in.kind;
    bool grouped = messages.contains("incidents") && messages["incidents"].contains(kind);
    auto text = [&](const char* field) {
        std::string t = grouped ? message(messages, {"incidents", kind.c_str(), field})
                                : message(messages, {"kinds", kind.c_str(), field});
        if (t.empty() && !grouped) t = message(messages, {"generic_kind", field});
        return t;
    };
    std::string device_mac = in.subject_mac;
    if (device_mac.empty()) device_mac = text_of(f, "device_mac");
    if (device_mac.empty()) device_mac = text_of(f, "asset_mac");
    std::string device_ip = text_of(f, "device_ip");
    if (device_ip.empty()) device_ip = text_of(f, "asset_ip");
    if (device_ip.empty()) device_ip = text_of(f, "first_address");

    // The model the message templates see: the facts, plus names and lists in words.
    nlohmann::json m = f;
    m["kind"] = kind;
    // A device on somebody else's address (a takeover, a conflict) is told apart by its MAC.
    // So is a device sending IPv6 router messages from the router's address (issue 20).
    bool by_mac = kind == "gateway-takeover" || kind == "ip-conflict" || kind == "rogue-ra" ||
                  kind == "ra-impersonation" || kind == "ra-router-lifetime-zero" ||
                  kind == "ndp-router-spoof" || kind == "rogue-dhcpv6";
    auto mac_hint = [&](const std::string& mac) {
        return render_string(message(messages, {"mac_hint"}), {{"mac", mac}});
    };
    if (by_mac && !device_mac.empty()) device_ip = mac_hint(device_mac);
    m["device"] = device_mac.empty() && device_ip.empty() ? message(messages, {"whole_lan"})
                                                          : names.name(device_mac, device_ip);
    auto named = [&](const char* field, bool are_macs) {
        std::vector<std::string> out;
        for (const auto& v : f.value(field, nlohmann::json::array()))
            if (v.is_string())
                out.push_back(!are_macs ? v.get<std::string>()
                              : by_mac  ? names.name(v.get<std::string>(), mac_hint(v))
                                        : names.name(v.get<std::string>()));
        return out;
    };
    auto list_text = [&](const char* field, bool are_macs) {
        return names_list(messages, named(field, are_macs));
    };
    m["server_ips_text"] = list_text("server_ips", false);
    m["gateway_text"] = list_text("gateway_claims", false);
    m["offered_text"] = list_text("offered", false);
    m["ips_text"] = list_text("ips", false);
    m["affected_text"] = list_text("affected", false);
    m["sources_text"] = list_text("sources", false);
    m["sources_count"] = f.value("sources", nlohmann::json::array()).size();
    m["ports_text"] = list_text("ports", false);
    m["applications_text"] = list_text("applications", false);
    m["prefixes_text"] = list_text("prefixes", false);
    std::string router_mac = text_of(f, "router_mac");
    m["router"] = router_mac.empty() ? "" : names.name(router_mac);
    m["dns_text"] = list_text("dns", false);
    m["hosts_text"] = names_list(messages, named("hosts", true), 4, "and_more_devices");
    m["hosts_count"] = f.value("hosts", nlohmann::json::array()).size();
    m["bridges_text"] = list_text("bridges", true);
    m["names_text"] = list_text("macs", true);
    // Mixed segments (issue 18): the networks, and the devices joining them by name.
    m["networks_text"] = list_text("networks_list", false);
    {
        std::vector<std::string> joining;
        auto macs = f.value("joining_macs", nlohmann::json::array());
        auto ips = f.value("joining_addresses", nlohmann::json::array());
        for (std::size_t i = 0; i < macs.size(); ++i)
            if (macs[i].is_string())
                joining.push_back(
                    names.name(macs[i].get<std::string>(), i < ips.size() && ips[i].is_string()
                                                               ? ips[i].get<std::string>()
                                                               : std::string()));
        m["joining_text"] = names_list(messages, joining, 4, "and_more_devices");
    }
    std::string newcomer = text_of(f, "newcomer");
    m["newcomer_name"] = newcomer.empty() ? "" : names.name(newcomer, mac_hint(newcomer));
    m["minutes"] =
        std::max<std::int64_t>(1, (in.last_seen - in.first_seen) / (60 * kMicrosPerSecond));
    m["ongoing"] = in.ongoing;
    m["randomized_summary"] = f.contains("devices_total");
    std::string app = text_of(f, "application");
    if (app.empty()) app = text_of(f, "tool");
    m["app"] = app;
    std::string peer = text_of(f, "destination_name");
    if (peer.empty()) peer = text_of(f, "destination_ip");
    if (peer.empty()) peer = text_of(f, "client_ip");
    m["peer"] = peer;
    m["lan_scope"] = text_of(f, "scope") == "lan";
    // Outages (issue 22): the clients left without an answer, the cause in words.
    m["clients_text"] = names_list(messages, named("clients", true), 4, "and_more_devices");
    m["clients_count"] = f.value("clients", nlohmann::json::array()).size();
    m["refused"] = text_of(f, "cause") == "refused";
    m["service_phrase"] = names.service_phrase(device_mac);
    m["failing"] = text_of(f, "cause") == "failing";
    m["out_of_addresses"] = text_of(f, "cause") == "out-of-addresses";
    std::string loop_cause = text_of(f, "loop_cause");
    m["loop_cause"] = !loop_cause.empty();
    m["loop_cause_text"] =
        loop_cause.empty() ? "" : message(messages, {"kinds", loop_cause.c_str(), "title"});
    {
        std::string from = local_minute(in.first_seen), to = local_minute(in.last_seen);
        m["from_time"] = from.size() == 16 ? from.substr(11) : from;
        m["to_time"] = to.size() == 16 ? to.substr(11) : to;
    }

    nlohmann::json conditions = nlohmann::json::array();
    std::vector<std::string> short_names;
    for (const auto& c : f.value("conditions", nlohmann::json::array())) {
        std::string ck = c.value("kind", "");
        nlohmann::json cm = c;
        std::string os = text_of(c, "os");
        std::string or_word = message(messages, {"or_word"});
        for (auto at = os.find(" or "); !or_word.empty() && at != std::string::npos;
             at = os.find(" or ", at + or_word.size()))
            os.replace(at, 4, or_word);
        cm["os"] = os;
        std::string settle = text_of(c, "settle");
        cm["settle_text"] = settle.empty() ? "" : message(messages, {"settle", settle.c_str()});
        std::string line = render_string(message(messages, {"conditions", ck.c_str()}), cm);
        std::string short_name = message(messages, {"condition_names", ck.c_str()});
        conditions.push_back({{"kind", ck}, {"text", line}, {"name", short_name}});
        if (std::find(short_names.begin(), short_names.end(), short_name) == short_names.end())
            short_names.push_back(short_name);
    }
    std::string sep = message(messages, {"list_separator"});
    m["conditions_short"] = join(short_names, sep.empty() ? ", " : sep);

    nlohmann::json out;
    out["id"] = id;
    out["key"] = in.key;
    out["kind"] = kind;
    auto sev_name = std::string(to_string(static_cast<Severity>(std::clamp(in.severity, 0, 4))));
    out["severity"] = in.severity;
    out["severity_name"] = sev_name;
    out["severity_label"] = messages["severity"].value(sev_name, sev_name);
    std::string bucket = severity_bucket(in.severity);
    out["bucket"] = bucket;
    out["bucket_label"] = message(messages, {"buckets", bucket.c_str()});
    out["critical"] = bucket == "critical";
    out["standing"] = kind == "device-conditions";
    out["device"] = m["device"];
    out["device_mac"] = device_mac;
    out["device_role"] = names.role(device_mac);
    out["title"] = render_string(text("title"), m);
    out["detail"] = render_string(text("detail"), m);
    out["action"] = render_string(text("action"), m);
    // One line for the top of the digest ("08:10～08:15、… が応答しませんでした"), where the kind
    // has one (outages).
    out["headline"] = render_string(text("headline"), m);
    // Whom to call: the network vendor, the clinic, or the device's responsible party from the
    // register (the network vendor when the register names nobody).
    std::string party_key = text("party");
    // An outage a loop caused is the network vendor's, whoever looks after the server.
    if (m.value("loop_cause", false)) party_key = "network";
    std::string party;
    if (party_key == "device") {
        party = names.responsible(device_mac);
        if (party.empty()) party = message(messages, {"party_names", "device"});
    } else if (party_key == "device_or_network") {
        party = names.responsible(device_mac);
        if (party.empty()) party = message(messages, {"party_names", "network"});
    } else {
        party =
            message(messages, {"party_names", party_key.empty() ? "network" : party_key.c_str()});
    }
    out["party"] = party;
    out["conditions"] = conditions;
    out["conditions_short"] = m["conditions_short"];
    out["when"] = local_span(messages, in.first_seen, in.last_seen);
    out["first_seen"] = local_minute(in.first_seen);
    out["last_seen"] = local_minute(in.last_seen);
    out["first_seen_us"] = in.first_seen;
    out["last_seen_us"] = in.last_seen;
    out["ongoing"] = in.ongoing;
    out["status"] = in.status;
    out["alerts"] = in.alerts;
    out["alert_count"] = in.alerts.size();
    return out;
}

std::vector<StoredIncident> current_incidents(SQLite::Database& db, const Config& config,
                                              const std::string& where) {
    auto messages = load_messages(templates_dir(config), config.digest.language);
    auto now = static_cast<std::int64_t>(std::time(nullptr));
    auto assets = load_assets(db, messages, 0, now * kMicrosPerSecond);
    DeviceNames names(messages, assets);
    auto title_of = [&](const Incident& in) {
        return describe_incident(in, 0, messages, names)["title"].get<std::string>();
    };
    bool writable = sqlite3_db_readonly(db.getHandle(), "main") == 0;
    if (writable && has_incident_tables(db)) {
        IncidentBook book(db);
        book.refresh(title_of, now);
        return book.load(where);
    }
    std::vector<StoredIncident> out;
    for (auto& in : correlate(read_alerts(db))) {
        if (where != "1" && in.status == "resolved") continue;
        StoredIncident s;
        s.title = title_of(in);
        s.revision = 1;
        s.incident = std::move(in);
        out.push_back(std::move(s));
    }
    return out;
}

}  // namespace clinicwatch
