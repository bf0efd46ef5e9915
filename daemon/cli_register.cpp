// `clinicwatch register draft`: a register YAML written from the inventory. The IT contact
// reviews it (fills in roles and who is responsible, deletes what should not be there) and
// pastes it into the configuration; devices already registered keep their entries.
#include <SQLiteCpp/SQLiteCpp.h>

#include <ctime>
#include <fstream>
#include <iostream>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>

#include "daemon/cli.hpp"
#include "daemon/incidents/describe.hpp"
#include "daemon/output.hpp"
#include "daemon/report/ledger.hpp"
#include "daemon/report/template.hpp"
#include "daemon/store/store.hpp"

namespace clinicwatch {

namespace {

// A double-quoted YAML scalar: safe for any text a device announces.
std::string quoted(const std::string& s) {
    std::string out = "\"";
    for (char c : s) {
        auto u = static_cast<unsigned char>(c);
        if (c == '"' || c == '\\') {
            out.push_back('\\');
            out.push_back(c);
        } else if (u < 0x20 || u == 0x7f) {
            out.push_back(' ');
        } else {
            out.push_back(c);
        }
    }
    return out + "\"";
}

// Comment text on one line.
std::string comment(std::string s) {
    for (char& c : s)
        if (c == '\n' || c == '\r') c = ' ';
    return s;
}

std::vector<std::string> values(const std::string& json_text, bool with_source) {
    std::vector<std::string> out;
    auto list = nlohmann::json::parse(json_text, nullptr, false);
    if (!list.is_array()) return out;
    for (const auto& item : list) {
        std::string v = item.value("value", "");
        if (with_source) v += " (" + item.value("source", "") + ")";
        if (!v.empty() && std::find(out.begin(), out.end(), v) == out.end()) out.push_back(v);
    }
    return out;
}

std::string join(const std::vector<std::string>& v) {
    std::string out;
    for (const auto& s : v) out += (out.empty() ? "" : ", ") + s;
    return out;
}

// The name the device gives itself, without the mDNS ".local".
std::string suggested_name(const std::string& names_json, const std::string& mac) {
    for (auto n : values(names_json, false)) {
        if (n.size() > 6 && n.ends_with(".local")) n.resize(n.size() - 6);
        if (!n.empty()) return n;
    }
    return "device-" + mac.substr(9, 2) + mac.substr(12, 2) + mac.substr(15, 2);
}

}  // namespace

int command_register_draft(const CommonOptions& common, const RegisterDraftOptions& options) {
    Config config = resolve_config(common);
    std::string db_path = resolve_db_path(common, config);
    auto opened = open_for_incidents(db_path);
    auto& db = *opened.db;
    auto messages = load_messages(templates_dir(config), config.digest.language);
    const auto& words = messages["register_draft"];
    auto word = [&](const char* key) { return words.value(key, std::string(key)); };
    // Devices an open incident is about (not standing conditions: an old PC still belongs).
    std::map<std::string, std::string> held;  // mac -> reason
    {
        auto now = static_cast<std::int64_t>(std::time(nullptr));
        DeviceNames names(messages, load_assets(db, messages, 0, now * kMicrosPerSecond));
        for (const auto& s : current_incidents(db, config, "status != 'resolved'")) {
            if (s.incident.kind == "device-conditions" || s.incident.subject_mac.empty()) continue;
            auto d = describe_incident(s.incident, s.id, messages, names);
            held.emplace(
                s.incident.subject_mac,
                render_string(word("open_incident"), {{"id", s.id}, {"title", d["title"]}}));
        }
    }
    SQLite::Statement st(db,
                         "SELECT mac, vlan, vendor, randomized_mac, addresses, names, first_seen, "
                         "last_seen, registered, register_name, role, responsible FROM assets "
                         "ORDER BY registered DESC, first_seen, mac");
    std::ostringstream y;
    y << render_string(word("header"), {{"db", comment(db_path)}}) << "\n"
      << "register:\n";
    std::vector<std::string> seen;
    int written = 0;
    while (st.executeStep()) {
        std::string mac = st.getColumn(0).getString();
        // One entry per MAC: the register does not distinguish VLANs.
        if (std::find(seen.begin(), seen.end(), mac) != seen.end()) continue;
        seen.push_back(mac);
        std::string vendor = st.getColumn(2).getString();
        bool randomized = st.getColumn(3).getInt() != 0;
        bool registered = st.getColumn(8).getInt() != 0;
        std::string names = st.getColumn(5).getString();
        std::string name = registered && !st.getColumn(9).getString().empty()
                               ? st.getColumn(9).getString()
                               : suggested_name(names, mac);
        auto hold = held.find(mac);
        bool commented = (randomized && !registered) || (hold != held.end() && !registered);
        const char* lead = commented ? "  # " : "  ";
        y << "\n";
        if (hold != held.end() && !registered) y << "  # !! " << comment(hold->second) << "\n";
        y << "  # " << word("vendor") << ": "
          << comment(vendor.empty()
                         ? (randomized ? word("randomized") : messages.value("unknown", ""))
                         : vendor)
          << "\n";
        y << "  # " << word("names") << ": " << comment(join(values(names, true))) << "\n";
        y << "  # " << word("addresses") << ": "
          << comment(join(values(st.getColumn(4).getString(), false))) << "\n";
        y << "  # " << word("seen") << " " << format_time(st.getColumn(6).getInt64()) << " .. "
          << format_time(st.getColumn(7).getInt64())
          << (registered ? "; " + word("registered") : "") << "\n";
        y << lead << "- mac: " << quoted(mac) << "\n";
        y << lead << "  name: " << quoted(name) << "\n";
        y << lead << "  role: " << quoted(st.getColumn(10).getString()) << "\n";
        y << lead << "  responsible: " << quoted(st.getColumn(11).getString()) << "\n";
        y << lead << "  notes: " << quoted(vendor) << "\n";
        ++written;
    }
    if (written == 0) y << "  []\n";
    if (options.out.empty()) {
        std::cout << y.str();
        return kExitOk;
    }
    std::ofstream out(options.out);
    if (!out || !(out << y.str()) || !out.flush()) {
        std::cerr << "clinicwatch: cannot write " << options.out << "\n";
        return kExitFailure;
    }
    std::cerr << "clinicwatch: wrote " << written << " devices to " << options.out << "\n";
    return kExitOk;
}

}  // namespace clinicwatch
