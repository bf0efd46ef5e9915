#include "daemon/report/ledger.hpp"

#include <SQLiteCpp/SQLiteCpp.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <ctime>
#include <set>

#include "analyzers/findings.hpp"
#include "daemon/report/template.hpp"

namespace clinicwatch {

namespace {

std::string first_present(const std::set<std::string>& columns,
                          std::initializer_list<const char*> candidates) {
    for (const char* c : candidates)
        if (columns.count(c)) return c;
    return {};
}

// "[{value, ...}]" -> distinct values in order.
nlohmann::json values_of(const std::string& json_text) {
    auto out = nlohmann::json::array();
    auto list = nlohmann::json::parse(json_text, nullptr, false);
    if (!list.is_array()) return out;
    for (const auto& item : list) {
        std::string v = item.is_object() ? item.value("value", "") : "";
        if (!v.empty() && std::find(out.begin(), out.end(), v) == out.end()) out.push_back(v);
    }
    return out;
}

std::string join(const nlohmann::json& list, const char* sep = ", ") {
    std::string out;
    for (const auto& v : list) {
        std::string s = v.is_string() ? v.get<std::string>() : v.dump();
        out += (out.empty() ? "" : sep) + s;
    }
    return out;
}

// The IPv6 addresses with the kind the store judged (link-local, stable, temporary; issue 20):
// [{address, kind}] in order, each address once.
nlohmann::json ipv6_kinds_of(const std::string& json_text) {
    auto out = nlohmann::json::array();
    auto list = nlohmann::json::parse(json_text, nullptr, false);
    if (!list.is_array()) return out;
    std::vector<std::string> seen;
    for (const auto& item : list) {
        if (!item.is_object() || !item.contains("kind") || !item["kind"].is_string()) continue;
        std::string v = item.value("value", "");
        if (v.empty() || std::find(seen.begin(), seen.end(), v) != seen.end()) continue;
        seen.push_back(v);
        out.push_back({{"address", v}, {"kind", item["kind"]}});
    }
    return out;
}

// ["192.168.100.20", "2409:10:a0:1200::5（一時）"]: each IPv6 address with its kind in words,
// as the ledger shows them.
nlohmann::json addresses_labelled(const nlohmann::json& addresses, const nlohmann::json& ipv6,
                                  const nlohmann::json& messages) {
    auto out = nlohmann::json::array();
    for (const auto& v : addresses) {
        std::string s = v.is_string() ? v.get<std::string>() : v.dump();
        for (const auto& k : ipv6)
            if (k["address"] == s) {
                std::string word = messages.value("ipv6_address_kinds", nlohmann::json::object())
                                       .value(k["kind"].get<std::string>(), "");
                if (!word.empty())
                    s += messages.value("ipv6_address_kind_format", " (") + word +
                         messages.value("ipv6_address_kind_close", ")");
            }
        out.push_back(s);
    }
    return out;
}

// "2020-01-14" -> days since the epoch; nothing for other text.
std::optional<long> days_of(const std::string& date) {
    int y = 0, m = 0, d = 0, used = 0;
    if (std::sscanf(date.c_str(), "%4d-%2d-%2d%n", &y, &m, &d, &used) != 3 || used != 10)
        return std::nullopt;
    std::tm tm{};
    tm.tm_year = y - 1900;
    tm.tm_mon = m - 1;
    tm.tm_mday = d;
    return static_cast<long>(timegm(&tm) / 86400);
}

// A register key in words ("staff-phone" -> 「職員のスマートフォン」); the clinic's own words
// stay as written.
std::string in_words(const nlohmann::json& messages, const char* section, const std::string& v) {
    if (messages.contains(section) && messages[section].contains(v))
        return messages[section][v].get<std::string>();
    return v;
}

// "Windows Server 2008 R2" rather than "windows Windows Server 2008 R2": the version names the
// system where the rules give one; the family alone (in words) otherwise.
std::string os_text(const nlohmann::json& messages, const std::string& family,
                    const std::string& version) {
    std::string fam = in_words(messages, "os_families", family);
    if (version.empty()) return fam;
    std::string v = in_words(messages, "os_versions", version);
    // The rules' connecting words ("Windows 10 or 11", "Linux 4.19 and newer") in the language.
    if (messages.contains("os_words") && messages["os_words"].is_object())
        for (const auto& [from, to] : messages["os_words"].items())
            for (auto at = v.find(from); at != std::string::npos;
                 at = v.find(from, at + to.get<std::string>().size()))
                v.replace(at, from.size(), to.get<std::string>());
    auto lower = [](std::string x) {
        for (auto& c : x) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        return x;
    };
    if (family.empty() || lower(v).find(lower(family)) != std::string::npos ||
        (family == "macos" && lower(v).find("mac os") != std::string::npos) ||
        (family == "ios" && lower(v).find("ipad") != std::string::npos))
        return v;
    return fam + " " + v;
}

nlohmann::json text_or_null(const std::string& v) {
    return v.empty() ? nlohmann::json(nullptr) : nlohmann::json(v);
}

std::string column_text(SQLite::Statement& st, const std::string& name) {
    if (name.empty()) return {};
    auto col = st.getColumn(name.c_str());
    if (col.isNull()) return {};
    return col.getString();
}

}  // namespace

AssetColumns AssetColumns::detect(SQLite::Database& db) {
    std::set<std::string> columns;
    SQLite::Statement st(db, "PRAGMA table_info(assets)");
    while (st.executeStep()) columns.insert(st.getColumn(1).getString());
    AssetColumns c;
    c.name = first_present(columns, {"register_name", "registered_name", "name", "asset_name"});
    c.role = first_present(columns, {"register_role", "role"});
    c.responsible = first_present(
        columns, {"responsible_party", "responsible", "register_responsible", "owner"});
    c.registered = first_present(columns, {"registered", "in_register"});
    c.support = first_present(columns, {"os_support"});
    c.eos = first_present(
        columns, {"os_end_of_support", "os_eos", "end_of_support", "os_support_end", "eos_date"});
    return c;
}

std::string local_minute(Timestamp ts) {
    if (ts == 0) return {};
    std::time_t secs = static_cast<std::time_t>(ts / kMicrosPerSecond);
    std::tm tm{};
    localtime_r(&secs, &tm);
    char buf[32];
    std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M", &tm);
    return buf;
}

std::string local_span(const nlohmann::json& messages, Timestamp first, Timestamp last) {
    std::string from = local_minute(first), to = local_minute(last);
    if (from.size() == 16 && to.size() == 16 && from.substr(0, 10) == to.substr(0, 10))
        to = to.substr(11);
    if (from == to || to.empty() || to == from.substr(11)) return from;
    return render_string(messages.value("time_span", std::string("{{from}} to {{to}}")),
                         {{"from", from}, {"to", to}});
}

nlohmann::json load_assets(SQLite::Database& db, const nlohmann::json& messages, Timestamp since,
                           Timestamp now) {
    const std::string unknown = messages.value("unknown", "(unknown)");
    AssetColumns cols = AssetColumns::detect(db);
    SQLite::Statement st(db, "SELECT * FROM assets WHERE last_seen >= ? ORDER BY first_seen, mac");
    st.bind(1, static_cast<std::int64_t>(since));
    auto out = nlohmann::json::array();
    long today = static_cast<long>(now / kMicrosPerSecond / 86400);
    while (st.executeStep()) {
        nlohmann::json a;
        a["mac"] = st.getColumn("mac").getString();
        a["vlan"] = st.getColumn("vlan").getInt();
        std::string vendor = st.getColumn("vendor").getString();
        bool randomized = st.getColumn("randomized_mac").getInt() != 0;
        a["vendor"] = vendor.empty() ? unknown : vendor;
        a["randomized_mac"] = randomized;
        a["addresses"] = values_of(st.getColumn("addresses").getString());
        a["names"] = values_of(st.getColumn("names").getString());
        a["ipv6_addresses"] = ipv6_kinds_of(st.getColumn("addresses").getString());
        a["addresses_labelled"] = addresses_labelled(a["addresses"], a["ipv6_addresses"], messages);
        a["addresses_text"] = join(a["addresses_labelled"]);
        a["names_text"] = join(a["names"]);
        a["services"] = nlohmann::json::parse(st.getColumn("services").getString(), nullptr, false);
        if (a["services"].is_discarded()) a["services"] = nlohmann::json::array();
        a["services_text"] = join(a["services"]);
        a["evidence"] = nlohmann::json::parse(st.getColumn("evidence").getString(), nullptr, false);
        if (a["evidence"].is_discarded()) a["evidence"] = nlohmann::json::array();
        std::string family = st.getColumn("os_family").getString();
        std::string version = st.getColumn("os_version").getString();
        std::string os =
            family.empty() && version.empty() ? "" : os_text(messages, family, version);
        double confidence = st.getColumn("os_confidence").getDouble();
        a["os"] = os.empty() ? unknown : os;
        a["os_known"] = !os.empty();
        a["os_confidence"] = static_cast<int>(confidence * 100.0 + 0.5);
        std::string eos = column_text(st, cols.eos);
        std::string status = "unknown";
        if (auto d = days_of(eos))
            status = *d < today ? "past" : *d < today + 365 ? "soon" : "supported";
        // "Check": the evidence cannot tell an ended edition from a supported one; the date is
        // the earliest possible end.
        if (column_text(st, cols.support) == "check") status = "check";
        a["eos"] = eos.empty() ? unknown : eos;
        a["eos_status"] = status;
        // Unknown: the date column already says so; do not print "(unknown)" twice.
        a["eos_label"] = status == "unknown" ? "" : messages["eos"].value(status, status);
        a["eos_past"] = status == "past";
        a["eos_soon"] = status == "soon";
        a["eos_check"] = status == "check";
        Timestamp first = st.getColumn("first_seen").getInt64();
        Timestamp last = st.getColumn("last_seen").getInt64();
        a["first_seen"] = local_minute(first);
        a["last_seen"] = local_minute(last);
        a["seen"] = local_span(messages, first, last);
        a["first_seen_us"] = first;
        a["last_seen_us"] = last;
        a["frames"] = st.getColumn("frames").getInt64();
        a["bytes"] = st.getColumn("bytes").getInt64();
        std::string name = column_text(st, cols.name);
        std::string role = column_text(st, cols.role);
        std::string responsible = column_text(st, cols.responsible);
        // registered: the register's flag when the column exists, else "has a register name".
        std::string registered = "unknown";
        if (!cols.registered.empty())
            registered = column_text(st, cols.registered) == "1" ? "yes" : "no";
        else if (!cols.name.empty())
            registered = name.empty() ? "no" : "yes";
        a["registered"] = registered;
        a["registered_label"] =
            registered == "unknown" ? unknown : messages.value(registered, registered);
        a["unregistered"] = registered == "no";
        a["register_name"] = name.empty() ? unknown : name;
        a["role"] = role.empty() ? unknown : role;
        a["responsible"] = responsible.empty() ? unknown : responsible;
        // The label people recognise: the register name, else a seen host name, else the MAC.
        std::string label = !name.empty()         ? name
                            : !a["names"].empty() ? a["names"][0].get<std::string>()
                                                  : a["mac"].get<std::string>();
        a["label"] = label;
        // For print: a name wraps only between its words, never inside one ("PAC S01").
        auto words = [](const std::string& text) {
            auto list = nlohmann::json::array();
            std::size_t at = 0;
            while (at < text.size()) {
                std::size_t end = text.find(' ', at);
                if (end == std::string::npos) end = text.size();
                if (end > at) list.push_back(text.substr(at, end - at));
                at = end + 1;
            }
            return list;
        };
        a["register_name_words"] = words(a["register_name"].get<std::string>());
        a["vendor_words"] = words(a["vendor"].get<std::string>());
        a["names_words"] = nlohmann::json::array();
        for (const auto& n : a["names"]) a["names_words"].push_back({{"words", words(n)}});
        // In words for people; the register's own keys and the raw facts stay for the JSON export.
        a["role_label"] = role.empty() ? unknown : in_words(messages, "roles", role);
        a["responsible_label"] =
            responsible.empty() ? unknown : in_words(messages, "parties", responsible);
        // A staff member's own phone (or a device hiding behind a randomised MAC): counted, its
        // internet use summarised by category only, never itemised in a document handed over.
        a["personal"] = randomized || role == "staff-phone" || role == "personal-phone";
        a["raw"] = {
            {"vendor", text_or_null(vendor)},
            {"register_name", text_or_null(name)},
            {"role", text_or_null(role)},
            {"responsible", text_or_null(responsible)},
            {"os_family", text_or_null(family)},
            {"os_version", text_or_null(version)},
            {"os_confidence", os.empty() ? nlohmann::json(nullptr)
                                         : nlohmann::json(std::round(confidence * 100) / 100)},
            {"end_of_support", days_of(eos) ? nlohmann::json(eos) : nlohmann::json(nullptr)}};
        out.push_back(std::move(a));
    }
    return out;
}

std::map<std::string, nlohmann::json> assets_by_mac(const nlohmann::json& assets) {
    std::map<std::string, nlohmann::json> out;
    for (const auto& a : assets) out.emplace(a["mac"].get<std::string>(), a);
    return out;
}

nlohmann::json describe_kind(const nlohmann::json& messages, const std::string& kind) {
    if (messages.contains("kinds") && messages["kinds"].contains(kind))
        return messages["kinds"][kind];
    nlohmann::json generic = messages.value("generic_kind", nlohmann::json::object());
    nlohmann::json out;
    nlohmann::json model = {{"kind", kind}};
    for (const char* field : {"title", "what", "action"})
        out[field] = render_string(generic.value(field, std::string(kind)), model);
    return out;
}

nlohmann::json load_alerts(SQLite::Database& db, const nlohmann::json& messages,
                           const std::map<std::string, nlohmann::json>& devices,
                           const std::string& where) {
    const std::string unknown = messages.value("unknown", "(unknown)");
    SQLite::Statement st(db,
                         "SELECT id, kind, severity, subject_mac, subject, summary, first_seen, "
                         "last_seen, count, status, ended_at, revision, evidence FROM alerts "
                         "WHERE " +
                             where + " ORDER BY severity DESC, first_seen, id");
    auto out = nlohmann::json::array();
    while (st.executeStep()) {
        nlohmann::json a;
        std::string kind = st.getColumn(1).getString();
        int severity = std::clamp(st.getColumn(2).getInt(), 0, 4);
        auto sev_name = std::string(to_string(static_cast<Severity>(severity)));
        a["id"] = st.getColumn(0).getInt64();
        a["kind"] = kind;
        a["severity"] = severity;
        a["severity_name"] = sev_name;
        a["severity_label"] = messages["severity"].value(sev_name, sev_name);
        a["critical"] = severity >= static_cast<int>(Severity::critical);
        a["subject"] = st.getColumn(4).getString();
        a["summary"] = st.getColumn(5).getString();
        a["first_seen_us"] = st.getColumn(6).getInt64();
        a["last_seen_us"] = st.getColumn(7).getInt64();
        a["first_seen"] = local_minute(st.getColumn(6).getInt64());
        a["last_seen"] = local_minute(st.getColumn(7).getInt64());
        a["count"] = st.getColumn(8).getInt64();
        a["status"] = st.getColumn(9).getString();
        a["ongoing"] = st.getColumn(10).isNull();
        a["ended_at_us"] = st.getColumn(10).isNull() ? 0 : st.getColumn(10).getInt64();
        a["ended_at"] = st.getColumn(10).isNull() ? "" : local_minute(st.getColumn(10).getInt64());
        a["revision"] = st.getColumn(11).getInt64();
        a["evidence"] = nlohmann::json::parse(st.getColumn(12).getString(), nullptr, false);
        if (a["evidence"].is_discarded()) a["evidence"] = nlohmann::json::object();
        a["text"] = describe_kind(messages, kind);
        // The device: the register's view when the subject MAC is a known asset.
        nlohmann::json device = {{"name", unknown}, {"role", unknown}, {"responsible", unknown},
                                 {"ip", unknown},   {"mac", unknown},  {"known", false}};
        a["subject_mac"] = st.getColumn(3).isNull() ? nlohmann::json(nullptr)
                                                    : nlohmann::json(st.getColumn(3).getString());
        if (!st.getColumn(3).isNull()) {
            std::string mac = st.getColumn(3).getString();
            device["mac"] = mac;
            if (auto it = devices.find(mac); it != devices.end()) {
                const auto& asset = it->second;
                device["name"] = asset["label"];
                device["role"] = asset["role"];
                device["responsible"] = asset["responsible"];
                if (!asset["addresses"].empty()) device["ip"] = asset["addresses_text"];
                device["known"] = true;
            }
        }
        if (device["name"] == unknown && !a["subject"].get<std::string>().empty())
            device["name"] = a["subject"];
        a["device"] = device;
        out.push_back(std::move(a));
    }
    return out;
}

}  // namespace clinicwatch
