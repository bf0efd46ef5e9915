// Remote-access sessions and VPN tunnels recognised by their protocol, on any port: the first
// bytes of RDP (X.224 Connection Request/Confirm), VNC (the RFB version banner), SSH (its
// banner), Radmin, NoMachine, OpenVPN, WireGuard, IKE, L2TP and PPTP, and the framing of
// protocols whose every message shows it (TeamViewer, RDP without TLS, OpenVPN over TCP,
// WireGuard transport data; IKE liveness, L2TP HELLO, PPTP echo messages), so that a session on
// a non-standard port, or one already running when the sensor starts, is found. Also sessions
// on a tool's known port inside the LAN seen without their handshake (capture started
// mid-session). What to look for is data: rules/remote-access.yaml `handshakes`.
//
// Egress already reports boundary sessions on known ports and names; this unit reports the
// rest. LAN sessions use egress's alert key, so one session found both ways is one alert.
#pragma once

#include <array>
#include <string>
#include <vector>

#include "analyzers/analyzer.hpp"
#include "analyzers/bounded_table.hpp"
#include "analyzers/egress_policy.hpp"
#include "analyzers/findings.hpp"
#include "analyzers/flow_entries.hpp"
#include "analyzers/internal_networks.hpp"

namespace clinicwatch {

class RemoteAccessSessions final : public Analyzer {
  public:
    RemoteAccessSessions(FindingSink& sink, const std::vector<IpNetwork>& internal_networks,
                         EgressRules rules);
    std::string_view name() const override { return "remote-access-sessions"; }
    void on_packet(const Packet& packet, PacketContext& context) override;
    void on_tick(Timestamp now) override;
    void on_flow_end(Flow& flow) override;
    void on_finish(Timestamp now) override;
    void table_use(std::vector<TableUse>& out) const override;

    // Sessions followed at once (entries of flows of the one flow table).
    static constexpr std::size_t kSessionSlots = 4096;
    // Payload packets of a connection searched for a tool's handshake or framing: one that has
    // shown none by then is not searched further (a bulk transfer is most of a LAN's packets).
    // Framing recognisers need a match in one packet of sixteen, handshakes come first.
    static constexpr std::uint8_t kInspectedPackets = 64;
    // A session unused this long may give way to another without counting it.
    static constexpr Timestamp kSessionIdle = 120 * kMicrosPerSecond;
    // Sessions logged one by one per device and day (see Egress::kMaxRemoteSessionsPerDay).
    static constexpr std::uint32_t kMaxLoggedPerDay = 256;

  private:
    // A connection that showed a tool's handshake or framing (or runs on its port inside the
    // LAN), from then until its flow leaves the flow table.
    struct Session {
        std::uint32_t matches = 0, packets = 0;
        std::uint16_t tool = 0xffff;
        bool alerted = false;
        Timestamp last = 0;
        // Once reported, a session this unit owns is followed for the remote-maintenance log
        // (the tool's side first): from its first recognised packet to its last.
        bool recording = false, closed = false, changed = false;
        IpAddress server, client;
        std::uint16_t server_port = 0, client_port = 0;
        std::uint8_t protocol = 0;
        MacAddress server_mac, client_mac;
        Timestamp start = 0;
        std::uint64_t server_bytes = 0, client_bytes = 0;
        const char* how = "";
        // Per side (0: the lower endpoint), the last matching packet's prefix and counter, for
        // signatures with same_prefix / counter_at; bit i of `sides_seen` once side i sent one.
        std::array<std::uint64_t, 2> prefix{};
        std::array<std::uint32_t, 2> counter{};
        std::uint8_t sides_seen = 0;
    };
    struct SignatureRef {
        std::uint16_t tool, signature;
    };

    // True when this packet continues its side's framing (the same prefix, a larger counter)
    // as the signature asks; remembers the packet for the next one either way.
    static bool continues_framing(Session& s, const HandshakeSignature& sig, const Packet& packet);
    void raise(const Packet& packet, const RemoteAccessTool& tool, bool server_is_src,
               const std::string& how, const std::string& source);
    // Starts following `s` for the remote-maintenance log (false when the day's cap is spent).
    bool start_recording(Session& s, const Packet& packet, std::uint16_t tool, bool server_is_src,
                         const char* how);
    // Hands the session's state over; `ended`: closed, idle, or its slot taken.
    void record(const Session& s, bool ended);
    // Logs what is left to log of `s` as ended and frees its entry.
    void end_session(Session& s);

    FindingSink& sink_;
    InternalNetworks internal_;
    EgressRules rules_;
    std::array<std::vector<SignatureRef>, 256> tcp_by_first_byte_, udp_by_first_byte_;
    // At an offset, starting with "??", or a recogniser alone (per transport).
    std::vector<SignatureRef> tcp_other_, udp_other_;
    HandshakeSignature alpn_signature_;  // a LAN ClientHello naming a tool's ALPN
    FlowEntries<Session> sessions_{kSessionSlots};
    std::uint64_t sessions_displaced_ = 0;
    BoundedTable<std::string, std::uint32_t> logged_per_day_{1024};  // mac|day -> sessions
    std::uint64_t logged_capped_ = 0;
    Timestamp next_sweep_ = 0;
};

}  // namespace clinicwatch
