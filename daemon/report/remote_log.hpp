// The remote-maintenance log (checklist 2-②; guideline 第6.0版 システム運用編: keep the access
// records of remote maintenance and check them against the work plans): one row per session of
// a remote-access tool (RDP, VNC, TeamViewer, AnyDesk ...) with the device, the tool, the
// direction, the remote party, start, end, duration, bytes and whether the egress policy for the
// device's role allows it. Language-free data; the templates put it in words.
//
// What the store holds: boundary flows are summarised per device, peer, port and day, so
// sessions of one device to the same party on the same day share a row (`sessions` > 1; start
// and end are then the first start and the last end). LAN sessions come from the remote-access
// alerts (no byte counts for them).
#pragma once

#include <map>
#include <string>

#include <nlohmann/json.hpp>

#include "capture/packet.hpp"
#include "daemon/config.hpp"

namespace SQLite {
class Database;
}

namespace clinicwatch {

// `devices`: assets_by_mac(load_assets(...)); `alerts`: load_alerts(...) of the period.
nlohmann::json remote_maintenance_log(SQLite::Database& db, const Config& config,
                                      const std::map<std::string, nlohmann::json>& devices,
                                      const nlohmann::json& alerts, Timestamp since);

}  // namespace clinicwatch
