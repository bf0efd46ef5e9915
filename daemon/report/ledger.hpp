// Reading the asset ledger and the alerts out of the database in the shape the report and the
// digest show them: plain words, the clinic's register fields, localised labels. Columns added
// by later schema versions (register name, role, responsible party, OS end of support) are read
// when present and shown as "(unknown)" otherwise.
#pragma once

#include <map>
#include <string>

#include <nlohmann/json.hpp>

#include "capture/packet.hpp"

namespace SQLite {
class Database;
}

namespace clinicwatch {

// Which optional asset columns this database has (PRAGMA table_info).
struct AssetColumns {
    std::string name, role, responsible, registered, eos;  // column names; empty = absent
    std::string support;  // the analyzer's verdict (past, check ...), when present
    static AssetColumns detect(SQLite::Database& db);
};

// Assets seen at or after `since` (0 = all), each an object with display fields (mac, vendor,
// addresses, names, os, os_confidence, eos, eos_status, first_seen, last_seen, registered,
// register_name, role, responsible, services ...). `messages` is load_messages() output.
nlohmann::json load_assets(SQLite::Database& db, const nlohmann::json& messages, Timestamp since,
                           Timestamp now);

// mac -> asset object, for describing an alert's device.
std::map<std::string, nlohmann::json> assets_by_mac(const nlohmann::json& assets);

// Alerts matching `where` (an SQL condition over the alerts table, no user input), described
// for people: kind title, what happened, what to do, the device, times, severity label.
nlohmann::json load_alerts(SQLite::Database& db, const nlohmann::json& messages,
                           const std::map<std::string, nlohmann::json>& devices,
                           const std::string& where);

// {title, what, action} for an alert kind; unknown kinds get the generic text.
nlohmann::json describe_kind(const nlohmann::json& messages, const std::string& kind);

// "2026-11-20 08:00" in the process's local time zone (set from digest.timezone).
std::string local_minute(Timestamp ts);
// "2026-11-20 08:10～08:11" (the messages' time_span): the day once when both ends fall on it,
// one time when they are the same minute.
std::string local_span(const nlohmann::json& messages, Timestamp first, Timestamp last);

}  // namespace clinicwatch
