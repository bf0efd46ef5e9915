#include "analyzers/remote_access.hpp"

#include <algorithm>
#include <cstring>
#include <ctime>

#include "analyzers/packet_context.hpp"
#include "capture/protocols/tls.hpp"

namespace clinicwatch {

namespace {

std::string day_text(Timestamp ts) {
    std::time_t secs = static_cast<std::time_t>(ts / kMicrosPerSecond);
    std::tm tm{};
    localtime_r(&secs, &tm);
    char buf[16];
    std::strftime(buf, sizeof buf, "%Y-%m-%d", &tm);
    return buf;
}

}  // namespace

RemoteAccessSessions::RemoteAccessSessions(FindingSink& sink,
                                           const std::vector<IpNetwork>& internal_networks,
                                           EgressRules rules)
    : sink_(sink), internal_(internal_networks), rules_(std::move(rules)) {
    alpn_signature_.sent_by = HandshakeSignature::Sender::client;
    alpn_signature_.source =
        "rules/remote-access.yaml tls_alpn: the tool's client names it in the ALPN of its TLS "
        "ClientHello (RFC 7301)";
    rules_.index();
    for (std::size_t t = 0; t < rules_.tools.size(); ++t) {
        const auto& tool = rules_.tools[t];
        for (std::size_t s = 0; s < tool.handshakes.size(); ++s) {
            const auto& sig = tool.handshakes[s];
            SignatureRef ref{static_cast<std::uint16_t>(t), static_cast<std::uint16_t>(s)};
            if (sig.offset == 0 && !sig.mask.empty() && sig.mask[0] == 0xff)
                (sig.protocol == kProtoUdp ? udp_by_first_byte_ : tcp_by_first_byte_)[sig.bytes[0]]
                    .push_back(ref);
            else
                (sig.protocol == kProtoUdp ? udp_other_ : tcp_other_).push_back(ref);
        }
    }
}

void RemoteAccessSessions::on_packet(const Packet& packet, PacketContext& context) {
    if (!packet.ip || packet.ip->is_later_fragment) return;
    // The connection is the flow table's; one it did not let in (full) is not followed.
    Flow* flow = context.flow();
    if (!flow) return;
    if (packet.payload.empty()) {
        // A FIN or RST without data ends a session being logged (rare: only these are looked
        // up; other empty segments are not counted in its bytes).
        if (!packet.tcp || !(packet.tcp->flags & (TcpView::kFin | TcpView::kRst))) return;
        Session* found = sessions_.find(flow->slots.remote_access);
        if (!found || !found->recording || found->closed) return;
        Session& s = *found;
        s.last = packet.ts;
        s.closed = true;
        record(s, true);
        s.changed = false;
        return;
    }
    std::uint8_t proto;
    std::uint16_t sport, dport;
    if (packet.tcp) {
        proto = kProtoTcp;
        sport = packet.tcp->src_port;
        dport = packet.tcp->dst_port;
    } else if (packet.udp) {
        proto = kProtoUdp;
        sport = packet.udp->src_port;
        dport = packet.udp->dst_port;
    } else {
        return;
    }
    Session* found = sessions_.find(flow->slots.remote_access);
    if (!found) {
        if (flow->slots.remote_access_inspected >= kInspectedPackets) return;
        ++flow->slots.remote_access_inspected;
    }
    const IpView& ip = *packet.ip;
    const bool src_in = internal_.contains(ip.src), dst_in = internal_.contains(ip.dst);
    if (!src_in && !dst_in) return;
    const Bytes payload = packet.payload;

    // Which signature (if any) these bytes show; the index makes most packets one lookup.
    const RemoteAccessTool* tool = nullptr;
    const HandshakeSignature* sig = nullptr;
    auto try_refs = [&](const std::vector<SignatureRef>& refs) {
        for (const auto& r : refs) {
            const auto& candidate = rules_.tools[r.tool].handshakes[r.signature];
            if (candidate.protocol == proto && candidate.matches(payload)) {
                tool = &rules_.tools[r.tool];
                sig = &candidate;
                return;
            }
        }
    };
    try_refs((proto == kProtoTcp ? tcp_by_first_byte_ : udp_by_first_byte_)[payload[0]]);
    if (!sig) try_refs(proto == kProtoTcp ? tcp_other_ : udp_other_);
    // A TLS ClientHello inside the LAN whose ALPN names a tool (AnyDesk's "anydesk/..."), on
    // any port: egress reads ALPN at the boundary only.
    if (!sig && proto == kProtoTcp && src_in && dst_in && payload[0] == 0x16 &&
        tls::is_handshake(payload, 1))
        if (const tls::ClientHello* hello = context.tls_client_hello();
            hello && !hello->alpn.empty())
            if (const RemoteAccessTool* t = rules_.tool_for_alpn(hello->alpn)) {
                tool = t;
                sig = &alpn_signature_;
            }

    // A LAN session on a tool's port without its handshake (already running at capture start).
    const RemoteAccessTool* port_tool = nullptr;
    bool port_server_is_src = false;
    if (!sig && src_in && dst_in && proto == kProtoTcp && !packet.tcp->syn()) {
        if (rules_.maybe_remote_port(proto, dport) &&
            (port_tool = rules_.tool_for_port(proto, dport)))
            port_server_is_src = false;
        else if (rules_.maybe_remote_port(proto, sport) &&
                 (port_tool = rules_.tool_for_port(proto, sport)))
            port_server_is_src = true;
    }

    if (!found) {
        if (!sig && !port_tool) return;  // not a session of interest: nothing to count
        if (sessions_.full()) {
            // The session seen longest ago (of a few sampled) gives way; counted when it was
            // still being recognised.
            Session* victim = sessions_.oldest_sampled(
                [](const Session& a, const Session& b) { return a.last < b.last; });
            if (!victim) return;
            if (!victim->alerted && packet.ts - victim->last < kSessionIdle) ++sessions_displaced_;
            end_session(*victim);
        }
        found = &sessions_.open(flow->slots.remote_access);
    }
    Session& s = *found;
    s.last = packet.ts;
    ++s.packets;
    if (s.recording) {
        ((ip.src == s.server) ? s.server_bytes : s.client_bytes) += packet.wire_length;
        s.changed = true;
    }
    if (s.alerted) return;

    if (port_tool) {
        s.alerted = true;
        raise(packet, *port_tool, port_server_is_src, "port, session already running",
              port_tool->source);
        if (start_recording(s, packet, static_cast<std::uint16_t>(port_tool - rules_.tools.data()),
                            port_server_is_src, "port"))
            record(s, false);
        return;
    }
    if (!sig) return;
    auto tool_index = static_cast<std::uint16_t>(tool - rules_.tools.data());
    if (s.tool != tool_index) {  // another tool's pattern: start counting afresh
        s.tool = tool_index;
        s.matches = 0;
        s.packets = 1;
        s.sides_seen = 0;
    }
    if (sig->per_session()) {
        // A connection on another tool's port is that tool's: IPsec's ESP in UDP 4500 (RFC 3948)
        // also repeats its first four bytes (the SPI) and counts up behind them.
        const RemoteAccessTool* by_port = rules_.tool_for_port(proto, sport);
        if (!by_port) by_port = rules_.tool_for_port(proto, dport);
        if ((by_port && by_port != tool) || !continues_framing(s, *sig, packet)) return;
    }
    ++s.matches;
    if (s.matches < sig->packets) return;
    // Framing patterns are two bytes: a long encrypted session shows them by chance now and
    // then, never in one packet of sixteen.
    if (sig->mid_stream && s.matches * 16 < s.packets) return;

    bool server_is_src;
    if (sig->sent_by == HandshakeSignature::Sender::server)
        server_is_src = true;
    else if (sig->sent_by == HandshakeSignature::Sender::client)
        server_is_src = false;
    else if (rules_.tool_for_port(proto, sport) == tool)
        server_is_src = true;
    else if (rules_.tool_for_port(proto, dport) == tool)
        server_is_src = false;
    else
        server_is_src = sport < dport;
    // Egress reports boundary sessions on the tool's own port already.
    const bool lan = src_in && dst_in;
    if (!lan && rules_.tool_for_port(proto, server_is_src ? sport : dport) == tool) {
        s.alerted = true;
        return;
    }
    s.alerted = true;
    raise(packet, *tool, server_is_src, sig->mid_stream ? "protocol framing" : "handshake",
          sig->source);
    if (start_recording(s, packet, tool_index, server_is_src,
                        sig->mid_stream ? "framing" : "handshake"))
        record(s, false);
}

bool RemoteAccessSessions::continues_framing(Session& s, const HandshakeSignature& sig,
                                             const Packet& packet) {
    // Large enough for a burst of lost or unseen packets between two that are seen, small enough
    // that random bytes almost never pass.
    constexpr std::uint32_t kMaxCounterStep = 1u << 16;
    const IpView& ip = *packet.ip;
    const auto [sport, dport] = packet.ports();
    const int order = std::memcmp(ip.src.bytes.data(), ip.dst.bytes.data(), ip.src.bytes.size());
    const int side = (order < 0 || (order == 0 && sport < dport)) ? 0 : 1;
    const Bytes p = packet.payload;
    if (p.size() < sig.same_prefix || (sig.counter_at >= 0 && p.size() < sig.counter_at + 4u))
        return false;
    std::uint64_t prefix = 0;
    std::memcpy(&prefix, p.data(), std::min<std::size_t>(sig.same_prefix, sizeof prefix));
    const std::uint32_t counter = sig.counter_at >= 0 ? load_be32(p.data() + sig.counter_at) : 0;
    const bool seen = s.sides_seen & (1u << side);
    const bool continues = seen && prefix == s.prefix[side] &&
                           (sig.counter_at < 0 || (counter > s.counter[side] &&
                                                   counter - s.counter[side] <= kMaxCounterStep));
    s.prefix[side] = prefix;
    s.counter[side] = counter;
    s.sides_seen |= static_cast<std::uint8_t>(1u << side);
    return continues;
}

bool RemoteAccessSessions::start_recording(Session& s, const Packet& packet, std::uint16_t tool,
                                           bool server_is_src, const char* how) {
    const IpView& ip = *packet.ip;
    const std::uint16_t sport = packet.tcp ? packet.tcp->src_port : packet.udp->src_port;
    const std::uint16_t dport = packet.tcp ? packet.tcp->dst_port : packet.udp->dst_port;
    s.server = server_is_src ? ip.src : ip.dst;
    s.client = server_is_src ? ip.dst : ip.src;
    s.server_port = server_is_src ? sport : dport;
    s.client_port = server_is_src ? dport : sport;
    s.server_mac = server_is_src ? packet.src_mac : packet.dst_mac;
    s.client_mac = server_is_src ? packet.dst_mac : packet.src_mac;
    s.protocol = packet.tcp ? kProtoTcp : kProtoUdp;
    s.tool = tool;
    s.how = how;
    s.start = packet.ts;
    s.server_bytes = server_is_src ? packet.wire_length : 0;
    s.client_bytes = server_is_src ? 0 : packet.wire_length;
    // The clinic's device: the one that accepted (LAN, or inbound), else the one inside.
    const bool server_in = internal_.contains(s.server);
    const MacAddress& ours = server_in ? s.server_mac : s.client_mac;
    std::string bucket = ours.to_string() + "|" + day_text(s.start);
    std::uint32_t* n = logged_per_day_.find(bucket);
    if (!n)
        n = &logged_per_day_.insert(
            bucket, 0, [](std::uint32_t a, std::uint32_t b) { return a < b; },
            [](const std::string&, std::uint32_t) {});
    if (*n >= kMaxLoggedPerDay) {
        ++logged_capped_;
        return false;
    }
    ++*n;
    s.recording = true;
    return true;
}

void RemoteAccessSessions::record(const Session& s, bool ended) {
    const bool server_in = internal_.contains(s.server), client_in = internal_.contains(s.client);
    const bool lan = server_in && client_in;
    RemoteSession r;
    r.tool = rules_.tools[s.tool].name;
    r.protocol = s.protocol;
    r.port = s.server_port;
    r.start = s.start;
    r.end = s.last;
    r.packets = s.packets;
    r.recognised_by = s.how;
    r.ongoing = !ended;
    const std::string day = day_text(s.start);
    if (lan || server_in) {
        // The device that accepted the session is the clinic's side.
        r.key = remote_session_key(lan ? "lan" : "boundary", s.protocol, s.server, s.server_port,
                                   s.client, s.client_port, day);
        r.mac = s.server_mac;
        r.address = s.server;
        r.remote_address = s.client;
        if (lan) r.remote_mac = s.client_mac;
        r.direction = lan ? "lan" : "inbound";
        r.bytes_out = s.server_bytes;
        r.bytes_in = s.client_bytes;
    } else {
        r.key = remote_session_key("boundary", s.protocol, s.client, s.client_port, s.server,
                                   s.server_port, day);
        r.mac = s.client_mac;
        r.address = s.client;
        r.remote_address = s.server;
        r.direction = "egress";
        r.bytes_out = s.client_bytes;
        r.bytes_in = s.server_bytes;
    }
    r.verdict = lan ? "lan" : "";  // the egress policy is the egress unit's to judge
    sink_.remote_session(r);
}

void RemoteAccessSessions::end_session(Session& s) {
    if (s.recording && (s.changed || !s.closed)) record(s, true);
    sessions_.close(s);
}

void RemoteAccessSessions::on_flow_end(Flow& flow) {
    if (Session* s = sessions_.find(flow.slots.remote_access)) end_session(*s);
    flow.slots.remote_access = {};
}

void RemoteAccessSessions::on_tick(Timestamp now) {
    if (now < next_sweep_) return;
    next_sweep_ = now + 60 * kMicrosPerSecond;
    // Once a minute: sessions going on are handed over again; idle ones end where last seen.
    sessions_.for_each([&](Session& s) {
        if (!s.recording) return;
        const bool idle = now - s.last >= kSessionIdle;
        if (s.changed || (idle && !s.closed)) record(s, s.closed || idle);
        s.changed = false;
        if (idle) s.recording = false;  // the entry stays while its flow does: no second alert
    });
}

void RemoteAccessSessions::on_finish(Timestamp) {
    // Still open at the end of the input: end = last seen, marked ongoing.
    sessions_.for_each([&](Session& s) {
        if (s.recording && (s.changed || !s.closed)) {
            record(s, s.closed);
            s.changed = false;
        }
    });
}

void RemoteAccessSessions::raise(const Packet& packet, const RemoteAccessTool& tool,
                                 bool server_is_src, const std::string& how,
                                 const std::string& source) {
    const IpView& ip = *packet.ip;
    const std::uint16_t sport = packet.tcp ? packet.tcp->src_port : packet.udp->src_port;
    const std::uint16_t dport = packet.tcp ? packet.tcp->dst_port : packet.udp->dst_port;
    const IpAddress& server = server_is_src ? ip.src : ip.dst;
    const IpAddress& client = server_is_src ? ip.dst : ip.src;
    const MacAddress& server_mac = server_is_src ? packet.src_mac : packet.dst_mac;
    const MacAddress& client_mac = server_is_src ? packet.dst_mac : packet.src_mac;
    const std::uint16_t port = server_is_src ? sport : dport;
    const std::string proto = packet.tcp ? "tcp" : "udp";
    const std::string day = day_text(packet.ts);
    const bool server_in = internal_.contains(server), client_in = internal_.contains(client);

    AlertUpdate a;
    a.kind = "remote-access";
    a.first_seen = a.last_seen = packet.ts;
    std::string where = server.to_string() + ":" + std::to_string(port);
    if (server_in && client_in) {
        // Egress's key for LAN sessions: a session it saw start is the same alert.
        a.key = "remote-access|lan|" + device_key(server_mac, server) + "|" + client.to_string() +
                "|" + std::to_string(port) + "|" + day;
        a.severity = Severity::low;
        a.subject_mac = server_mac;
        a.subject = tool.name + " " + where + " from " + client.to_string();
        a.summary = tool.name + " session inside the LAN: " + client.to_string() +
                    " connected to " + server.to_string() + " on " + proto + "/" +
                    std::to_string(port) + " (recognised by its " + how + ")";
    } else {
        const bool inbound = server_in;
        const MacAddress& inside_mac = server_in ? server_mac : client_mac;
        const IpAddress& inside = server_in ? server : client;
        const IpAddress& outside = server_in ? client : server;
        a.key = "remote-access|handshake|" + device_key(inside_mac, inside) + "|" +
                outside.to_string() + "|" + proto + "/" + std::to_string(port) + "|" + day;
        a.severity = inbound ? Severity::critical : Severity::high;
        a.subject_mac = inside_mac;
        a.subject = tool.name + " " + where;
        a.summary =
            tool.name + " across the internet boundary on a port it does not usually use: " +
            inside.to_string() + (inbound ? " accepted a session from " : " connected to ") +
            outside.to_string() + " on " + proto + "/" + std::to_string(port) +
            " (recognised by its " + how + ")";
    }
    a.evidence = {{"scope", server_in && client_in ? "lan" : "boundary"},
                  {"tool", tool.name},
                  {"server_ip", server.to_string()},
                  {"server_mac", server_mac.to_string()},
                  {"client_ip", client.to_string()},
                  {"client_mac", client_mac.to_string()},
                  {"port", port},
                  {"protocol", proto},
                  {"recognised_by", how},
                  {"day", day},
                  {"source", source}};
    // The party across the boundary, for the texts ("... connected to 203.0.113.45"): without
    // it a device's own address would be named as its peer.
    if (!(server_in && client_in))
        a.evidence["destination_ip"] = (server_in ? client : server).to_string();
    sink_.alert(std::move(a));
}

void RemoteAccessSessions::table_use(std::vector<TableUse>& out) const {
    out.push_back({"remote-access-sessions",
                   "sessions followed while their protocol is being recognised", kSessionSlots,
                   sessions_displaced_});
    out.push_back({"remote-sessions-by-handshake",
                   "remote-access sessions found by their protocol, logged per device and day",
                   kMaxLoggedPerDay, logged_capped_ + logged_per_day_.evictions()});
}

}  // namespace clinicwatch
