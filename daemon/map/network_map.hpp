// The network map (issue 18): the topology the sensor stored (topology table), the devices of
// the inventory placed in their networks with their register roles, drawn as an SVG (our own
// layout, no fonts or scripts from outside) or written as Graphviz DOT for vendors who edit the
// drawing. For the report: network_summary() is the plain data of the "network summary", and
// network_map_svg() the drawing to embed.
#pragma once

#include <string>

#include <nlohmann/json.hpp>

#include "capture/packet.hpp"

namespace SQLite {
class Database;
}

namespace clinicwatch {

// Plain data, language-independent except for device names and role labels (from `messages`,
// load_messages() output). Times are packet time, microseconds. Fields:
//   from_us, to_us: the period (elements first seen inside it, after the sensor's first minute,
//     minutes, are "new": a foreign router plugged in meanwhile)
//   routers[]: {mac, name, ip, internet, serves[], between[], foreign, new, evidence[],
//     first_seen_us, last_seen_us, model}
//   dhcp_servers[]: {mac, name, server_ip, hands_out[], routers[], foreign, new}
//   switches[], access_points[]: {key, mac, name, model, ports[], addresses[], bridge_id,
//     is_root, root, evidence[], new, first_seen_us, last_seen_us}
//   root_bridges[]: bridge ids ("32768/00:1a:eb:..") ever root; root_bridge: the latest
//   segments[]: {vlan, networks[]: {network, name, closed, internet, has_router, seen_by[],
//     devices[]: {mac, name, ip, role, role_label, registered, unregistered, eos_past,
//     eos_check, ehr_server, modality, joining, new}}}
//   joining[]: {mac, name, addresses[], networks[], intended}
//   mixed: true when a segment holds more than one network
nlohmann::json network_summary(SQLite::Database& db, const nlohmann::json& messages,
                               Timestamp from = 0, Timestamp to = 0);

// What changed in the topology since `since` (packet time), one line each in the language of
// `messages`: a new switch or access point, a new network, a new root bridge. Elements of the
// sensor's own first minute are not changes. [{"kind", "text"}] for the digest.
nlohmann::json topology_changes(SQLite::Database& db, const nlohmann::json& messages,
                                Timestamp since);

// The map of a summary as a standalone SVG document (UTF-8), labels from messages["map"].
std::string network_map_svg(const nlohmann::json& summary, const nlohmann::json& messages);
// The same as a Graphviz DOT graph.
std::string network_map_dot(const nlohmann::json& summary, const nlohmann::json& messages);

}  // namespace clinicwatch
