#include "analyzers/service_health.hpp"

#include <algorithm>
#include <bit>
#include <cstring>

#include "analyzers/packet_context.hpp"
#include "capture/protocols/dhcp.hpp"

namespace clinicwatch {

namespace {

constexpr Timestamp kMinute = 60 * kMicrosPerSecond;
// A minute's row is written once late answers can no longer arrive (the longest timeout).
constexpr Timestamp kMinuteGrace = 15 * kMicrosPerSecond;
// A burst this long tells the path's speed; shorter transfers say little.
constexpr std::uint32_t kBurstBytes = 256 * 1024;
constexpr Timestamp kBurstPause = 50 * 1000;  // a pause this long starts a new burst
// The ceiling: a minute with this many data segments at least, this share retransmitted, and
// bursts slower than half of what the server reached before.
constexpr std::uint32_t kCeilingMinSegments = 200;
constexpr std::uint32_t kCeilingRetransPermille = 20;
constexpr std::uint32_t kCeilingMinLearnedMbps = 150;
// A data flow silent this long may give its slot to another.
// Quiet minutes (nobody trying) after which an open outage is closed at its last failure.
constexpr int kQuietMinutesToClose = 3;

std::uint64_t mix(std::uint64_t x) {
    x ^= x >> 33;
    x *= 0xff51afd7ed558ccdULL;
    x ^= x >> 33;
    x *= 0xc4ceb9fe1a85ec53ULL;
    x ^= x >> 33;
    return x | 1;  // never 0: 0 marks an empty slot
}

std::uint64_t ip_bits(const IpAddress& a) {
    std::uint64_t lo, hi;
    std::memcpy(&lo, a.bytes.data(), 8);
    std::memcpy(&hi, a.bytes.data() + 8, 8);
    return lo * 0x9e3779b97f4a7c15ULL ^ hi ^ static_cast<std::uint64_t>(a.family);
}

std::uint64_t tcp_key(const IpAddress& client, std::uint16_t cport, const IpAddress& server,
                      std::uint16_t sport) {
    return mix(ip_bits(client) * 31 + ip_bits(server) * 17 + (std::uint64_t{cport} << 16 | sport));
}

std::uint16_t be16(const Bytes& b, std::size_t at) {
    return static_cast<std::uint16_t>(b[at] << 8 | b[at + 1]);
}

int local_hour(Timestamp ts) {
    // Clinic time (JST, the sensor's market); the baseline only needs a stable hour of day.
    return static_cast<int>(((ts / kMicrosPerSecond + 9 * 3600) / 3600) % 24);
}

const char* kind_name(int kind) {
    static const char* names[] = {"server-not-answering", "dns-not-answering",
                                  "dhcp-not-answering",   "router-not-answering-arp",
                                  "throughput-ceiling",   "service-not-running",
                                  "dhcp-out-of-addresses"};
    return names[kind];
}

}  // namespace

ServiceHealth::ServiceHealth(FindingSink& sink, ServiceHealthSettings settings)
    : sink_(sink), settings_(std::move(settings)), internal_(settings_.internal_networks) {
    settings_.max_servers = std::clamp<std::size_t>(settings_.max_servers, 1, kNoServer - 1);
    servers_.reserve(settings_.max_servers);
    server_index_.assign(std::bit_ceil(settings_.max_servers * 2), kNoServer);
    pending_.resize(std::bit_ceil(std::max<std::size_t>(settings_.pending_slots, 16)));
    if (settings_.gateway_ip) add_server(*settings_.gateway_ip, MacAddress{});
}

// ------------------------------------------------------------------------------ tables

std::uint16_t ServiceHealth::find_server(const IpAddress& ip) const {
    std::size_t mask = server_index_.size() - 1;
    for (std::size_t i = mix(ip_bits(ip)) & mask;; i = (i + 1) & mask) {
        std::uint16_t at = server_index_[i];
        if (at == kNoServer) return kNoServer;
        if (servers_[at].ip == ip) return at;
    }
}

ServiceHealth::Server* ServiceHealth::server_at(const IpAddress& ip) {
    std::uint16_t at = find_server(ip);
    return at == kNoServer ? nullptr : &servers_[at];
}

std::uint16_t ServiceHealth::add_server(const IpAddress& ip, const MacAddress& mac) {
    std::uint16_t at = find_server(ip);
    if (at != kNoServer) return at;
    if (servers_.size() >= settings_.max_servers) {
        at = evict_quietest();
        if (at == kNoServer) {
            ++servers_refused_;
            return kNoServer;
        }
        servers_[at] = Server{};
    } else {
        at = static_cast<std::uint16_t>(servers_.size());
        servers_.emplace_back();
    }
    Server& s = servers_[at];
    s.ip = ip;
    s.mac = mac;
    s.gateway = settings_.gateway_ip && *settings_.gateway_ip == ip;
    s.last_active = last_packet_;
    std::size_t mask = server_index_.size() - 1;
    std::size_t i = mix(ip_bits(ip)) & mask;
    while (server_index_[i] != kNoServer) i = (i + 1) & mask;
    server_index_[i] = at;
    return at;
}

// The table is full: the server quiet longest gives its place, if it has been quiet a while and
// has no outage open (a flood of new addresses must not push out the servers in use). The
// router never leaves. What it had in flight is forgotten.
std::uint16_t ServiceHealth::evict_quietest() {
    std::uint16_t pick = kNoServer;
    for (std::size_t i = 0; i < servers_.size(); ++i) {
        const Server& s = servers_[i];
        if (s.gateway) continue;
        bool open = false;
        for (const auto& o : s.outages) open = open || o.open;
        if (open || last_packet_ - s.last_active < kEvictIdle) continue;
        if (pick == kNoServer || s.last_active < servers_[pick].last_active)
            pick = static_cast<std::uint16_t>(i);
    }
    if (pick == kNoServer) return kNoServer;
    Server& s = servers_[pick];
    for (auto& b : s.buckets)
        if (b.used) close_bucket(s, b);
    for (auto& p : pending_)
        if (p.type != pNone && p.server == pick) forget(p);
    if (dhcp_server_ == pick) dhcp_server_ = kNoServer;
    ++servers_evicted_;
    s.ip = IpAddress{};
    index_servers();
    return pick;
}

// Open addressing has no simple delete: after an eviction the small index is built again.
void ServiceHealth::index_servers() {
    std::fill(server_index_.begin(), server_index_.end(), kNoServer);
    std::size_t mask = server_index_.size() - 1;
    for (std::size_t at = 0; at < servers_.size(); ++at) {
        if (servers_[at].ip == IpAddress{}) continue;  // the place being given away
        std::size_t i = mix(ip_bits(servers_[at].ip)) & mask;
        while (server_index_[i] != kNoServer) i = (i + 1) & mask;
        server_index_[i] = static_cast<std::uint16_t>(at);
    }
}

ServiceHealth::Bucket* ServiceHealth::bucket_of_minute(Server& s, Timestamp minute) {
    for (auto& b : s.buckets)
        if (b.used && b.row.minute == minute) return &b;
    return nullptr;
}

ServiceHealth::Bucket& ServiceHealth::bucket(Server& s, Timestamp ts) {
    Timestamp minute = ts / kMinute * kMinute;
    s.last_active = std::max(s.last_active, ts);
    Bucket& b = s.buckets[static_cast<std::size_t>(ts / kMinute) & 1];
    if (b.used && b.row.minute == minute) return b;
    if (b.used) close_bucket(s, b);
    b.used = true;
    b.row = ServiceMinute{};
    b.row.minute = minute;
    b.row.server = s.ip;
    b.n_clients = 0;
    b.clients_overflow = 0;
    b.first_fail.fill(0);
    b.last_fail.fill(0);
    b.first_answer.fill(0);
    b.dhcp_out_of_addresses = false;
    return b;
}

ServiceHealth::ClientSlot* ServiceHealth::client(Bucket& b, const MacAddress& mac) {
    for (std::uint32_t i = 0; i < b.n_clients; ++i)
        if (b.clients[i].mac == mac) return &b.clients[i];
    if (b.n_clients == b.clients.size()) {
        ++b.clients_overflow;
        return nullptr;
    }
    ClientSlot& c = b.clients[b.n_clients++];
    c = ClientSlot{};
    c.mac = mac;
    return &c;
}

void ServiceHealth::count_try(Server& s, Timestamp ts, const MacAddress& mac, Service service) {
    if (ClientSlot* c = client(bucket(s, ts), mac)) ++c->tries[service];
}

// Late news (an answer or a timeout) goes to the minute the request was made in, while that
// minute is still held; else to the current one.
void ServiceHealth::count_fail(Server& s, Timestamp first, Timestamp now, const MacAddress& mac,
                               Service service) {
    Bucket* b = bucket_of_minute(s, first / kMinute * kMinute);
    if (!b) b = &bucket(s, now);
    if (!b->first_fail[service] || first < b->first_fail[service]) b->first_fail[service] = first;
    b->last_fail[service] = std::max(b->last_fail[service], first);
    if (ClientSlot* c = client(*b, mac)) ++c->fails[service];
    switch (service) {
        case sTcp:
            ++b->row.tcp_unanswered;
            break;
        case sDns:
            ++b->row.dns_timeouts;
            break;
        case sArp:
            ++b->row.arp_unanswered;
            break;
        case sDhcp:
            break;  // counted per client when the minute closes
        default:
            break;
    }
}

void ServiceHealth::count_answer(Server& s, Timestamp first, Timestamp now, const MacAddress& mac,
                                 Service service) {
    Bucket* b = bucket_of_minute(s, first / kMinute * kMinute);
    if (!b) b = &bucket(s, now);
    if (!b->first_answer[service] || now < b->first_answer[service]) b->first_answer[service] = now;
    if (ClientSlot* c = client(*b, mac)) ++c->answers[service];
}

// Two slots per key (a two-way set), so two requests in flight rarely push each other out.
ServiceHealth::Pending* ServiceHealth::pending_find(std::uint64_t key, PendingType type) {
    std::size_t home = key & (pending_.size() - 1);
    for (std::size_t i : {home, home ^ 1}) {
        Pending& p = pending_[i];
        if (p.type == type && p.key == key) return &p;
    }
    return nullptr;
}

void ServiceHealth::pending_add(std::uint64_t key, PendingType type, std::uint16_t server,
                                const MacAddress& client, Timestamp ts, std::uint8_t dhcp_type) {
    std::size_t home = key & (pending_.size() - 1);
    Pending* slot = &pending_[home];
    Pending& other = pending_[home ^ 1];
    if (slot->type != pNone && (other.type == pNone || other.first < slot->first)) slot = &other;
    Pending& p = *slot;
    // Both taken: the older request is forgotten (neither answered nor unanswered).
    if (p.type != pNone)
        ++pending_replaced_;
    else
        ++pending_open_;
    oldest_pending_ = std::min(oldest_pending_, ts);
    p.key = key;
    p.type = type;
    p.server = server;
    p.client = client;
    p.first = ts;
    p.dhcp_type = dhcp_type;
}

void ServiceHealth::forget(Pending& p) {
    p.type = pNone;
    --pending_open_;
}

void ServiceHealth::expire(const Pending& p, Timestamp now) {
    if (p.server >= servers_.size()) return;
    Server& s = servers_[p.server];
    switch (p.type) {
        case pTcp:
            count_fail(s, p.first, now, p.client, sTcp);
            break;
        case pDns:
            count_fail(s, p.first, now, p.client, sDns);
            break;
        case pDhcp:
            count_fail(s, p.first, now, p.client, sDhcp);
            break;
        case pArp:
            count_fail(s, p.first, now, p.client, sArp);
            break;
        default:
            break;
    }
}

// ------------------------------------------------------------------------------ packets

void ServiceHealth::on_packet(const Packet& p, PacketContext& context) {
    if (p.ts > last_packet_) last_packet_ = p.ts;
    if (p.arp) {
        on_arp(p);
        return;
    }
    if (!p.ip || p.ip->is_later_fragment) return;
    if (p.tcp) {
        on_tcp(p, context);
    } else if (p.udp) {
        std::uint16_t sport = p.udp->src_port, dport = p.udp->dst_port;
        if (dport == 53 || sport == 53)
            on_dns(p, dport == 53);
        else if ((dport == 67 && sport == 68) || (dport == 68 && sport == 67))
            on_dhcp(p, context);
    }
}

void ServiceHealth::on_tcp(const Packet& p, PacketContext& context) {
    const TcpView& t = *p.tcp;
    const IpView& ip = *p.ip;
    if (t.is_syn_only()) {
        if (!internal_.contains(ip.dst)) return;
        std::uint16_t at = add_server(ip.dst, p.dst_mac);
        if (at == kNoServer) return;
        std::uint64_t key = tcp_key(ip.src, t.src_port, ip.dst, t.dst_port);
        if (pending_find(key, pTcp)) return;  // a retransmitted SYN: the same attempt
        Server& s = servers_[at];
        ++bucket(s, p.ts).row.tcp_attempts;
        count_try(s, p.ts, p.src_mac, sTcp);
        pending_add(key, pTcp, at, p.src_mac, p.ts);
        return;
    }
    if (t.is_syn_ack() || (t.flags & TcpView::kRst)) {
        std::uint64_t key = tcp_key(ip.dst, t.dst_port, ip.src, t.src_port);
        if (Pending* pend = pending_find(key, pTcp)) {
            Server& s = servers_[pend->server];
            Bucket* b = bucket_of_minute(s, pend->first / kMinute * kMinute);
            if (!b) b = &bucket(s, p.ts);
            if (t.flags & TcpView::kRst) {
                ++b->row.tcp_refused;
                count_fail(s, pend->first, p.ts, pend->client, sTcp);
                --b->row.tcp_unanswered;  // count_fail counted it as unanswered
            } else {
                ++b->row.tcp_handshakes;
                b->row.tcp_handshake_us += static_cast<std::uint64_t>(p.ts - pend->first);
                if (s.mac.is_zero()) s.mac = p.src_mac;
                s.client_mask |= std::uint64_t{1} << (mix(pend->client.as_u64()) & 63);
                count_answer(s, pend->first, p.ts, pend->client, sTcp);
            }
            forget(*pend);
            return;
        }
    }
    // Data and windows on the servers' connections.
    std::uint16_t at = find_server(ip.src);
    if (at == kNoServer) {
        at = find_server(ip.dst);
        if (at == kNoServer) return;
    }
    Server& s = servers_[at];
    if (t.window == 0 && t.ack_flag() &&
        !(t.flags & (TcpView::kRst | TcpView::kSyn | TcpView::kFin)))
        ++bucket(s, p.ts).row.tcp_zero_windows;
    std::size_t header = std::size_t{t.header_length};
    std::size_t ip_payload =
        ip.total_length > ip.header_length ? std::size_t{ip.total_length} - ip.header_length : 0;
    if (ip.src.is_v6()) ip_payload = p.l3_payload.size();
    std::uint32_t len = ip_payload > header ? static_cast<std::uint32_t>(ip_payload - header) : 0;
    if (len == 0) return;
    Bucket& b = bucket(s, p.ts);
    ++b.row.tcp_data_segments;
    // This direction of the connection, in its slot of the flow table (absent only when the
    // full flow table has not admitted the connection yet: counted there).
    Flow* flow = context.flow();
    if (!flow) return;
    ServiceHealthFlow::Direction& f = flow->slots.service_health.direction[context.direction()];
    std::uint32_t end = t.seq + len;
    if (!f.started) {
        f.started = true;
        f.high_end = end;
        f.burst_start = f.last = p.ts;
        f.burst_bytes = len;
        return;
    }
    if (static_cast<std::int32_t>(end - f.high_end) <= 0) {
        ++b.row.tcp_retransmissions;
    } else {
        f.high_end = end;
    }
    if (p.ts - f.last > kBurstPause) {
        f.burst_start = p.ts;
        f.burst_bytes = 0;
    }
    f.last = p.ts;
    f.burst_bytes += len;
    if (f.burst_bytes >= kBurstBytes && p.ts > f.burst_start) {
        auto mbps = static_cast<std::uint32_t>(std::uint64_t{f.burst_bytes} * 8 /
                                               static_cast<std::uint64_t>(p.ts - f.burst_start));
        b.row.tcp_peak_mbps = std::max(b.row.tcp_peak_mbps, mbps);
        f.burst_start = p.ts;
        f.burst_bytes = 0;
    }
}

void ServiceHealth::on_dns(const Packet& p, bool query) {
    const Bytes& d = p.payload;
    if (d.size() < 12) return;
    std::uint16_t id = be16(d, 0), flags = be16(d, 2);
    bool response = flags & 0x8000;
    if (query == response) return;          // a server asking on port 53, or an odd packet
    if ((flags >> 11 & 0x0f) != 0) return;  // standard queries only
    const IpView& ip = *p.ip;
    if (query) {
        std::uint16_t at = add_server(ip.dst, p.dst_mac);
        if (at == kNoServer) return;
        std::uint64_t key = tcp_key(ip.src, p.udp->src_port, ip.dst, id) ^ 0xd15;
        if (pending_find(key, pDns)) return;  // the resolver asking again: one query
        Server& s = servers_[at];
        ++bucket(s, p.ts).row.dns_queries;
        count_try(s, p.ts, p.src_mac, sDns);
        pending_add(key, pDns, at, p.src_mac, p.ts);
        return;
    }
    std::uint64_t key = tcp_key(ip.dst, p.udp->dst_port, ip.src, id) ^ 0xd15;
    Pending* pend = pending_find(key, pDns);
    if (!pend) return;
    Server& s = servers_[pend->server];
    if (s.mac.is_zero()) s.mac = p.src_mac;
    Bucket* b = bucket_of_minute(s, pend->first / kMinute * kMinute);
    if (!b) b = &bucket(s, p.ts);
    ++b->row.dns_answers;
    b->row.dns_answer_us += static_cast<std::uint64_t>(p.ts - pend->first);
    std::uint8_t rcode = flags & 0x0f;
    if (rcode == 2 || rcode == 5) {
        // SERVFAIL, REFUSED: answered, but the client got nothing usable.
        if (rcode == 2) ++b->row.dns_servfail;
        if (rcode == 5) ++b->row.dns_refused;
        if (ClientSlot* c = client(*b, pend->client)) ++c->fails[sDns];
        if (!b->first_fail[sDns]) b->first_fail[sDns] = pend->first;
        b->last_fail[sDns] = std::max(b->last_fail[sDns], pend->first);
    } else {
        if (rcode == 3) ++b->row.dns_nxdomain;  // the name does not exist: the server works
        count_answer(s, pend->first, p.ts, pend->client, sDns);
    }
    forget(*pend);
}

void ServiceHealth::on_dhcp(const Packet& p, PacketContext& context) {
    // Parsed once for every analyzer; only Ethernet clients (the MAC names the client).
    const dhcp::Message* m = context.dhcp();
    if (!m || !m->chaddr_is_ethernet) return;
    const std::uint8_t op = m->op, type = m->message_type;
    const std::uint32_t xid = m->xid;
    const MacAddress chaddr = m->chaddr;
    std::uint64_t key = mix((std::uint64_t{xid} << 20) ^ chaddr.as_u64() ^ 0xdc9);
    if (op == 1 && (type == 1 || type == 3)) {
        std::uint16_t at = dhcp_server_;
        if (at == kNoServer && settings_.gateway_ip) at = find_server(*settings_.gateway_ip);
        if (at == kNoServer) return;
        Server& s = servers_[at];
        Bucket& b = bucket(s, p.ts);
        if (pending_find(key, pDhcp)) return;  // asked again with the same transaction
        if (type == 1) ++b.row.dhcp_discovers;
        if (type == 3) ++b.row.dhcp_requests;
        count_try(s, p.ts, chaddr, sDhcp);
        pending_add(key, pDhcp, at, chaddr, p.ts, type);
        return;
    }
    if (op != 2 || (type != 2 && type != 5 && type != 6)) return;
    std::uint16_t at = add_server(p.ip->src, p.src_mac);
    if (at == kNoServer) return;
    dhcp_server_ = at;
    Server& s = servers_[at];
    if (s.mac.is_zero()) s.mac = p.src_mac;
    Pending* pend = pending_find(key, pDhcp);
    Timestamp first = pend ? pend->first : p.ts;
    Bucket* b = bucket_of_minute(s, first / kMinute * kMinute);
    if (!b) b = &bucket(s, p.ts);
    if (type == 2) ++b->row.dhcp_offers;
    if (type == 5) ++b->row.dhcp_acks;
    if (type == 6) {
        ++b->row.dhcp_naks;
        if (ClientSlot* c = client(*b, chaddr)) ++c->fails[sDhcp];
        if (!b->first_fail[sDhcp]) b->first_fail[sDhcp] = first;
        b->last_fail[sDhcp] = std::max(b->last_fail[sDhcp], first);
    } else {
        count_answer(s, first, p.ts, chaddr, sDhcp);
    }
    if (pend) forget(*pend);
}

void ServiceHealth::on_arp(const Packet& p) {
    const ArpView& a = *p.arp;
    if (a.is_gratuitous()) return;
    std::uint64_t base = mix(ip_bits(a.sender_ip) * 7 + ip_bits(a.target_ip) + 0xa49);
    if (a.opcode == 1) {
        std::uint16_t at = find_server(a.target_ip);
        if (at == kNoServer) return;
        std::uint64_t key = base;
        if (pending_find(key, pArp)) return;  // asked again: one request
        Server& s = servers_[at];
        ++bucket(s, p.ts).row.arp_requests;
        count_try(s, p.ts, a.sender_mac, sArp);
        pending_add(key, pArp, at, a.sender_mac, p.ts);
    } else if (a.opcode == 2) {
        std::uint64_t key = mix(ip_bits(a.target_ip) * 7 + ip_bits(a.sender_ip) + 0xa49);
        Pending* pend = pending_find(key, pArp);
        if (!pend) return;
        Server& s = servers_[pend->server];
        if (s.mac.is_zero()) s.mac = a.sender_mac;
        count_answer(s, pend->first, p.ts, pend->client, sArp);
        forget(*pend);
    }
}

// ------------------------------------------------------------------------------ minutes

void ServiceHealth::on_tick(Timestamp now) {
    if (pending_open_ && last_packet_ && now - last_packet_ > kGap) {
        // A capture gap (or a network silent for longer than any client waits): whatever was
        // asked before it may have been answered unseen.
        for (auto& p : pending_)
            if (p.type != pNone && p.first <= last_packet_) forget(p);
    }
    // Scanning every slot each second cost more than all the per-packet work on a quiet
    // network: scan only when a request still open may have timed out.
    if (pending_open_ == 0) oldest_pending_ = kNever;
    if (now >= next_expiry_scan_ && now - oldest_pending_ >= kShortestTimeout) {
        next_expiry_scan_ = now + kMicrosPerSecond;
        oldest_pending_ = kNever;
        for (auto& p : pending_) {
            if (p.type == pNone) continue;
            Timestamp limit = p.type == pTcp    ? kTcpTimeout
                              : p.type == pDns  ? kDnsTimeout
                              : p.type == pDhcp ? kDhcpTimeout
                                                : kArpTimeout;
            if (now - p.first < limit) {
                oldest_pending_ = std::min(oldest_pending_, p.first);
                continue;
            }
            // A tick comes with a frame at `now`: the capture was running all along (a gap
            // before it has just cleared what was asked before the gap).
            expire(p, now);
            forget(p);
        }
    }
    for (auto& s : servers_) {
        // An open outage needs every minute judged, also those in which nobody tried.
        bool open = false;
        for (const auto& o : s.outages) open = open || o.open;
        if (open) bucket(s, now);
        for (auto& b : s.buckets)
            if (b.used && now >= b.row.minute + kMinute + kMinuteGrace) close_bucket(s, b);
    }
    if (!rows_.empty()) {
        sink_.service_minutes(rows_);
        rows_.clear();
    }
    if (settings_.record_baseline && now >= next_baseline_) {
        if (next_baseline_) settings_.record_baseline(baseline().dump());
        next_baseline_ = (now / (60 * kMinute) + 1) * 60 * kMinute;
    }
}

void ServiceHealth::on_finish(Timestamp now) {
    for (auto& p : pending_) {
        if (p.type == pNone) continue;
        Timestamp limit = p.type == pTcp    ? kTcpTimeout
                          : p.type == pDhcp ? kDhcpTimeout
                                            : kDnsTimeout;
        if (last_packet_ - p.first >= limit) expire(p, now);
        forget(p);
    }
    for (auto& s : servers_) {
        // The older minute first.
        std::sort(s.buckets.begin(), s.buckets.end(),
                  [](const Bucket& a, const Bucket& b) { return a.row.minute < b.row.minute; });
        for (auto& b : s.buckets)
            if (b.used) close_bucket(s, b);
        for (int k = 0; k < kKinds; ++k)
            if (s.outages[k].open) {
                s.outages[k].open = false;
                emit(s, static_cast<Kind>(k), true);
            }
    }
    if (!rows_.empty()) {
        sink_.service_minutes(rows_);
        rows_.clear();
    }
    if (settings_.record_baseline && !servers_.empty())
        settings_.record_baseline(baseline().dump());
}

nlohmann::json ServiceHealth::baseline() const {
    auto servers = nlohmann::json::array();
    for (const auto& s : servers_) {
        if (s.ip == IpAddress{}) continue;
        auto hours = nlohmann::json::array();
        for (int h = 0; h < 24; ++h)
            hours.push_back(s.fail_share_known[h] ? nlohmann::json(s.fail_share[h]) : nullptr);
        servers.push_back({{"ip", s.ip.to_string()},
                           {"mac", s.mac.is_zero() ? "" : s.mac.to_string()},
                           {"clients", s.client_mask},
                           {"fail_share", hours},
                           {"mbps", s.learned_mbps},
                           {"mbps_minutes", s.learned_minutes},
                           {"last_active_us", s.last_active}});
    }
    return {{"version", 1}, {"servers", servers}};
}

void ServiceHealth::restore_baseline(const nlohmann::json& stored) {
    if (!stored.is_object() || stored.value("version", 0) != 1 || !stored.contains("servers") ||
        !stored["servers"].is_array())
        return;
    for (const auto& e : stored["servers"]) {
        try {
            auto ip = IpAddress::parse(e.at("ip").get<std::string>());
            if (!ip) continue;
            auto mac = MacAddress::parse(e.value("mac", ""));
            std::uint16_t at = add_server(*ip, mac ? *mac : MacAddress{});
            if (at == kNoServer) break;  // more stored than the table holds now
            Server& s = servers_[at];
            s.client_mask |= e.value("clients", std::uint64_t{0});
            const auto& hours = e.at("fail_share");
            for (int h = 0; h < 24 && h < static_cast<int>(hours.size()); ++h) {
                if (!hours[h].is_number()) continue;
                s.fail_share[h] = std::clamp(hours[h].get<float>(), 0.f, 1.f);
                s.fail_share_known[h] = true;
            }
            s.learned_mbps = std::max(0.f, e.value("mbps", 0.f));
            s.learned_minutes = e.value("mbps_minutes", std::uint32_t{0});
            s.last_active = e.value("last_active_us", Timestamp{0});
        } catch (const nlohmann::json::exception&) {
            // One unreadable entry: the others still count.
        }
    }
}

void ServiceHealth::close_bucket(Server& s, Bucket& b) {
    b.used = false;
    ServiceMinute& r = b.row;
    r.server_mac = s.mac;
    for (std::uint32_t i = 0; i < b.n_clients; ++i) {
        const ClientSlot& c = b.clients[i];
        std::uint32_t tries = 0, fails = 0, answers = 0;
        for (int k = 0; k < sServices; ++k) {
            tries += c.tries[k];
            fails += c.fails[k];
            answers += c.answers[k];
        }
        if (!tries && !fails) continue;
        ++r.clients;
        if (fails && !answers) ++r.failed_clients;
        if (c.fails[sDhcp] && !c.answers[sDhcp]) ++r.dhcp_unanswered_clients;
    }
    bool active = r.clients || r.tcp_data_segments || r.arp_requests || r.dns_queries;
    if (active) rows_.push_back(r);
    judge(s, b);
}

// One minute of one server: is it part of an outage, and of which kind?
void ServiceHealth::judge(Server& s, Bucket& b) {
    const ServiceMinute& r = b.row;
    auto per_service = [&](Service service, std::uint32_t& trying, std::uint32_t& failed,
                           std::uint32_t& answered) {
        trying = failed = answered = 0;
        for (std::uint32_t i = 0; i < b.n_clients; ++i) {
            const ClientSlot& c = b.clients[i];
            if (!c.tries[service] && !c.fails[service]) continue;
            ++trying;
            if (c.fails[service] && !c.answers[service]) ++failed;
            if (c.answers[service]) ++answered;
        }
    };
    int hour = local_hour(r.minute);
    std::uint32_t trying, failed, answered;

    // TCP: a server that answered several clients before, now failing most of them.
    per_service(sTcp, trying, failed, answered);
    {
        float share = trying ? static_cast<float>(failed) / static_cast<float>(trying) : 0.f;
        float usual = s.fail_share_known[hour] ? s.fail_share[hour] : 0.f;
        bool known_server = std::popcount(s.client_mask) >= 2;
        bool bad = known_server && failed >= settings_.min_clients && share >= 0.5f &&
                   share >= usual + 0.3f;
        if (!bad && trying) {
            // Learn the hour's usual failures from ordinary minutes only.
            float& f = s.fail_share[hour];
            f = s.fail_share_known[hour] ? 0.9f * f + 0.1f * share : share;
            s.fail_share_known[hour] = true;
        }
        // Refused (RST): the host is up but its service is not; unanswered: the host itself.
        bool refused = r.tcp_refused > r.tcp_unanswered;
        outage_minute(s, kTcp, bad && !refused, answered > 0, b, sTcp, "unanswered");
        outage_minute(s, kRefused, bad && refused, answered > 0, b, sTcp, "refused");
    }
    // DNS: queries left unanswered or failed by most clients.
    per_service(sDns, trying, failed, answered);
    {
        bool bad = failed >= settings_.min_clients && failed * 2 >= trying;
        std::string cause =
            r.dns_servfail + r.dns_refused > r.dns_timeouts ? "failing" : "unanswered";
        outage_minute(s, kDns, bad, answered > 0, b, sDns, cause);
    }
    // DHCP: devices left without an address.
    per_service(sDhcp, trying, failed, answered);
    {
        bool bad = failed >= settings_.min_dhcp_clients && failed * 2 >= trying;
        bool out_of_addresses =
            r.dhcp_naks > 0 || (r.dhcp_acks > 0 && r.dhcp_offers == 0 && r.dhcp_discovers > 0);
        // Turning devices away (NAK, or ACKs for some and no OFFER for the others): the server
        // works but has no address left; silence: the server itself.
        outage_minute(s, kDhcp, bad && !out_of_addresses, answered > 0 && !bad, b, sDhcp,
                      "unanswered");
        outage_minute(s, kDhcpFull, bad && out_of_addresses, answered > 0 && !bad, b, sDhcp,
                      "out-of-addresses");
    }
    // ARP for the router: without its answer nothing reaches the internet.
    if (s.gateway) {
        per_service(sArp, trying, failed, answered);
        bool bad = failed >= settings_.min_clients && failed * 2 >= trying;
        outage_minute(s, kArp, bad, answered > 0, b, sArp, "unanswered");
    }
    // Throughput ceiling: bursts far slower than this server reached before, with retransmissions.
    {
        std::uint32_t permille =
            r.tcp_data_segments ? r.tcp_retransmissions * 1000 / r.tcp_data_segments : 0;
        bool measured = r.tcp_peak_mbps > 0 && r.tcp_data_segments >= kCeilingMinSegments;
        bool bad = measured && s.learned_minutes >= 2 && s.learned_mbps >= kCeilingMinLearnedMbps &&
                   permille >= kCeilingRetransPermille &&
                   static_cast<float>(r.tcp_peak_mbps) * 2 < s.learned_mbps;
        if (measured && !bad) {
            s.learned_mbps = std::max(s.learned_mbps * 0.999f, static_cast<float>(r.tcp_peak_mbps));
            ++s.learned_minutes;
        }
        Outage& o = s.outages[kCeiling];
        if (bad) {
            o.peak_mbps = std::max(o.peak_mbps, r.tcp_peak_mbps);
            o.retrans_permille = std::max(o.retrans_permille, permille);
            // The ceiling's "clients" are those that moved data in the minute; the times are the
            // minute's.
            b.first_fail[sTcp] = b.first_fail[sTcp] ? b.first_fail[sTcp] : r.minute;
            b.last_fail[sTcp] = r.minute + kMinute - 1;
        }
        outage_minute(s, kCeiling, bad, measured && !bad, b, sTcp, "ceiling");
    }
}

void ServiceHealth::outage_minute(Server& s, Kind kind, bool bad, bool answered, const Bucket& b,
                                  Service service, const std::string& cause) {
    Outage& o = s.outages[kind];
    if (bad) {
        Timestamp first = b.first_fail[service] ? b.first_fail[service] : b.row.minute;
        Timestamp last = b.last_fail[service] ? b.last_fail[service] : b.row.minute;
        if (!o.open) {
            std::uint32_t keep_peak = o.peak_mbps, keep_retrans = o.retrans_permille;
            o = Outage{};
            o.open = true;
            o.end = 0;
            o.start = first;
            o.peak_mbps = keep_peak;
            o.retrans_permille = keep_retrans;
        }
        o.last_bad = std::max(o.last_bad, last);
        o.quiet_minutes = 0;
        o.cause = cause;
        std::uint32_t trying = 0;
        for (std::uint32_t i = 0; i < b.n_clients; ++i) {
            const ClientSlot& c = b.clients[i];
            bool tried = c.tries[service] || c.fails[service];
            if (!tried) continue;
            ++trying;
            o.attempts += c.tries[service];
            o.failed += c.fails[service];
            bool affected = kind == kCeiling ? true : (c.fails[service] && !c.answers[service]);
            if (!affected) continue;
            bool known = false;
            for (std::uint32_t j = 0; j < o.n_clients; ++j) known = known || o.clients[j] == c.mac;
            if (!known && o.n_clients < o.clients.size()) o.clients[o.n_clients++] = c.mac;
        }
        o.max_trying = std::max(o.max_trying, trying);
        emit(s, kind, false);
        return;
    }
    if (!o.open) {
        o.peak_mbps = 0;
        o.retrans_permille = 0;
        return;
    }
    // Answered again: the outage ended with its last failure. Nobody trying: wait a while.
    if (answered || ++o.quiet_minutes >= kQuietMinutesToClose) {
        o.open = false;
        // Answered again: the outage lasted until that first answer.
        if (answered)
            o.end = kind == kCeiling
                        ? b.row.minute
                        : (b.first_answer[service] ? b.first_answer[service] : b.row.minute);
        emit(s, kind, true);
        o.peak_mbps = 0;
        o.retrans_permille = 0;
    }
}

void ServiceHealth::emit(Server& s, Kind kind, bool ended) {
    const Outage& o = s.outages[kind];
    AlertUpdate a;
    a.kind = kind_name(kind);
    a.key = a.kind + ":" + s.ip.to_string() + ":" + std::to_string(o.start / kMicrosPerSecond);
    a.severity = kind == kCeiling ? Severity::medium : Severity::high;
    if (!s.mac.is_zero()) a.subject_mac = s.mac;
    a.subject = s.ip.to_string();
    a.first_seen = o.start;
    a.last_seen = std::max(o.start, ended && o.end ? o.end : o.last_bad);
    a.count = ended ? 0 : 1;
    a.ended = ended;
    nlohmann::json clients = nlohmann::json::array();
    for (std::uint32_t i = 0; i < o.n_clients; ++i) clients.push_back(o.clients[i].to_string());
    a.summary = std::string(a.kind) + ": " + s.ip.to_string() + " left " +
                std::to_string(o.n_clients) + " clients without an answer (" + o.cause + ")";
    a.evidence = {{"server_ip", s.ip.to_string()},
                  {"server_mac", s.mac.is_zero() ? "" : s.mac.to_string()},
                  {"device_ip", s.ip.to_string()},
                  {"cause", o.cause},
                  {"clients", clients},
                  {"clients_count", o.n_clients},
                  {"clients_trying", o.max_trying},
                  {"attempts", o.attempts},
                  {"failed", o.failed},
                  {"start_us", o.start},
                  {"end_us", a.last_seen},
                  {"gateway", s.gateway},
                  {"ended", ended}};
    if (kind == kCeiling) {
        a.evidence["peak_mbps"] = o.peak_mbps;
        a.evidence["usual_mbps"] = static_cast<std::uint32_t>(s.learned_mbps);
        a.evidence["retransmission_percent"] = o.retrans_permille / 10.0;
    }
    sink_.alert(std::move(a));
}

void ServiceHealth::table_use(std::vector<TableUse>& out) const {
    out.push_back({"service-servers",
                   "servers whose health is followed per minute (the quietest gives way when full)",
                   settings_.max_servers, servers_refused_ + servers_evicted_});
    out.push_back({"service-requests", "connection attempts and requests waiting for an answer",
                   pending_.size(), pending_replaced_});
}

}  // namespace clinicwatch
