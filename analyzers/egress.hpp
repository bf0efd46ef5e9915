// Traffic that crosses the clinic's LAN/WAN boundary: who talks to the internet, under which
// name, whether the device's role may, and every remote-access path in or out.
//
// Each connection across the boundary (a flow of the one flow table, FlowSlots::egress) has an
// entry here, at most policy.max_flows, which records who opened it: a SYN from inside is egress; a
// SYN from outside answered by a SYN-ACK from inside is an inbound exposure; UDP and other
// protocols go by the first packet. Each flow is evaluated once, as soon as its name is known (DNS
// answer seen on the LAN, TLS SNI or HTTP Host in the client's first bytes), and summed per asset,
// peer, port and day into the store. LAN-to-LAN handshakes are only looked at for remote-access
// ports (RDP, VNC, AnyDesk direct ...).
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "analyzers/analyzer.hpp"
#include "analyzers/bounded_table.hpp"
#include "analyzers/dns_cache.hpp"
#include "analyzers/egress_policy.hpp"
#include "analyzers/findings.hpp"
#include "analyzers/flow_entries.hpp"
#include "analyzers/internal_networks.hpp"
#include "analyzers/ipv6_lan.hpp"
#include "analyzers/local_day.hpp"
#include "analyzers/probation.hpp"
#include "analyzers/stream_reassembler.hpp"
#include "capture/protocols/quic.hpp"

namespace clinicwatch {

struct EgressSettings {
    std::vector<IpNetwork> internal_networks;  // empty = default_internal_networks()
    // The router's LAN MAC. When known, traffic between two non-internal addresses (a clinic on
    // IPv6 IPoE whose PCs hold global addresses) is placed by which side the router is on.
    std::optional<MacAddress> gateway_mac;
    // IPv6 routers and on-link prefixes learned from RAs (owned by the pipeline; may be null):
    // a global address in an on-link prefix is inside, and the learned routers' MACs place the
    // rest like gateway_mac does.
    const Ipv6Lan* ipv6_lan = nullptr;
    EgressPolicy policy;
    EgressRules rules;
};

struct FlowKey {
    IpAddress inside, outside;
    std::uint16_t inside_port = 0, outside_port = 0;
    std::uint8_t protocol = 0;
    bool operator==(const FlowKey&) const = default;
};

enum class FlowDirection : std::uint8_t { egress, inbound };

// Egress's state of one connection across the internet boundary. The connection itself is a
// Flow of the one flow table, which refers to this entry (FlowSlots::egress); the entry is closed
// (reported, its session logged) when the flow leaves the table or egress's own timeouts end it.
struct BoundaryFlow {
    FlowKey key;  // the endpoints as inside / outside
    MacAddress inside_mac;
    FlowDirection direction = FlowDirection::egress;
    bool direction_guessed = false;  // no handshake seen: guessed from the ports
    bool accepted = false;           // inbound: our side answered the SYN
    bool evaluated = false;
    bool closed = false;               // FIN or RST seen
    bool client_syn_seen = false;      // the opener's SYN: its sequence numbers are placed
    std::uint8_t client_payloads = 0;  // opener's payload packets inspected for a name
    std::uint32_t client_isn = 0;
    StreamHandle stream;  // the opener's first bytes being put in order (while unnamed)
    std::uint64_t packets = 0, bytes_out = 0, bytes_in = 0;
    std::uint64_t reported_packets = 0, reported_out = 0, reported_in = 0;
    bool reported = false;
    Timestamp first_seen = 0, last_seen = 0;
    std::string name, name_source;
    std::string application;                        // remote-access tool or risky protocol
    const RemoteAccessTool* tls_tool = nullptr;     // named by the ClientHello's ALPN
    const RemoteAccessTool* remote_tool = nullptr;  // a remote-access session (set by evaluate)
    const char* tool_by = "";                       // how: port, name or alpn
    bool session_admitted = false, session_refused = false;  // in the remote-maintenance log
    std::string verdict;  // allowed / denied / observed / inbound / pending
};

class Egress final : public Analyzer {
  public:
    using RoleOf = std::function<std::string(const MacAddress&)>;

    // `role_of` gives a device's role from the register ("" = unknown); may be empty.
    Egress(FindingSink& sink, EgressSettings settings, RoleOf role_of);
    std::string_view name() const override { return "egress"; }
    void on_packet(const Packet& packet, PacketContext& context) override;
    void on_tick(Timestamp now) override;
    void on_flow_end(Flow& flow) override;
    void on_finish(Timestamp now) override;
    void table_use(std::vector<TableUse>& out) const override;
    // The day's rows stored by an earlier run: the per-device cap on destinations a day counts
    // them, and their traffic adds to the same rows, so a restart does not start the day over.
    void restore_day_rows(const std::vector<BoundaryFlowSummary>& rows);
    // The keys of this analyzer's alerts stored by an earlier run (kind|mac|dest|port|day):
    // the per-device cap on alerted destinations a day counts them, as within one run.
    void restore_day_alerts(const std::vector<std::string>& keys);
    static const std::vector<std::string>& alert_kinds();
    // A rebuild on reload goes on where `earlier` (the analyzer it replaces, already finished)
    // left off: the day's per-device destination counts and rows, the alerts raised today and
    // their cap, and the names learned from DNS answers. Only the policy and rules are new.
    void continue_from(Egress& earlier);

    bool is_internal(const IpAddress& a) const;

    std::size_t flows() const { return entries_.size(); }
    std::size_t flow_capacity() const { return settings_.policy.max_flows; }
    std::uint64_t flow_evictions() const { return evictions_; }
    // Packets of connections not followed because every entry was taken and the per-second
    // budget of new ones was spent (the flow table keeps one-packet flows out before that).
    std::uint64_t flows_untracked() const { return new_flow_budget_.refused(); }
    const DnsNameCache& names() const { return names_; }
    std::uint64_t alerts_capped() const { return alerts_capped_; }
    std::uint64_t summaries_capped() const { return summaries_capped_; }
    std::uint64_t sessions_capped() const { return sessions_capped_; }
    // DNS answers that answered no outstanding query: not learned.
    std::uint64_t dns_unsolicited() const { return names_.unsolicited(); }
    const StreamReassembler& streams() const { return streams_; }

    // Seconds without a packet before a flow is reported and dropped.
    static constexpr Timestamp kIdleTcp = 300 * kMicrosPerSecond;
    static constexpr Timestamp kIdleOther = 120 * kMicrosPerSecond;
    // A flow without a name by then is evaluated by address only (e.g. SYNs never answered).
    static constexpr Timestamp kEvaluateAfter = 2 * kMicrosPerSecond;
    // Distinct destinations alerted per asset, alert kind and day before they are lumped
    // together, so a flood of random destinations stays a handful of alerts.
    static constexpr std::uint32_t kMaxAlertDestinations = 64;
    // Distinct peers summed per asset and day in the store before the rest are summed in one
    // "(other destinations)" row, so a flood cannot grow the database without bound.
    static constexpr std::uint32_t kMaxSummaryDestinations = 1024;
    // Remote-access sessions logged one by one per device and day (an exposed RDP port that
    // the internet keeps knocking on is a finding, not thousands of log rows).
    static constexpr std::uint32_t kMaxRemoteSessionsPerDay = 256;
    // Budgets per second of packet time for floods (see on_packet and on_boundary).
    static constexpr std::uint64_t kMaxDnsResponsesPerSecond = 500;
    static constexpr std::uint64_t kMaxNewFlowsPerSecondWhenFull = 4000;
    // The opener's payload packets read for a name before the flow is judged without one.
    static constexpr std::uint8_t kMaxClientPayloads = 12;
    // Larger datagrams are not read as QUIC Initials (those fit a path MTU; jumbo frames too).
    static constexpr std::size_t kMaxQuicDatagram = 9216;

  private:
    enum class Reading { done, wait };
    void on_boundary(const Packet& packet, PacketContext& context, bool outbound);
    // A new entry for a connection first seen with `packet`, or null when the entries are
    // all taken and the budget of new ones this second is spent. May close an old one.
    BoundaryFlow* open_entry(const Packet& packet, bool outbound, const PacketContext& context);
    // Judges the connection now if it is not yet (from what arrived of an unfinished message)
    // and lets its reassembly slot go.
    void finish_judging(BoundaryFlow& f);
    // Judges what is still unjudged, reports, logs the session as ended and frees the entry.
    void close_entry(BoundaryFlow& f);
    // The opener's TCP payload: names the flow from its first bytes, reassembled when the
    // message spans segments. `wait` while more segments are needed.
    Reading read_client_stream(BoundaryFlow& f, const Packet& packet, PacketContext& context);
    // Names the flow from the bytes at the start of the client's stream. `wait` when they are
    // the beginning of a message that continues (unless `final`). With `in_place`, `start` is
    // that packet's own payload, whose messages the context parses once for every analyzer.
    Reading name_from(Bytes start, BoundaryFlow& f, bool final, PacketContext* in_place = nullptr);
    // The opener's datagram: QUIC client Initials are decrypted and their CRYPTO frames put
    // in order until the ClientHello is whole (it may span packets). `wait` while it is not.
    Reading read_quic_initial(BoundaryFlow& f, const Packet& packet);
    void name_from_quic_hello(Bytes hello, BoundaryFlow& f);
    // A message that never completed (lost segments, the depth reached): read what arrived.
    void read_partial(const FlowKey& key, BoundaryFlow& f);
    void drop_stream(BoundaryFlow& f);
    void on_lan(const Packet& packet);
    void on_dns_answer(const dns::Message& message, const Packet& packet);
    // What in the egress policy allows `name` ("domain x", "service y"), or "" when nothing.
    std::string allow_listed(const std::string& name) const;
    void evaluate(const FlowKey& key, BoundaryFlow& flow);
    void raise(const std::string& kind, Severity severity, const FlowKey& key,
               const BoundaryFlow& flow, const std::string& what, const std::string& role,
               Timestamp ts);
    void report(const FlowKey& key, BoundaryFlow& flow);
    // Hands a remote-access session's current state to the remote-maintenance log. `ended`:
    // seen to close, gone idle or no longer followed.
    void record_session(const FlowKey& key, BoundaryFlow& flow, bool ended);
    void flush_summaries();
    void flush_alerts();

    FindingSink& sink_;
    EgressSettings settings_;
    RoleOf role_of_;
    InternalNetworks internal_;
    FlowEntries<BoundaryFlow> entries_;  // open boundary connections, at most policy.max_flows
    std::uint64_t evictions_ = 0;
    StreamReassembler streams_;
    quic::InitialDecryptor quic_;
    std::vector<quic::InitialKeys> quic_keys_;  // per stream slot: the first Initial's keys
    std::vector<std::uint8_t> quic_plain_;      // one decrypted packet
    DnsNameCache names_;
    std::unordered_map<std::string, BoundaryFlowSummary> pending_;
    BoundedTable<std::string, std::uint32_t> alert_destinations_;  // kind|mac|day -> count
    BoundedTable<std::string, Timestamp> alerted_keys_;            // alert keys raised
    BoundedTable<std::string, Timestamp> forged_alerted_;          // dns-forged-answer keys
    std::uint64_t alerts_capped_ = 0;
    PerSecondBudget dns_budget_{kMaxDnsResponsesPerSecond};
    PerSecondBudget new_flow_budget_{kMaxNewFlowsPerSecondWhenFull};
    // Repeats of an alert within the same second are summed into one update (a flood of
    // flows to one lumped key must not become a flood of store writes).
    std::unordered_map<std::string, AlertUpdate> repeats_;
    BoundedTable<std::string, std::uint32_t> summary_destinations_;  // mac|day -> count
    BoundedTable<std::string, Timestamp> summary_rows_;              // row keys admitted
    std::uint64_t summaries_capped_ = 0;
    BoundedTable<std::string, std::uint32_t> session_counts_;  // mac|day -> sessions logged
    std::uint64_t sessions_capped_ = 0;
    Timestamp next_report_ = 0, next_sweep_ = 0;
    LocalDay local_day_;  // the clinic's day of a packet time, cached
};

}  // namespace clinicwatch
