// The network itself, for checklist 2-① and the 構成図 the guideline asks for: subnets per VLAN,
// routers, DHCP servers (approved or not, with what they offered), DNS servers used, switches
// and access points that announced themselves. Language-free data; the report templates put it
// in words.
//
// Hooks for the other parts of the sensor (filled where the store has the facts; empty until then):
//   ipv6.prefixes / ipv6.routers  IPv6 prefixes and routers from RA/NDP/DHCPv6 (issue 20)
//   map_svg                       the network map as an SVG string (issue 18)
//   server_availability           service health per server (issue 22)
// Each is a plain field of the returned object; the coordinator wires the providers in
// network_summary() at merge (see the comments there).
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
