#include "analyzers/egress.hpp"

#include <algorithm>
#include <atomic>
#include <ctime>

#include "analyzers/packet_context.hpp"
#include "capture/protocols/dns.hpp"
#include "capture/protocols/http.hpp"
#include "capture/protocols/tls.hpp"

namespace clinicwatch {

namespace {

// The count kept under `bucket` (device|day, kind|device|day) in one of the per-day cap tables,
// created at 0; the table's smallest counts give way first when it is full.
std::uint32_t& day_count(BoundedTable<std::string, std::uint32_t>& table,
                         const std::string& bucket) {
    if (std::uint32_t* n = table.find(bucket)) return *n;
    return table.insert(
        bucket, 0, [](std::uint32_t a, std::uint32_t b) { return a < b; },
        [](const std::string&, std::uint32_t) {});
}

bool is_multicast_or_broadcast(const IpAddress& a) {
    if (a.is_v4()) return a.bytes[0] >= 224 || a.v4_host_order() == 0;  // multicast, 240/4, 0/8
    if (a.is_v6()) return a.bytes[0] == 0xff || a.is_unspecified();
    return true;
}

std::string protocol_name(std::uint8_t p) {
    switch (p) {
        case kProtoTcp:
            return "tcp";
        case kProtoUdp:
            return "udp";
        case 1:
            return "icmp";
        case 50:
            return "esp";
        case 47:
            return "gre";
        case 58:
            return "icmpv6";
        default:
            return "ip-" + std::to_string(p);
    }
}

bool older_flow(const BoundaryFlow& a, const BoundaryFlow& b) {
    return a.last_seen < b.last_seen;
}

}  // namespace

Egress::Egress(FindingSink& sink, EgressSettings settings, RoleOf role_of)
    : sink_(sink),
      settings_(std::move(settings)),
      role_of_(std::move(role_of)),
      internal_(settings_.internal_networks),
      entries_(settings_.policy.max_flows),
      streams_(settings_.policy.max_streams, settings_.policy.stream_depth),
      quic_keys_(streams_.capacity()),
      quic_plain_(kMaxQuicDatagram),
      names_(settings_.policy.max_dns_names),
      alert_destinations_(4096),
      alerted_keys_(16384),
      forged_alerted_(1024),
      summary_destinations_(4096),
      summary_rows_(16384),
      session_counts_(4096) {
    settings_.rules.index();
}

bool Egress::is_internal(const IpAddress& a) const {
    return internal_.contains(a) || (settings_.ipv6_lan && settings_.ipv6_lan->on_link(a));
}

void Egress::on_packet(const Packet& packet, PacketContext& context) {
    if (!packet.ip || packet.ip->is_later_fragment) return;
    const IpView& ip = *packet.ip;
    // Answers from DNS servers name the addresses clients are about to connect to, when they
    // answer a query a client sent.
    if (packet.udp && (packet.udp->src_port == 53 || packet.udp->dst_port == 53) &&
        !packet.payload.empty()) {
        // A clinic's clients ask a few names per second; a flood is read only up to a budget
        // per second of packet time, and the rest are counted (sensor-limit).
        if (dns_budget_.admit(packet.ts))
            if (const dns::Message* m = context.dns()) {
                if (packet.udp->src_port == 53 && m->is_response())
                    on_dns_answer(*m, packet);
                else if (packet.udp->dst_port == 53 && !m->is_response())
                    names_.query(*m, ip.src, packet.udp->src_port, ip.dst, packet.ts);
            }
    }
    bool src_in = is_internal(ip.src);
    bool dst_in = is_internal(ip.dst);
    if (src_in && dst_in) {
        if (packet.tcp) on_lan(packet);
        return;
    }
    if (!src_in && !dst_in) {
        // Neither address is listed as internal: global IPv6 on the LAN, or transit. The
        // router's MAC tells which side is ours.
        if (!packet.has_dst_mac) return;
        auto is_router = [&](const MacAddress& m) {
            return (settings_.gateway_mac && m == *settings_.gateway_mac) ||
                   (settings_.ipv6_lan && ip.src.is_v6() && settings_.ipv6_lan->is_router(m));
        };
        if (is_router(packet.dst_mac))
            src_in = true;
        else if (is_router(packet.src_mac))
            dst_in = true;
        else
            return;
    }
    if (is_multicast_or_broadcast(src_in ? ip.dst : ip.src)) return;
    on_boundary(packet, context, src_in);
}

std::string Egress::allow_listed(const std::string& name) const {
    auto check = [&](const RolePolicy& p) -> std::string {
        if (p.mode != EgressMode::allow) return {};
        for (const auto& d : p.domains)
            if (domain_matches(name, d)) return "domain " + d;
        for (const auto& svc_name : p.services)
            if (const auto* svc = settings_.rules.service(svc_name))
                for (const auto& d : svc->domains)
                    if (domain_matches(name, d)) return "service " + svc->name;
        return {};
    };
    for (const auto& [_, policy] : settings_.policy.roles)
        if (auto why = check(policy); !why.empty()) return why;
    return check(settings_.policy.unknown_role);
}

void Egress::on_dns_answer(const dns::Message& m, const Packet& packet) {
    const IpView& ip = *packet.ip;
    if (names_.answer(m, ip.src, ip.dst, packet.udp->dst_port, packet.ts) !=
        DnsAnswerFate::unsolicited)
        return;
    // Dropped and counted. An unsolicited answer for a name the policy allows is how a LAN
    // host would make traffic to itself (or anywhere) pass as "allowed": a finding.
    if (m.rcode() != 0) return;
    for (const auto& rec : m.answers) {
        if ((rec.type != dns::kA && rec.type != dns::kAaaa) || rec.address.empty()) continue;
        std::string name = m.questions.empty() ? rec.name : m.questions.front().name;
        for (auto& c : name)
            if (c >= 'A' && c <= 'Z') c = static_cast<char>(c + 32);
        while (!name.empty() && name.back() == '.') name.pop_back();
        std::string why = allow_listed(name);
        if (why.empty()) continue;
        const std::string& day = local_day_.of(packet.ts);
        std::string sender = packet.src_mac.to_string();
        std::string key = "dns-forged-answer|" + sender + "|" + name + "|" + day;
        if (Timestamp* last = forged_alerted_.find(key);
            last && packet.ts - *last < 60 * kMicrosPerSecond)
            return;  // once a minute per sender and name: the store sums the rest
        forged_alerted_.insert(
            key, packet.ts, [](Timestamp a, Timestamp b) { return a < b; },
            [](const std::string&, Timestamp) {});
        AlertUpdate a;
        a.kind = "dns-forged-answer";
        a.key = key;
        a.severity = Severity::high;
        a.subject_mac = packet.src_mac;
        a.subject = name + " from " + ip.src.to_string();
        a.summary = "A DNS answer nobody asked for: " + ip.src.to_string() + " told " +
                    ip.dst.to_string() + " that " + name + " is at " + rec.address.to_string() +
                    ". The egress policy allows " + name + " (" + why +
                    "), so a forged answer would let traffic to another address pass as allowed";
        a.first_seen = a.last_seen = packet.ts;
        a.evidence = {{"sender_ip", ip.src.to_string()},
                      {"sender_mac", sender},
                      {"client_ip", ip.dst.to_string()},
                      {"client_mac", packet.dst_mac.to_string()},
                      {"name", name},
                      {"address", rec.address.to_string()},
                      {"allowed_by", why},
                      {"transaction_id", m.id},
                      {"day", day}};
        sink_.alert(std::move(a));
        return;
    }
}

void Egress::on_lan(const Packet& packet) {
    const TcpView& tcp = *packet.tcp;
    // A SYN-ACK from a remote-access port: a device on the LAN accepted a remote session.
    if (!tcp.is_syn_ack() || !settings_.rules.maybe_remote_port(kProtoTcp, tcp.src_port)) return;
    const auto* tool = settings_.rules.tool_for_port(kProtoTcp, tcp.src_port);
    if (!tool) return;
    const std::string& day = local_day_.of(packet.ts);
    std::string server = packet.ip->src.to_string();
    std::string client = packet.ip->dst.to_string();
    AlertUpdate a;
    a.kind = "remote-access";
    a.key = "remote-access|lan|" + packet.src_mac.to_string() + "|" + client + "|" +
            std::to_string(tcp.src_port) + "|" + day;
    a.severity = Severity::low;  // inside the LAN: expected for support work, worth knowing
    a.subject_mac = packet.src_mac;
    a.subject = tool->name + " " + server + ":" + std::to_string(tcp.src_port) + " from " + client;
    a.summary = tool->name + " session inside the LAN: " + client + " connected to " + server +
                " on tcp/" + std::to_string(tcp.src_port);
    a.first_seen = a.last_seen = packet.ts;
    a.evidence = {{"scope", "lan"},       {"tool", tool->name},
                  {"server_ip", server},  {"server_mac", packet.src_mac.to_string()},
                  {"client_ip", client},  {"client_mac", packet.dst_mac.to_string()},
                  {"port", tcp.src_port}, {"protocol", "tcp"},
                  {"day", day},           {"source", tool->source}};
    sink_.alert(std::move(a));
}

void Egress::finish_judging(BoundaryFlow& f) {
    // A message that never completed: read what arrived of it.
    if (!f.evaluated && f.stream.valid()) read_partial(f.key, f);
    drop_stream(f);
    if (!f.evaluated) evaluate(f.key, f);
}

void Egress::close_entry(BoundaryFlow& f) {
    finish_judging(f);
    report(f.key, f);
    record_session(f.key, f, true);
    entries_.close(f);
}

void Egress::on_flow_end(Flow& flow) {
    if (BoundaryFlow* f = entries_.find(flow.slots.egress)) close_entry(*f);
    flow.slots.egress = {};
}

BoundaryFlow* Egress::open_entry(const Packet& packet, bool outbound,
                                 const PacketContext& context) {
    const IpView& ip = *packet.ip;
    FlowKey key;
    key.inside = outbound ? ip.src : ip.dst;
    key.outside = outbound ? ip.dst : ip.src;
    key.protocol = ip.protocol;
    const auto [sport, dport] = packet.ports();
    key.inside_port = outbound ? sport : dport;
    key.outside_port = outbound ? dport : sport;

    // Which side sent the connection's first packet: the flow table knows (also when it let the
    // flow in on a later packet, after probation).
    const bool opened_outbound = context.from_opener() == outbound;
    // With every entry taken, each new connection closes (and reports) an old one, up to a
    // budget per second; the rest are counted, not followed. (One-packet flows, a scan's, never
    // get this far: the flow table keeps them out when it is full.)
    if (entries_.full()) {
        if (!new_flow_budget_.admit(packet.ts)) return nullptr;
        // The least recently seen of a few sampled entries gives way.
        BoundaryFlow* victim = entries_.oldest_sampled(older_flow);
        if (!victim) return nullptr;
        close_entry(*victim);
        ++evictions_;
    }
    BoundaryFlow& f = entries_.open(context.flow()->slots.egress);
    f.key = key;
    f.inside_mac = outbound ? packet.src_mac : packet.dst_mac;
    f.first_seen = packet.ts;
    f.verdict = "pending";
    if (packet.tcp && packet.tcp->is_syn_only()) {
        f.direction = outbound ? FlowDirection::egress : FlowDirection::inbound;
    } else if (packet.tcp && packet.tcp->is_syn_ack()) {
        f.direction = outbound ? FlowDirection::inbound : FlowDirection::egress;
    } else if (packet.tcp) {
        // Mid-stream: the capture began after the handshake. The lower port is the service.
        f.direction =
            key.outside_port <= key.inside_port ? FlowDirection::egress : FlowDirection::inbound;
        f.direction_guessed = true;
    } else {
        // Connectionless: the first packet's sender opened the flow, unless it went from a
        // well-known port to an ephemeral one (a reply whose request we did not see).
        bool inside_serves = key.inside_port < 1024 && key.outside_port >= 1024;
        bool outside_serves = key.outside_port < 1024 && key.inside_port >= 1024;
        f.direction = (opened_outbound && !inside_serves) || outside_serves
                          ? FlowDirection::egress
                          : FlowDirection::inbound;
        // Nothing confirms an inbound datagram was accepted: judge its ports, but never
        // call it an exposure.
        f.direction_guessed = f.direction == FlowDirection::inbound;
    }
    if (const std::string* n = names_.lookup(key.outside, packet.ts)) {
        f.name = *n;
        f.name_source = "dns";
    }
    return &f;
}

void Egress::on_boundary(const Packet& packet, PacketContext& context, bool outbound) {
    // The connection is the flow table's; a packet without one (the table was full and did not
    // let the connection in: counted there) is not followed.
    Flow* shared = context.flow();
    if (!shared) return;
    BoundaryFlow* flow = entries_.find(shared->slots.egress);
    if (!flow && !(flow = open_entry(packet, outbound, context))) return;
    const FlowKey& key = flow->key;
    BoundaryFlow& f = *flow;
    ++f.packets;
    (outbound ? f.bytes_out : f.bytes_in) += packet.wire_length;
    f.last_seen = packet.ts;
    if (f.inside_mac.is_zero()) f.inside_mac = outbound ? packet.src_mac : packet.dst_mac;

    bool from_opener = (f.direction == FlowDirection::egress) == outbound;
    if (packet.tcp) {
        const TcpView& tcp = *packet.tcp;
        if (tcp.flags & (TcpView::kFin | TcpView::kRst)) f.closed = true;
        if (tcp.is_syn_ack() && outbound && f.direction == FlowDirection::inbound && !f.accepted) {
            f.accepted = true;
            f.direction_guessed = false;
            evaluate(key, f);  // an exposure is known now, whatever the name
            return;
        }
        if (tcp.is_syn_only() && from_opener) {
            f.client_syn_seen = true;
            f.client_isn = tcp.seq;
        }
    }
    if (!f.evaluated && from_opener && !packet.payload.empty() &&
        f.client_payloads < kMaxClientPayloads) {
        ++f.client_payloads;
        if (packet.tcp && read_client_stream(f, packet, context) == Reading::wait) return;
        if (packet.udp && read_quic_initial(f, packet) == Reading::wait) return;
        evaluate(key, f);
        return;
    }
    // Connectionless flows have no handshake to wait for, unless a QUIC hello is incomplete.
    if (!f.evaluated && !packet.tcp && !f.stream.valid()) evaluate(key, f);
}

void Egress::name_from_quic_hello(Bytes hello, BoundaryFlow& f) {
    auto h = tls::parse_client_hello_message(hello);
    if (!h) return;
    f.tls_tool = settings_.rules.tool_for_alpn(h->alpn);
    if (!h->sni.empty()) {
        f.name = h->sni;
        f.name_source = "quic";
    }
}

namespace {

// A whole ClientHello handshake message (type 1, 24-bit length) at the start of `b`.
bool whole_hello(Bytes b) {
    return b.size() >= 4 && b[0] == 1 &&
           b.size() >= 4 + ((std::size_t{b[1]} << 16) | load_be16(b.data() + 2));
}

}  // namespace

Egress::Reading Egress::read_quic_initial(BoundaryFlow& f, const Packet& packet) {
    Bytes datagram = packet.payload;
    // A datagram may hold several QUIC packets (RFC 9000 §12.2): an Initial first, often
    // followed by 0-RTT; only Initials carry the hello.
    for (int i = 0; i < 3 && !datagram.empty(); ++i) {
        auto header = quic::parse_initial_header(datagram);
        if (!header) break;
        const std::size_t size = std::min(header->packet_size, datagram.size());
        Bytes packet_bytes = datagram.first(size);
        datagram = datagram.subspan(size);
        // Later Initials are protected with the keys of the client's first DCID even when the
        // server has given it another one, so the first keys are kept with the stream.
        std::optional<Bytes> plain;
        std::optional<quic::InitialKeys> fresh;
        if (f.stream.valid() && streams_.alive(f.stream))
            plain = quic_.decrypt(packet_bytes, *header, quic_keys_[f.stream.slot], quic_plain_);
        if (!plain) {
            fresh = quic::client_initial_keys(header->version, header->dcid);
            if (fresh) plain = quic_.decrypt(packet_bytes, *header, *fresh, quic_plain_);
        }
        if (!plain) continue;
        auto frames = quic::crypto_frames(*plain);
        if (!f.stream.valid()) {
            // Most hellos fit one packet: read them in place.
            for (std::size_t j = 0; j < frames.count; ++j)
                if (frames.frames[j].offset == 0 && whole_hello(frames.frames[j].data)) {
                    name_from_quic_hello(frames.frames[j].data, f);
                    return Reading::done;
                }
            f.stream = streams_.open(0, false, packet.ts);
            if (!f.stream.valid()) return Reading::done;  // refused: counted
            if (fresh) quic_keys_[f.stream.slot] = *fresh;
        }
        for (std::size_t j = 0; j < frames.count; ++j) {
            const auto& frame = frames.frames[j];
            if (frame.offset < streams_.depth())
                streams_.add(f.stream, static_cast<std::uint32_t>(frame.offset), frame.data,
                             packet.ts);
        }
    }
    if (!f.stream.valid() || !streams_.alive(f.stream)) {
        f.stream = {};
        return Reading::done;
    }
    Bytes start = streams_.contiguous(f.stream);
    if (!whole_hello(start) && !streams_.full(f.stream) && f.client_payloads < kMaxClientPayloads)
        return Reading::wait;
    name_from_quic_hello(start, f);
    drop_stream(f);
    return Reading::done;
}

Egress::Reading Egress::name_from(Bytes start, BoundaryFlow& f, bool final,
                                  PacketContext* in_place) {
    if (start.empty()) return final ? Reading::done : Reading::wait;
    if (start[0] == 0x16 && !final) {
        // A TLS handshake record: wait until the whole record is here (or the depth is reached).
        if (start.size() < 5) return Reading::wait;
        if (tls::is_handshake(start, 1) && start.size() < 5u + load_be16(start.data() + 3) &&
            start.size() < streams_.depth())
            return Reading::wait;
    }
    std::optional<tls::ClientHello> own_hello;
    const tls::ClientHello* hello = nullptr;
    if (in_place) {
        hello = in_place->tls_client_hello();
    } else if ((own_hello = tls::parse_client_hello(start))) {
        hello = &*own_hello;
    }
    if (hello) f.tls_tool = settings_.rules.tool_for_alpn(hello->alpn);
    if (hello && !hello->sni.empty()) {
        f.name = hello->sni;
        f.name_source = "tls-sni";
        return Reading::done;
    }
    std::optional<http::HttpRequest> own_request;
    const http::HttpRequest* req = nullptr;
    if (in_place) {
        req = in_place->http_request();
    } else if ((own_request = http::parse_http_request(start))) {
        req = &*own_request;
    }
    if (req && !req->host.empty()) {
        f.name = req->host;
        f.name_source = "http-host";
    }
    return Reading::done;
}

Egress::Reading Egress::read_client_stream(BoundaryFlow& f, const Packet& packet,
                                           PacketContext& context) {
    const TcpView& tcp = *packet.tcp;
    const bool last_chance = f.client_payloads >= kMaxClientPayloads;
    if (!f.stream.valid()) {
        // Most first segments hold the whole message: read them in place, no copy.
        const std::uint32_t expected = f.client_isn + 1;
        const bool placed = f.client_syn_seen && tcp.seq - expected < streams_.depth();
        const bool in_order = !placed || tcp.seq == expected;
        if (in_order && name_from(packet.payload, f, last_chance, &context) == Reading::done)
            return Reading::done;
        // The start of a longer message, or a later segment that overtook the first.
        f.stream = streams_.open(placed ? expected : tcp.seq, !f.client_syn_seen, packet.ts);
        if (!f.stream.valid()) return name_from(packet.payload, f, true, &context);  // refused
    }
    if (!streams_.add(f.stream, tcp.seq, packet.payload, packet.ts)) {
        f.stream = {};  // evicted while it stalled
        return name_from(packet.payload, f, true, &context);
    }
    bool final = last_chance || streams_.full(f.stream);
    if (name_from(streams_.contiguous(f.stream), f, final) == Reading::wait) return Reading::wait;
    drop_stream(f);
    return Reading::done;
}

void Egress::read_partial(const FlowKey& key, BoundaryFlow& f) {
    Bytes start = streams_.contiguous(f.stream);
    if (key.protocol == kProtoTcp)
        name_from(start, f, true);
    else
        name_from_quic_hello(start, f);
}

void Egress::drop_stream(BoundaryFlow& f) {
    if (!f.stream.valid()) return;
    streams_.release(f.stream);
    f.stream = {};
}

void Egress::evaluate(const FlowKey& key, BoundaryFlow& f) {
    f.evaluated = true;
    if (f.direction == FlowDirection::inbound && !f.accepted) {
        // Nobody inside answered (or we missed it): a knock at the door, not an exposure.
        f.verdict = f.direction_guessed ? "inbound" : "refused";
        if (!f.direction_guessed) return;
    }
    const EgressRules& rules = settings_.rules;
    std::uint16_t service_port =
        f.direction == FlowDirection::egress ? key.outside_port : key.inside_port;
    std::string role = role_of_ ? role_of_(f.inside_mac) : std::string();
    const RemoteAccessTool* tool = rules.tool_for_port(key.protocol, service_port);
    f.tool_by = "port";
    if (!tool) {
        tool = rules.tool_for_name(f.name);
        f.tool_by = "name";
    }
    if (!tool) {
        tool = f.tls_tool;
        f.tool_by = "alpn";
    }
    f.remote_tool = tool;
    const RiskyProtocol* risky = rules.risky_for_port(key.protocol, service_port);
    if (tool)
        f.application = tool->name;
    else if (risky)
        f.application = risky->name;

    // Texts for people, built only when an alert needs them (most flows raise none).
    auto port_text = [&] {
        std::string proto = protocol_name(key.protocol);
        return key.protocol == kProtoTcp || key.protocol == kProtoUdp
                   ? proto + "/" + std::to_string(service_port)
                   : proto;
    };
    auto peer = [&] {
        return f.name.empty() ? key.outside.to_string()
                              : f.name + " (" + key.outside.to_string() + ")";
    };
    auto who = [&] {
        return (role.empty() ? std::string("device") : role) + " " + key.inside.to_string();
    };

    if (f.direction == FlowDirection::inbound) {
        f.verdict = "inbound";
        if (f.accepted)
            raise("inbound-exposure", Severity::critical, key, f,
                  who() + " accepted a connection from the internet: " + peer() + " to " +
                      port_text(),
                  role, f.last_seen);
    } else {
        const RolePolicy& policy = settings_.policy.for_role(role);
        std::string why;
        Verdict v =
            evaluate_egress(policy, rules, f.name, key.outside, key.protocol, service_port, &why);
        f.verdict = std::string(to_string(v));
        if (v == Verdict::denied)
            raise("egress-denied",
                  policy.mode == EgressMode::none ? Severity::high : Severity::medium, key, f,
                  who() + " connected to " + peer() + " on " + port_text() +
                      ", which the egress policy for " +
                      (role.empty() ? std::string("devices without a role") : "role " + role) +
                      " (" + std::string(to_string(policy.mode)) + ") does not allow",
                  role, f.last_seen);
        // The clinic listed this destination for the role (a vendor's support relay, the
        // online-eligibility VPN): a declared path, recorded but not alerted.
        if (v == Verdict::allowed) return;
    }
    if (tool) {
        std::string how = f.direction == FlowDirection::egress ? " to " : " from ";
        raise("remote-access",
              f.direction == FlowDirection::inbound ? Severity::critical : Severity::high, key, f,
              tool->name + " across the internet boundary: " + who() + how + peer() + " on " +
                  port_text(),
              role, f.last_seen);
    }
    if (risky)
        raise("risky-protocol-wan",
              risky->severity == "critical" ? Severity::critical
              : risky->severity == "medium" ? Severity::medium
                                            : Severity::high,
              key, f,
              risky->name + " crossing the internet boundary: " + who() +
                  (f.direction == FlowDirection::egress ? " to " : " from ") + peer() + " on " +
                  port_text(),
              role, f.last_seen);
}

void Egress::raise(const std::string& kind, Severity severity, const FlowKey& key,
                   const BoundaryFlow& f, const std::string& what, const std::string& role,
                   Timestamp ts) {
    const std::string& day = local_day_.of(ts);
    std::uint16_t service_port =
        f.direction == FlowDirection::egress ? key.outside_port : key.inside_port;
    std::string dest = f.name.empty() ? key.outside.to_string() : f.name;
    // A capture without MACs (raw IP) leaves the device known by its address only.
    std::string mac = f.inside_mac.is_zero() ? "" : f.inside_mac.to_string();
    const std::string who = device_key(f.inside_mac, key.inside);
    std::string key_text = kind + "|" + who + "|" + dest + "|" + std::to_string(key.protocol) +
                           "/" + std::to_string(service_port) + "|" + day;
    bool lumped = false;
    if (!alerted_keys_.find(key_text)) {
        std::string bucket = kind + "|" + who + "|" + day;
        std::uint32_t* seen = &day_count(alert_destinations_, bucket);
        if (*seen >= kMaxAlertDestinations) {
            lumped = true;
            ++alerts_capped_;
            key_text = kind + "|" + who + "|*|" + day;
        } else {
            ++*seen;
            alerted_keys_.insert(
                key_text, ts, [](Timestamp a, Timestamp b) { return a < b; },
                [](const std::string&, Timestamp) {});
        }
    }
    AlertUpdate a;
    a.kind = kind;
    a.key = key_text;
    a.severity = severity;
    a.subject_mac = f.inside_mac;
    a.subject = lumped ? "many destinations" : dest + ":" + std::to_string(service_port);
    a.summary = lumped ? what + " (and more than " + std::to_string(kMaxAlertDestinations) +
                             " other destinations today)"
                       : what;
    a.first_seen = f.first_seen;
    a.last_seen = ts;
    a.evidence = {{"asset_mac", mac},
                  {"asset_ip", key.inside.to_string()},
                  {"role", role},
                  {"direction", f.direction == FlowDirection::egress ? "egress" : "inbound"},
                  {"destination_ip", key.outside.to_string()},
                  {"destination_name", f.name},
                  {"name_source", f.name_source},
                  {"port", service_port},
                  {"protocol", protocol_name(key.protocol)},
                  {"application", f.application},
                  {"verdict", f.verdict},
                  {"day", day}};
    if (lumped) a.evidence["lumped"] = true;
    if (auto it = repeats_.find(a.key); it != repeats_.end()) {
        AlertUpdate& r = it->second;
        ++r.count;
        r.last_seen = std::max(r.last_seen, a.last_seen);
        r.first_seen = std::min(r.first_seen, a.first_seen);
        r.severity = std::max(r.severity, a.severity);
        r.summary = std::move(a.summary);
        r.evidence = std::move(a.evidence);
        return;
    }
    if (repeats_.size() >= 1024) flush_alerts();
    AlertUpdate pending = a;
    pending.count = 0;  // the first occurrence goes out now; repeats add up until the tick
    repeats_.emplace(a.key, std::move(pending));
    sink_.alert(std::move(a));
}

void Egress::flush_alerts() {
    for (auto& [_, a] : repeats_)
        if (a.count > 0) sink_.alert(std::move(a));
    repeats_.clear();
}

namespace {

// A day's summary row: device, day, direction, peer, name, protocol and service port.
std::string summary_row_key(const MacAddress& mac, const std::string& day, bool egress,
                            const IpAddress& peer, const std::string& name, std::uint8_t protocol,
                            std::uint16_t port) {
    return mac.to_string() + "|" + day + "|" + (egress ? "e" : "i") + "|" + peer.to_string() + "|" +
           name + "|" + std::to_string(protocol) + "/" + std::to_string(port);
}

}  // namespace

void Egress::restore_day_rows(const std::vector<BoundaryFlowSummary>& rows) {
    for (const auto& row : rows) {
        if (row.port == 0) continue;  // the lumped "(other destinations)" row: not counted
        std::string bucket = row.mac.to_string() + "|" + row.day;
        std::uint32_t* seen = &day_count(summary_destinations_, bucket);
        if (*seen >= kMaxSummaryDestinations) continue;
        ++*seen;
        summary_rows_.insert(
            summary_row_key(row.mac, row.day, row.direction == "egress", row.address, row.name,
                            row.protocol, row.port),
            row.last_seen, [](Timestamp a, Timestamp b) { return a < b; },
            [](const std::string&, Timestamp) {});
    }
}

const std::vector<std::string>& Egress::alert_kinds() {
    static const std::vector<std::string> kinds = {"egress-denied", "inbound-exposure",
                                                   "remote-access", "risky-protocol-wan"};
    return kinds;
}

void Egress::restore_day_alerts(const std::vector<std::string>& keys) {
    for (const auto& key : keys) {
        // kind|mac|destination|proto/port|day, or kind|mac|*|day once the day's cap was hit;
        // the destination (a DNS name) is read from both ends so a '|' in it changes nothing.
        auto first = key.find('|');
        auto second = first == std::string::npos ? first : key.find('|', first + 1);
        auto last = key.rfind('|');
        if (second == std::string::npos || last <= second) continue;
        std::string kind = key.substr(0, first);
        std::string mac = key.substr(first + 1, second - first - 1);
        std::string day = key.substr(last + 1);
        std::string bucket = kind + "|" + mac + "|" + day;
        std::uint32_t* seen = &day_count(alert_destinations_, bucket);
        if (key.compare(second + 1, last - second - 1, "*") == 0) {
            *seen = kMaxAlertDestinations;  // the lumped alert: the cap was reached that day
            continue;
        }
        if (alerted_keys_.find(key)) continue;
        if (*seen < kMaxAlertDestinations) ++*seen;
        alerted_keys_.insert(
            key, 0, [](Timestamp a, Timestamp b) { return a < b; },
            [](const std::string&, Timestamp) {});
    }
}

void Egress::continue_from(Egress& earlier) {
    std::swap(names_, earlier.names_);
    std::swap(alert_destinations_, earlier.alert_destinations_);
    std::swap(alerted_keys_, earlier.alerted_keys_);
    std::swap(summary_destinations_, earlier.summary_destinations_);
    std::swap(summary_rows_, earlier.summary_rows_);
    alerts_capped_ = earlier.alerts_capped_;
    summaries_capped_ = earlier.summaries_capped_;
}

void Egress::report(const FlowKey& key, BoundaryFlow& f) {
    std::uint64_t dp = f.packets - f.reported_packets;
    if (dp == 0 && f.reported) return;
    // The rows are per device, and a capture without MACs (raw IP) names none: every device's
    // traffic would add up in one row. Its findings are raised all the same.
    if (f.inside_mac.is_zero()) return;
    const std::string& day = local_day_.of(f.last_seen);
    std::uint16_t service_port =
        f.direction == FlowDirection::egress ? key.outside_port : key.inside_port;
    std::string k = summary_row_key(f.inside_mac, day, f.direction == FlowDirection::egress,
                                    key.outside, f.name, key.protocol, service_port);
    bool lumped = false;
    if (!pending_.count(k) && !summary_rows_.find(k)) {
        std::string bucket = f.inside_mac.to_string() + "|" + day;
        std::uint32_t* seen = &day_count(summary_destinations_, bucket);
        if (*seen >= kMaxSummaryDestinations) {
            lumped = true;
            ++summaries_capped_;
            k = bucket + "|" + (f.direction == FlowDirection::egress ? "e" : "i") + "|*|" +
                std::to_string(key.protocol);
        } else {
            ++*seen;
            summary_rows_.insert(
                k, f.last_seen, [](Timestamp a, Timestamp b) { return a < b; },
                [](const std::string&, Timestamp) {});
        }
    }
    auto [it, fresh] = pending_.try_emplace(k);
    BoundaryFlowSummary& s = it->second;
    if (fresh) {
        s.mac = f.inside_mac;
        s.day = day;
        s.direction = f.direction == FlowDirection::egress ? "egress" : "inbound";
        s.address = lumped ? IpAddress{} : key.outside;
        s.name = lumped ? "(other destinations)" : f.name;
        s.name_source = lumped ? "" : f.name_source;
        s.port = lumped ? 0 : service_port;
        s.protocol = key.protocol;
        s.first_seen = f.first_seen;
    }
    if (!lumped) s.application = f.application;
    s.verdict = lumped && s.verdict != f.verdict && !s.verdict.empty() ? "mixed" : f.verdict;
    if (!f.reported) ++s.flows;
    s.packets += dp;
    s.bytes_out += f.bytes_out - f.reported_out;
    s.bytes_in += f.bytes_in - f.reported_in;
    s.first_seen = std::min(s.first_seen, f.first_seen);
    s.last_seen = std::max(s.last_seen, f.last_seen);
    f.reported = true;
    f.reported_packets = f.packets;
    f.reported_out = f.bytes_out;
    f.reported_in = f.bytes_in;
    if (pending_.size() >= 4096) flush_summaries();
}

void Egress::record_session(const FlowKey& key, BoundaryFlow& f, bool ended) {
    if (!f.remote_tool || f.session_refused || !f.evaluated) return;
    // A knock nobody inside answered is no session.
    if (f.direction == FlowDirection::inbound && !f.accepted && !f.direction_guessed) return;
    const std::string day = local_day_.of(f.first_seen);
    if (!f.session_admitted) {
        std::string bucket = device_key(f.inside_mac, key.inside) + "|" + day;
        std::uint32_t* n = &day_count(session_counts_, bucket);
        if (*n >= kMaxRemoteSessionsPerDay) {
            f.session_refused = true;
            ++sessions_capped_;
            return;
        }
        ++*n;
        f.session_admitted = true;
    }
    const bool egress = f.direction == FlowDirection::egress;
    RemoteSession r;
    r.key = remote_session_key("boundary", key.protocol, key.inside, key.inside_port, key.outside,
                               key.outside_port, day);
    r.mac = f.inside_mac;
    r.address = key.inside;
    r.tool = f.remote_tool->name;
    r.direction = egress ? "egress" : "inbound";
    r.remote_address = key.outside;
    r.remote_name = f.name;
    r.port = egress ? key.outside_port : key.inside_port;
    r.protocol = key.protocol;
    r.start = f.first_seen;
    r.end = f.last_seen;
    r.bytes_out = f.bytes_out;
    r.bytes_in = f.bytes_in;
    r.packets = f.packets;
    r.verdict = f.verdict;
    r.recognised_by = f.tool_by;
    r.ongoing = !ended;
    sink_.remote_session(r);
}

void Egress::flush_summaries() {
    if (pending_.empty()) return;
    std::vector<BoundaryFlowSummary> rows;
    rows.reserve(pending_.size());
    for (auto& [_, s] : pending_) rows.push_back(std::move(s));
    pending_.clear();
    sink_.boundary_flows(rows);
}

void Egress::on_tick(Timestamp now) {
    if (next_sweep_ == 0) next_sweep_ = now;
    if (next_report_ == 0) next_report_ = now + 60 * kMicrosPerSecond;
    if (now >= next_sweep_) {
        next_sweep_ = now + 10 * kMicrosPerSecond;
        entries_.for_each([&](BoundaryFlow& f) {
            if (!f.evaluated && now - f.first_seen >= kEvaluateAfter) finish_judging(f);
            Timestamp idle = f.key.protocol == kProtoTcp
                                 ? (f.closed ? 10 * kMicrosPerSecond : kIdleTcp)
                                 : kIdleOther;
            // The flow may outlive the entry (the flow table waits longer); a later packet of
            // it opens a new entry, as a connection seen mid-stream.
            if (now - f.last_seen >= idle) close_entry(f);
        });
    }
    flush_alerts();
    if (now >= next_report_) {
        next_report_ = now + 60 * kMicrosPerSecond;
        entries_.for_each([&](BoundaryFlow& f) {
            report(f.key, f);
            record_session(f.key, f, false);
        });
        flush_summaries();
    }
}

void Egress::on_finish(Timestamp) {
    entries_.for_each([&](BoundaryFlow& f) {
        finish_judging(f);
        report(f.key, f);
        // Still open when the input ends: stored with end = last seen, marked ongoing.
        record_session(f.key, f, f.closed);
    });
    flush_alerts();
    flush_summaries();
}

void Egress::table_use(std::vector<TableUse>& out) const {
    // Entries closed early to make room for new connections.
    out.push_back({"boundary-flows", "open connections across the internet boundary",
                   settings_.policy.max_flows, evictions_});
    // Handshakes spanning segments refused (all streams busy) or evicted (stalled ones).
    out.push_back({"stream-reassembly",
                   "connections whose first bytes are put in order to read their name",
                   streams_.capacity(), streams_.refused() + streams_.evicted()});
    out.push_back(
        {"dns-names", "addresses named by DNS answers", names_.capacity(), names_.evictions()});
    out.push_back({"dns-responses", "DNS queries and responses read per second",
                   kMaxDnsResponsesPerSecond, dns_budget_.refused()});
    // Answers are matched to the queries clients sent; a query dropped from the full table
    // makes its answer look unsolicited.
    out.push_back({"dns-queries", "DNS queries waiting for their answer",
                   DnsNameCache::kMaxOutstandingQueries, names_.queries_evicted()});
    out.push_back({"new-boundary-flows", "new connections tracked per second with the table full",
                   kMaxNewFlowsPerSecondWhenFull, new_flow_budget_.refused()});
    // Beyond these per-device, per-day limits destinations are lumped into one entry ("*").
    out.push_back({"egress-alert-destinations", "alerted destinations per device and day",
                   kMaxAlertDestinations,
                   alerts_capped_ + alert_destinations_.evictions() + alerted_keys_.evictions()});
    out.push_back({"remote-sessions", "remote-access sessions logged per device and day",
                   kMaxRemoteSessionsPerDay, sessions_capped_ + session_counts_.evictions()});
    out.push_back(
        {"egress-summary-destinations", "destinations per device and day in the ledger",
         kMaxSummaryDestinations,
         summaries_capped_ + summary_destinations_.evictions() + summary_rows_.evictions()});
}

}  // namespace clinicwatch
