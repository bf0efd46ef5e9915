// The network itself, for checklist 2-① and the 構成図 the guideline asks for: subnets per VLAN,
// routers, DHCP servers (approved or not, with what they offered), DNS servers used, switches
// and access points that announced themselves. Language-free data; the report templates put it
// in words.
//
// Hooks for the other parts of the sensor (empty until the coordinator wires them in at the end
// of network_summary(); the templates already show them when filled):
//   ipv6.prefixes  [{prefix: "2001:db8:1::/64", vlan: 0, ...}]          IPv6 prefixes (issue 20)
//   ipv6.routers   [{address: "fe80::1", mac: "...", vendor: "..."}]    IPv6 routers (issue 20)
//   map_svg        "<svg ...>...</svg>" or null: the network map (issue 18), inserted into the
//                  HTML unescaped, so its producer must escape every name it draws
//   server_availability [{server: "EHR-SRV", service: "smb", availability: "99.8%",
//                  outages: 2, ...}]                                    service health (issue 22)
// Language-free codes belong in these objects; a display string needed by the HTML goes in a
// field the template reads (as above), and the JSON export copies ipv6 and server_availability
// as they are (docs/report.schema.json lets their items be any object for now).
#pragma once

#include <string>

#include <nlohmann/json.hpp>

#include "capture/packet.hpp"
#include "daemon/config.hpp"

namespace SQLite {
class Database;
}

namespace clinicwatch {

// `assets` from load_assets(), `alerts` from load_alerts() (the report's period).
nlohmann::json network_summary(SQLite::Database& db, const Config& config,
                               const nlohmann::json& assets, const nlohmann::json& alerts,
                               Timestamp since);

}  // namespace clinicwatch
