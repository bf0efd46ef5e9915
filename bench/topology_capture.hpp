// Generated captures for the network map and the mixed-segment findings (issue 18): a segment
// where a closed network without a router (192.168.10.0/24, the EHR vendor's) shares the
// broadcast domain with the internet LAN (192.168.100.0/24) and one PC holds an address in
// both; the same segment with the internet LAN only; and the synthetic clinic with its switches,
// access point and router announcing themselves (LLDP, CDP, STP) beside a foreign home router.
// Any of them can be "double-mirrored" (every frame seen twice, as when two mirror sessions
// feed one port). Deterministic: the same options give the same bytes.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "bench/clinic_capture.hpp"

namespace clinicwatch::bench {

enum class TopologyScenario {
    two_subnets,    // closed 192.168.10.0/24 + internet LAN 192.168.100.0/24, one PC in both
    single_subnet,  // the internet LAN only: nothing mixed
    clinic,         // the synthetic clinic plus LLDP/CDP/STP announcements of its equipment
};

struct TopologyCaptureOptions {
    TopologyScenario scenario = TopologyScenario::two_subnets;
    bool double_mirrored = false;
    std::int64_t start_us = 1'795'132'800'000'000;  // 2026-11-20T09:00:00+09:00
    std::int64_t duration_us = 10LL * 60 * 1'000'000;
    std::uint64_t clinic_packets = 20'000;  // clinic scenario: frames of the clinic capture
};

// What the generated segment holds, for tests to compare with.
struct TopologyTruth {
    std::uint64_t packets = 0;
    std::vector<std::string> subnets;  // "192.168.100.0/24", ...
    MacAddress router_mac;
    std::string router_name;  // clinic: as it announces itself
    MacAddress bridging_mac;  // two_subnets: the PC in both networks
    std::vector<std::string> bridging_addresses;
    std::string switch_name, switch_model, ap_name, ap_model, second_switch_bridge;
    MacAddress switch_mac, ap_mac, second_switch_mac, foreign_router_mac;
    ClinicCaptureTruth clinic;  // clinic scenario: the clinic's own truth (hosts, register)
};

TopologyTruth generate_topology_capture(const TopologyCaptureOptions& options,
                                        const FrameSink& sink);

// "two-subnets", "single-subnet", "clinic"; nothing for other names.
std::optional<TopologyScenario> parse_topology_scenario(const std::string& name);

// LLDP and CDP PDUs as equipment sends them (exposed for tests).
struct LldpAnnouncement {
    MacAddress chassis;
    std::string port_id, port_description, system_name, system_description;
    std::uint16_t capabilities = 0;  // 802.1AB bits, all enabled
    std::uint32_t management_ip = 0;
};
Frame lldp_frame(const MacAddress& src, const LldpAnnouncement& a);
struct CdpAnnouncement {
    std::string device_id, platform, software, port_id;
    std::uint32_t capabilities = 0;
    std::uint32_t address = 0;
};
Frame cdp_frame(const MacAddress& src, const CdpAnnouncement& a);
// A configuration BPDU from `bridge` naming `root` (RSTP when `rapid`).
Frame bpdu_frame(const MacAddress& src, std::uint16_t root_priority, const MacAddress& root,
                 std::uint32_t cost, std::uint16_t bridge_priority, const MacAddress& bridge,
                 std::uint16_t port_id);

}  // namespace clinicwatch::bench
