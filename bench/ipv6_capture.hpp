// A deterministic synthetic capture of a dual-stack clinic on IPv6 IPoE (FLET'S with v6プラス
// or transix): the Yamaha router advertises the ISP's /64 (RA with the O flag, RDNSS, MTU 1460,
// stateless DHCPv6 for DNS), Windows PCs take SLAAC addresses with rotating temporary ones, and
// much of the internet traffic leaves as IPv6: DNS AAAA answers, HTTPS with TLS SNI and QUIC to
// Microsoft, the EHR server uploading to a cloud, a TeamViewer session, and an internet host
// completing a handshake with the NAS's DSM port (no NAT on IPv6). Optionally the incidents: a
// home router sending its own RAs and answering DHCPv6, an RA impersonating the router's
// link-local address from another MAC, a "kill the router" RA (lifetime 0), NDP spoofing of the
// router's link-local address (unsolicited NAs) and, from another device, of its global address
// (duplicate address detection, then NAs). QUIC to Microsoft is real QUIC v1: the client's
// Initial carries its ClientHello (SNI) under the Initial keys, as a browser's does. The real
// router renumbers the LAN part way through (its prefix changes), which must raise nothing.
// Frames are few (a few thousand), so tests make it in-process.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "bench/clinic_capture.hpp"
#include "bench/frame_builder.hpp"

namespace clinicwatch::bench {

struct Ipv6CaptureOptions {
    std::uint64_t seed = 1;
    std::int64_t start_us = 1'795'129'200'000'000;  // 2026-11-20T08:00:00+09:00
    std::int64_t duration_us = 20LL * 60 * 1'000'000;
    bool incidents = true;    // the home router and the three attacks
    bool renumbering = true;  // the router moves the LAN to a new /64 at 60% of the period
    // Seconds between the router's periodic RAs (Yamaha's default maximum is 600; shorter
    // here so a short capture holds several).
    int ra_interval_seconds = 60;
    // Seconds between a Windows PC's new temporary addresses (a day on Windows; short here).
    int temporary_rotation_seconds = 240;
    // The router's RAs change their flags at 80% of the period (O -> M O: a vendor turning on
    // DHCPv6 address assignment), which is one ra-flags-changed finding about the router.
    bool router_flags_change = false;
};

struct Ipv6TruthHost {
    MacAddress mac;
    std::uint32_t ipv4 = 0;
    std::string hostname, role, responsible;
    bool registered = true;
    std::string link_local;
    std::vector<std::string> stable;     // one per prefix the host lived in
    std::vector<std::string> temporary;  // every temporary address it used, in order
};

struct Ipv6TruthIncident {
    std::string kind;  // rogue-ra, ra-impersonation, ra-router-lifetime-zero, ndp-router-spoof,
                       // rogue-dhcpv6, ra-flags-changed, egress-denied, remote-access,
                       // inbound-exposure
    std::int64_t start_us = 0, end_us = 0;
    MacAddress device;  // the attacker, or the LAN device concerned
    nlohmann::json details = nlohmann::json::object();
};

struct Ipv6CaptureTruth {
    Ipv6CaptureOptions options;
    std::uint64_t packets = 0, bytes = 0;
    std::int64_t first_us = 0, last_us = 0;
    MacAddress router_mac;
    std::string router_link_local;
    std::vector<std::string> router_globals;  // prefix::1 in each prefix
    std::uint32_t router_ipv4 = 0;
    std::vector<std::string> prefixes;  // in the order the router announced them
    std::int64_t renumbered_us = 0;     // 0: no renumbering
    std::vector<Ipv6TruthHost> hosts;
    std::vector<Ipv6TruthIncident> incidents;
    // Internet names and the addresses their AAAA answers gave.
    std::vector<std::pair<std::string, std::string>> names;
    // QUIC connections: the name in the ClientHello's SNI and the server's address.
    std::vector<std::pair<std::string, std::string>> quic;
};

// Generates the capture into `sink`, frames in time order.
Ipv6CaptureTruth generate_ipv6_capture(const Ipv6CaptureOptions& options, const FrameSink& sink);

// Ground truth in the style of the clinic capture's: capture, network (router, prefixes),
// hosts (with every IPv6 address), register, incidents.
nlohmann::json ipv6_truth_json(const Ipv6CaptureTruth& truth);

}  // namespace clinicwatch::bench
