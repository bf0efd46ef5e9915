// The remote-maintenance log (checklist 2-②; guideline 第6.0版 システム運用編: keep the access
// records of remote maintenance and check them against the work plans): one row per session of
// a remote-access tool (RDP, VNC, TeamViewer, AnyDesk ...) with the device, the tool, the
// direction, the remote party (name and address), start, end, duration, bytes and whether the
// egress policy for the device's role allows it. Language-free data; the templates put it in
// words.
//
// The sessions come from the store's remote_sessions table (analyzers/egress for sessions across
// the boundary recognised by port, name or ALPN; analyzers/remote_access for LAN sessions and
// those recognised by their handshake on any port). A session still open when its run ended is
// stored with end = last packet seen and `ongoing`.
#pragma once

#include <map>
#include <string>

#include <nlohmann/json.hpp>

#include "capture/packet.hpp"

namespace SQLite {
class Database;
}

namespace clinicwatch {

// `devices`: assets_by_mac(load_assets(...)). Sessions that overlap [since, until], oldest first.
nlohmann::json remote_maintenance_log(SQLite::Database& db,
                                      const std::map<std::string, nlohmann::json>& devices,
                                      Timestamp since, Timestamp until);

}  // namespace clinicwatch
