#include "analyzers/flow_table.hpp"

#include <cstring>
#include <utility>

namespace clinicwatch {

namespace {

std::uint64_t mix(std::uint64_t h) {
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdULL;
    h ^= h >> 33;
    h *= 0xc4ceb9fe1a85ec53ULL;
    h ^= h >> 33;
    return h;
}

// The flow seen from the other side: the first packet's sender turned out to be the answering
// side (a SYN or SYN-ACK showed it later).
void swap_sides(Flow& f) {
    std::swap(f.opener, f.responder);
    f.opener_is_low = !f.opener_is_low;
    std::swap(f.opener_port, f.responder_port);
    std::swap(f.opener_mac, f.responder_mac);
    std::swap(f.packets[0], f.packets[1]);
    std::swap(f.bytes[0], f.bytes[1]);
    std::swap(f.isn[0], f.isn[1]);
    std::uint8_t fins = f.tcp & (Flow::kFinFromOpener | Flow::kFinFromResponder);
    f.tcp &= static_cast<std::uint8_t>(~(Flow::kFinFromOpener | Flow::kFinFromResponder));
    if (fins & Flow::kFinFromOpener) f.tcp |= Flow::kFinFromResponder;
    if (fins & Flow::kFinFromResponder) f.tcp |= Flow::kFinFromOpener;
    std::swap(f.slots.service_health.direction[0], f.slots.service_health.direction[1]);
}

constexpr std::uint8_t kTcpProtocol = 6;

std::uint16_t src_port(const Packet& p) {
    return p.tcp ? p.tcp->src_port : p.udp ? p.udp->src_port : 0;
}

}  // namespace

std::size_t FlowTupleHash::operator()(const FlowTuple& t) const noexcept {
    const auto& w = t.words;
    std::uint64_t h =
        (w[0] * 0x9e3779b97f4a7c15ULL ^ w[1]) * 31 + (w[2] * 0x9e3779b97f4a7c15ULL ^ w[3]);
    return static_cast<std::size_t>(mix(h ^ w[4]));
}

FlowTable::FlowTable(FlowTableSettings settings)
    : settings_(settings),
      flows_(settings_.capacity, 0x666c6f7773),
      probation_(settings_.probation_slots, settings_.probation_window),
      budget_(settings_.max_new_flows_per_second_when_full) {}

bool FlowTable::tuple_of(const Packet& packet, FlowTuple& out, bool& src_is_low) {
    if (!packet.ip || packet.ip->is_later_fragment) return false;
    const IpView& ip = *packet.ip;
    const auto [sport, dport] = packet.ports();
    std::uint64_t s[2], d[2];
    std::memcpy(s, ip.src.bytes.data(), 16);
    std::memcpy(d, ip.dst.bytes.data(), 16);
    // Any consistent order of the endpoints will do: compare them as integers.
    src_is_low = s[0] != d[0] ? s[0] < d[0] : s[1] != d[1] ? s[1] < d[1] : sport <= dport;
    auto& w = out.words;
    w[0] = src_is_low ? s[0] : d[0];
    w[1] = src_is_low ? s[1] : d[1];
    w[2] = src_is_low ? d[0] : s[0];
    w[3] = src_is_low ? d[1] : s[1];
    const std::uint16_t low_port = src_is_low ? sport : dport;
    const std::uint16_t high_port = src_is_low ? dport : sport;
    w[4] = std::uint64_t{low_port} << 48 | std::uint64_t{high_port} << 32 |
           std::uint64_t{packet.vlan} << 16 | std::uint64_t{ip.protocol} << 8 |
           static_cast<std::uint8_t>(ip.src.family);
    return true;
}

FlowTable::Lookup FlowTable::track(const Packet& packet) {
    FlowTuple key;
    bool src_is_low = true;
    if (!tuple_of(packet, key, src_is_low)) return {};
    const IpView& ip = *packet.ip;
    const TcpView* tcp = packet.tcp ? &*packet.tcp : nullptr;
    const bool syn_only = tcp && tcp->is_syn_only();
    const bool syn_ack = tcp && tcp->is_syn_ack();

    Lookup out;
    Flow* flow = flows_.find(key);
    if (flow && flow->closed() && syn_only && src_is_low == flow->opener_is_low &&
        flow->opener_port == tcp->src_port &&
        (!(flow->tcp & Flow::kSyn) || flow->isn[0] != tcp->seq)) {
        // The same ports again after a close: a new connection, not more of the old one.
        ended(*flow);
        *flow = Flow{};
        out.created = true;
    } else if (!flow) {
        bool first_sender_is_src = true;
        if (flows_.size() >= flows_.capacity()) {
            std::uint64_t h = FlowTupleHash{}(key);
            if (probation_.check(h, mix(h ^ 0x70726f62), packet.ts, src_is_low ? 1 : 0) !=
                    Probation::Outcome::admitted ||
                !budget_.admit(packet.ts))
                return {};
            first_sender_is_src = (probation_.first_tag() != 0) == src_is_low;
        }
        flow = &flows_.insert(
            key, Flow{}, [](const Flow& a, const Flow& b) { return a.last_seen < b.last_seen; },
            [this](const FlowTuple&, Flow& evicted) { ended(evicted); });
        out.created = true;
        // Who opened it: the SYN's sender; a SYN-ACK's receiver; else the first sender.
        bool opener_is_src = syn_ack ? false : (syn_only ? true : first_sender_is_src);
        flow->opened_by = syn_only  ? Flow::OpenedBy::syn
                          : syn_ack ? Flow::OpenedBy::syn_ack
                                    : Flow::OpenedBy::first_packet;
        flow->opener_is_low = opener_is_src == src_is_low;
        flow->opener = opener_is_src ? ip.src : ip.dst;
        flow->responder = opener_is_src ? ip.dst : ip.src;
        const std::uint16_t sport = src_port(packet);
        const std::uint16_t dport = tcp ? tcp->dst_port : packet.udp ? packet.udp->dst_port : 0;
        flow->opener_port = opener_is_src ? sport : dport;
        flow->responder_port = opener_is_src ? dport : sport;
    }
    Flow& f = *flow;
    if (out.created) {
        f.vlan = packet.vlan;
        f.protocol = ip.protocol;
        f.first_seen = packet.ts;
        if (f.opener.empty()) {  // reopened after a close: the SYN's sender opens
            f.opened_by = Flow::OpenedBy::syn;
            f.opener_is_low = src_is_low;
            f.opener = ip.src;
            f.responder = ip.dst;
            f.opener_port = tcp->src_port;
            f.responder_port = tcp->dst_port;
        }
    }
    bool from_opener = src_is_low == f.opener_is_low;
    if (tcp && f.opened_by != Flow::OpenedBy::syn &&
        ((syn_only && !from_opener) || (syn_ack && from_opener))) {
        // The handshake shows the other side opened (our first packet was its answer).
        swap_sides(f);
        f.opened_by = syn_only ? Flow::OpenedBy::syn : Flow::OpenedBy::syn_ack;
        from_opener = !from_opener;
    }
    const std::size_t dir = from_opener ? 0 : 1;
    ++f.packets[dir];
    f.bytes[dir] += packet.wire_length;
    if (packet.ts > f.last_seen) f.last_seen = packet.ts;
    MacAddress& mac = from_opener ? f.opener_mac : f.responder_mac;
    if (mac.is_zero()) mac = packet.src_mac;
    if (tcp) {
        if (syn_only && from_opener) {
            f.tcp |= Flow::kSyn;
            f.isn[0] = tcp->seq;
        } else if (syn_ack && !from_opener) {
            f.tcp |= Flow::kSynAck;
            f.isn[1] = tcp->seq;
        }
        if (tcp->flags & TcpView::kFin)
            f.tcp |= from_opener ? Flow::kFinFromOpener : Flow::kFinFromResponder;
        if (tcp->flags & TcpView::kRst) f.tcp |= Flow::kRst;
    }
    out.flow = &f;
    out.from_opener = from_opener;
    return out;
}

void FlowTable::expire(Timestamp now) {
    flows_.erase_if([&](const FlowTuple&, Flow& f) {
        Timestamp idle = f.protocol == kTcpProtocol
                             ? (f.closed() ? settings_.idle_closed : settings_.idle_tcp)
                             : settings_.idle_other;
        if (now - f.last_seen <= idle) return false;
        ++expired_;
        ended(f);
        return true;
    });
}

void FlowTable::table_use(std::vector<TableUse>& out) const {
    out.push_back({"flows",
                   "connections followed by every analyzer (5-tuple and VLAN, both directions)",
                   flows_.capacity(), flows_.evictions() + refused()});
}

}  // namespace clinicwatch
