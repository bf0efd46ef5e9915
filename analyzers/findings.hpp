// What analyzers produce: alerts (deduplicated by key) and minute statistics. Analyzers hand
// them to a FindingSink; the store writes them in batches.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "capture/address.hpp"
#include "capture/packet.hpp"

namespace clinicwatch {

enum class Severity : int { info = 0, low = 1, medium = 2, high = 3, critical = 4 };
std::string_view to_string(Severity s);
std::optional<Severity> parse_severity(std::string_view text);

// A device as alert keys name it: its MAC, or its address where the capture has no MACs (raw
// IP, loopback), so that two devices of such a capture never share a key.
inline std::string device_key(const MacAddress& mac, const IpAddress& ip) {
    return mac.is_zero() ? ip.to_string() : mac.to_string();
}

// One alert, or an update to it. The store merges updates with the same key: first_seen is
// kept, last_seen and severity move forward, count adds up, evidence is replaced when given.
// A loop that lasts an hour is one alert with a start, an end, a peak and a count.
struct AlertUpdate {
    std::string kind;  // e.g. "unregistered-device", "l2-loop"
    std::string key;   // dedup key: kind + subject (+ incident start where incidents repeat)
    Severity severity = Severity::medium;
    std::optional<MacAddress> subject_mac;
    std::string subject;  // human-readable subject: an address, a name, "LAN"
    std::string summary;  // one line in plain words
    Timestamp first_seen = 0;
    Timestamp last_seen = 0;
    std::uint64_t count = 1;  // occurrences added by this update
    nlohmann::json evidence;  // null = keep what is stored
    bool ended = false;       // the incident is over (a loop stopped); the alert stays open
};

// Alert kinds that are episodes with a start and an end (a loop, a storm, a flood, a capture
// gap) rather than standing facts. A run that stops cleanly ends its open episodes; one that was
// killed leaves them open, and the next start ends them where they were last seen.
bool is_episode_kind(std::string_view kind);
const std::vector<std::string>& episode_kinds();

// One minute of network health (packet time).
struct MinuteStats {
    Timestamp minute = 0;  // start of the minute, microseconds
    std::uint64_t frames = 0, bytes = 0;
    std::uint64_t broadcast_frames = 0, multicast_frames = 0;
    std::uint64_t undecodable_frames = 0;
    std::uint64_t capture_drops = 0, ring_drops = 0;
    std::uint64_t active_hosts = 0;
};

// One minute of one server's health as its clients saw it (issue 22): TCP handshakes, DNS
// answers, DHCP offers and ARP replies, counted by analyzers/service_health. Zero where the
// server does not offer that service.
struct ServiceMinute {
    Timestamp minute = 0;  // start of the minute, microseconds
    IpAddress server;
    MacAddress server_mac;
    std::uint32_t clients = 0;         // distinct clients that asked something
    std::uint32_t failed_clients = 0;  // of them, left without any answer this minute
    // TCP
    std::uint32_t tcp_attempts = 0, tcp_handshakes = 0, tcp_unanswered = 0, tcp_refused = 0;
    std::uint64_t tcp_handshake_us = 0;  // sum over the handshakes (SYN -> SYN-ACK)
    std::uint32_t tcp_data_segments = 0, tcp_retransmissions = 0, tcp_zero_windows = 0;
    std::uint32_t tcp_peak_mbps = 0;  // fastest burst of 256 KB to or from the server
    // DNS
    std::uint32_t dns_queries = 0, dns_answers = 0, dns_timeouts = 0;
    std::uint32_t dns_servfail = 0, dns_refused = 0, dns_nxdomain = 0;
    std::uint64_t dns_answer_us = 0;  // sum over the answers
    // DHCP
    std::uint32_t dhcp_discovers = 0, dhcp_requests = 0, dhcp_offers = 0, dhcp_acks = 0,
                  dhcp_naks = 0, dhcp_unanswered_clients = 0;
    // ARP (requests for this server's address)
    std::uint32_t arp_requests = 0, arp_unanswered = 0;
};

// Traffic crossing the LAN/WAN boundary, summed per internal asset, peer, port, protocol,
// direction and day. The store adds the counts to what it holds for the same key.
struct BoundaryFlowSummary {
    MacAddress mac;
    std::string day;            // YYYY-MM-DD, local time of the sensor
    std::string direction;      // "egress" (opened from inside) or "inbound" (opened from outside)
    IpAddress address;          // the outside peer
    std::string name;           // the peer's name (DNS answer, TLS SNI, HTTP Host); may be empty
    std::string name_source;    // "dns", "tls-sni", "http-host" or ""
    std::uint16_t port = 0;     // the service port (the peer's for egress, ours for inbound)
    std::uint8_t protocol = 0;  // IP protocol number
    std::string application;    // remote-access tool or risky protocol, if recognised
    std::string verdict;        // allowed, denied, observed, inbound
    std::uint64_t flows = 0, packets = 0, bytes_out = 0, bytes_in = 0;
    Timestamp first_seen = 0, last_seen = 0;
};

// One element of the network's topology as the mirror port showed it (issue 18): a subnet, a
// router, a DHCP server, a switch (spanning-tree bridge), a device announcing itself (LLDP,
// CDP), the root bridge, a device holding addresses in two networks or routing between them.
// The store keeps one row per (kind, vlan, key): attributes merged, first/last seen widened.
struct TopologyElement {
    std::string kind;  // subnet, router, dhcp-server, bridge, root-bridge, announced, multi-homed,
                       // routing-device
    std::uint16_t vlan = 0;
    std::string key;                                       // "192.168.100.0/24", a MAC, a bridge id
    nlohmann::json attributes = nlohmann::json::object();  // name, model, ports, networks ...
    nlohmann::json evidence = nlohmann::json::array();     // how it was seen: "arp", "dhcp" ...
    Timestamp first_seen = 0, last_seen = 0;
};

// One session of a remote-access tool (RDP, VNC, TeamViewer, AnyDesk ...) for the remote-
// maintenance log (checklist 2-②): who, with which tool, with whom, from when to when, how
// much. The same session is handed over again as it goes on (same `key`); the store keeps the
// latest state, so a session still open when a run ends stays with end = last seen, ongoing.
struct RemoteSession {
    std::string key;           // the session's identity across updates
    MacAddress mac;            // the clinic's device (for LAN sessions: the one that accepted)
    IpAddress address;         // its address in the session
    std::string tool;          // the tool's name from rules/remote-access.yaml
    std::string direction;     // "egress", "inbound" or "lan"
    IpAddress remote_address;  // the other party
    std::optional<MacAddress> remote_mac;  // LAN sessions: the other device
    std::string remote_name;       // the remote party's name (DNS answer, TLS SNI), may be empty
    std::uint16_t port = 0;        // the service port (the tool's side)
    std::uint8_t protocol = 0;     // IP protocol number
    Timestamp start = 0, end = 0;  // first and last packet seen
    std::uint64_t bytes_out = 0, bytes_in = 0;  // from and to the clinic's device
    std::uint64_t packets = 0;
    std::string verdict;        // egress policy: allowed, denied, observed, inbound; "lan"
    std::string recognised_by;  // port, name, alpn, handshake, framing
    bool ongoing = true;        // not seen to end (FIN/RST or idle) when handed over
};

// The identity of a remote-access session, the same from every unit that follows it (egress by
// port or name, remote-access-sessions by handshake): scope, protocol, the clinic's side first
// (for LAN sessions the side that accepted), the other side, the day it started.
std::string remote_session_key(std::string_view scope, std::uint8_t protocol, const IpAddress& ours,
                               std::uint16_t our_port, const IpAddress& theirs,
                               std::uint16_t their_port, std::string_view day);

class FindingSink {
  public:
    virtual ~FindingSink() = default;
    virtual void alert(AlertUpdate update) = 0;
    virtual void minute(const MinuteStats& stats) = 0;
    virtual void boundary_flows(const std::vector<BoundaryFlowSummary>& rows) { (void)rows; }
    virtual void service_minutes(const std::vector<ServiceMinute>& rows) { (void)rows; }
    virtual void topology(const std::vector<TopologyElement>& elements) { (void)elements; }
    virtual void remote_session(const RemoteSession& session) { (void)session; }
};

}  // namespace clinicwatch
