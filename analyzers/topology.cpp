#include "analyzers/topology.hpp"

#include <algorithm>
#include <bit>
#include <ctime>

#include "analyzers/packet_context.hpp"
#include "capture/protocols/cdp.hpp"
#include "capture/protocols/dhcp.hpp"
#include "capture/protocols/lldp.hpp"
#include "capture/protocols/stp.hpp"

namespace clinicwatch {

namespace {

// Two addresses of one device count as "at once" when both were in use over this long a
// stretch: a device renumbered by a second DHCP server uses one, then the other.
constexpr Timestamp kOverlap = 60 * kMicrosPerSecond;
// Every element's last_seen is written again this often (packet time).
constexpr Timestamp kRefresh = 300 * kMicrosPerSecond;
constexpr std::size_t kMaxList = 16;  // ports, addresses per element

std::string ip_text(std::uint32_t ip) {
    return IpAddress::v4(ip).to_string();
}

MacAddress mac_of(std::uint64_t key) {
    MacAddress m;
    std::uint64_t v = key >> 12;
    for (int i = 5; i >= 0; --i, v >>= 8) m.bytes[static_cast<std::size_t>(i)] = v & 0xff;
    return m;
}

std::uint64_t member_key(const MacAddress& mac, std::uint16_t vlan) {
    return (mac.as_u64() << 12) | (vlan & 0xfff);
}

bool add_text(std::vector<std::string>& list, const std::string& value) {
    if (value.empty() || list.size() >= kMaxList) return false;
    if (std::find(list.begin(), list.end(), value) != list.end()) return false;
    list.push_back(value);
    return true;
}

nlohmann::json seen_list(std::uint8_t seen) {
    nlohmann::json out = nlohmann::json::array();
    static const std::pair<std::uint8_t, const char*> kNames[] = {
        {1, "arp"}, {2, "dhcp"}, {4, "lldp"}, {8, "cdp"}, {16, "traffic"}};
    for (const auto& [bit, name] : kNames)
        if (seen & bit) out.push_back(name);
    return out;
}

std::string port_text(std::uint16_t port_id) {
    // Priority in the high 4 bits, the port number below (802.1D-2004 9.2.7).
    return std::to_string(port_id & 0x0fff);
}

}  // namespace

std::string Topology::Subnet::text() const {
    return IpNetwork{IpAddress::v4(base), std::popcount(mask)}.to_string();
}

Topology::Topology(FindingSink& sink, TopologySettings settings, const HostTable* hosts)
    : sink_(sink), hosts_(hosts), s_(std::move(settings)), internal_(s_.internal_networks) {
    s_.max_subnets = std::min<std::size_t>(s_.max_subnets, 64);
    subnets_.reserve(s_.max_subnets);
}

bool Topology::is_lan(std::uint32_t ip) const {
    if (ip == 0 || ip == 0xffffffff || (ip >> 28) == 0xe)
        return false;                                   // unset, broadcast, multicast
    if ((ip & 0xffff0000) == 0xa9fe0000) return false;  // link-local: no network of its own
    return internal_.contains(IpAddress::v4(ip));
}

int Topology::subnet_of(std::uint16_t vlan, std::uint32_t ip, Timestamp ts, std::uint32_t mask,
                        bool create) {
    for (std::size_t i = 0; i < subnets_.size(); ++i) {
        Subnet& n = subnets_[i];
        if (n.vlan == vlan && (ip & n.mask) == n.base) {
            // A DHCP server's mask is better knowledge than our /24 guess.
            if (mask && mask != n.mask && !(n.seen & kSeenDhcp)) {
                n.mask = mask;
                n.base = ip & mask;
                n.dirty = changed_ = segments_changed_ = true;
            }
            if (ts > n.last) n.last = ts;
            return static_cast<int>(i);
        }
    }
    if (!create || !is_lan(ip)) return -1;
    if (subnets_.size() >= s_.max_subnets) {
        ++refused_subnets_;
        return -1;
    }
    Subnet n;
    n.vlan = vlan;
    n.mask = mask ? mask : 0xffffff00;
    n.base = ip & n.mask;
    n.first = n.last = ts;
    subnets_.push_back(std::move(n));
    changed_ = segments_changed_ = true;
    return static_cast<int>(subnets_.size() - 1);
}

void Topology::remember(const MacAddress& mac, std::uint16_t vlan, std::uint32_t ip, int subnet,
                        Timestamp ts) {
    auto key = member_key(mac, vlan);
    auto it = members_.find(key);
    if (it == members_.end()) {
        if (members_.size() >= s_.max_members) {
            ++refused_members_;
            return;
        }
        it = members_.emplace(key, Member{}).first;
    }
    Member& m = it->second;
    Slot* slot = nullptr;
    for (std::uint8_t i = 0; i < m.used; ++i)
        if (m.slots[i].subnet == subnet) slot = &m.slots[i];
    if (!slot) {
        if (m.used < kMaxSlots) {
            slot = &m.slots[m.used++];
        } else {  // the network it used longest ago makes room
            slot = &*std::min_element(m.slots.begin(), m.slots.end(),
                                      [](const Slot& a, const Slot& b) { return a.last < b.last; });
        }
        *slot = Slot{static_cast<std::uint8_t>(subnet), ip, ts, ts};
    }
    slot->ip = ip;
    slot->last = ts;
    if (m.multi_homed || m.used < 2) return;
    for (std::uint8_t i = 0; i < m.used; ++i) {
        const Slot& other = m.slots[i];
        if (&other == slot) continue;
        Timestamp overlap = std::min(other.last, slot->last) - std::max(other.first, slot->first);
        if (overlap >= kOverlap) {
            m.multi_homed = true;
            changed_ = segments_changed_ = true;
        }
    }
}

Topology::Router* Topology::router(const MacAddress& mac, std::uint16_t vlan, Timestamp ts) {
    if (mac.is_multicast() || mac.is_zero()) return nullptr;
    for (auto& r : routers_)
        if (r.mac == mac && r.vlan == vlan) {
            r.last = ts;
            return &r;
        }
    if (routers_.size() >= s_.max_devices) {
        ++refused_devices_;
        return nullptr;
    }
    Router r;
    r.mac = mac;
    r.vlan = vlan;
    r.first = r.last = ts;
    routers_.push_back(std::move(r));
    changed_ = segments_changed_ = true;
    return &routers_.back();
}

void Topology::on_packet(const Packet& p, PacketContext& context) {
    if (p.arp) return on_arp(p);
    if (p.ip) {
        if (!p.ip->src.is_v4()) return;
        on_ipv4(p);
        if (p.udp && p.udp->src_port == dhcp::kServerPort) on_dhcp(p, context);
        // DNS queries (a UDP query, or a TCP connection opened to port 53).
        if ((p.udp && p.udp->dst_port == 53 && p.payload.size() >= 12 && !(p.payload[2] & 0x80)) ||
            (p.tcp && p.tcp->dst_port == 53 && p.tcp->is_syn_only()))
            on_dns_query(p);
        return;
    }
    if (p.llc) {
        if (stp::is_bpdu_frame(p)) return on_bpdu(p, context);
        if (p.llc->snap && p.llc->snap_oui == cdp::kSnapOui && p.llc->snap_type == cdp::kSnapType)
            return on_cdp(p, context);
        return;
    }
    if (p.ethertype == lldp::kEtherType) on_lldp(p, context);
}

void Topology::on_arp(const Packet& p) {
    const ArpView& a = *p.arp;
    if (!a.sender_ip.is_v4()) return;
    std::uint32_t ip = a.sender_ip.v4_host_order();
    int n = subnet_of(p.vlan, ip, p.ts);
    if (n < 0) return;
    Subnet& s = subnets_[static_cast<std::size_t>(n)];
    if (!(s.seen & kSeenArp)) {
        s.seen |= kSeenArp;
        s.dirty = changed_ = segments_changed_ = true;
    }
    if (!hosts_ || !hosts_->turned_away(p.src_mac, p.vlan))
        remember(a.sender_mac, p.vlan, ip, n, p.ts);
}

void Topology::on_ipv4(const Packet& p) {
    std::uint32_t src = p.ip->src.v4_host_order(), dst = p.ip->dst.v4_host_order();
    if (!p.has_dst_mac || p.l2_broadcast || p.l2_multicast) return;
    if (!is_lan(dst)) {
        // Internet-bound (or multicast, broadcast): the frame's destination is a router.
        if ((dst >> 28) == 0xe || dst == 0xffffffff) return;
        std::uint32_t prefix = src & 0xffffff00;
        if (p.dst_mac == last_router_ && prefix == last_internet_prefix_) return;
        if (!is_lan(src)) return;  // transit
        Router* r = router(p.dst_mac, p.vlan, p.ts);
        if (!r) return;
        if (!r->internet) {
            r->internet = true;
            r->dirty = changed_ = segments_changed_ = true;
        }
        int n = subnet_of(p.vlan, src, p.ts);
        if (n >= 0) {
            Subnet& s = subnets_[static_cast<std::size_t>(n)];
            Bits bit = Bits{1} << n;
            if (!(r->serves & bit)) {
                r->serves |= bit;
                r->dirty = changed_ = segments_changed_ = true;
            }
            if (!s.internet || !(s.seen & kSeenTraffic)) {
                s.internet = true;
                s.seen |= kSeenTraffic;
                s.dirty = changed_ = segments_changed_ = true;
            }
        }
        last_router_ = p.dst_mac;
        last_internet_prefix_ = prefix;
        return;
    }
    if (((src ^ dst) & 0xffffff00) == 0 || !is_lan(src)) return;  // same /24, or from outside
    int a = subnet_of(p.vlan, src, p.ts, 0, false), b = subnet_of(p.vlan, dst, p.ts, 0, false);
    if (a < 0 || b < 0 || a == b) return;
    // Delivered to the device that holds the address: two networks talking directly on one
    // cable. To anyone else: that device forwards between the two networks.
    auto m = members_.find(member_key(p.dst_mac, p.vlan));
    if (m != members_.end())
        for (std::uint8_t i = 0; i < m->second.used; ++i)
            if (m->second.slots[i].ip == dst) return;
    Router* r = router(p.dst_mac, p.vlan, p.ts);
    if (!r) return;
    Bits bits = (Bits{1} << a) | (Bits{1} << b);
    if ((r->between & bits) != bits) {
        r->between |= bits;
        r->dirty = changed_ = segments_changed_ = true;
    }
}

void Topology::on_dhcp(const Packet& p, PacketContext& context) {
    const dhcp::Message* m = context.dhcp();
    if (!m || m->op != 2) return;
    if (m->message_type != dhcp::kOffer && m->message_type != dhcp::kAck) return;
    if (!m->yiaddr.is_v4() || m->yiaddr.is_unspecified()) return;
    std::uint32_t mask =
        m->subnet_mask && m->subnet_mask->is_v4() ? m->subnet_mask->v4_host_order() : 0;
    // Only contiguous masks from /8 to /30 describe a network.
    if (mask && (std::popcount(mask) < 8 || std::popcount(mask) > 30 ||
                 std::countl_one(mask) != std::popcount(mask)))
        mask = 0;
    int n = subnet_of(p.vlan, m->yiaddr.v4_host_order(), p.ts, mask);
    if (n < 0) return;
    Subnet& s = subnets_[static_cast<std::size_t>(n)];
    bool changed = !(s.seen & kSeenDhcp);
    s.seen |= kSeenDhcp;
    for (const auto& r : m->routers) changed |= add_text(s.gateways, r.to_string());
    if (changed) s.dirty = changed_ = segments_changed_ = true;

    DhcpServer* server = nullptr;
    for (auto& d : dhcp_servers_)
        if (d.mac == p.src_mac && d.vlan == p.vlan) server = &d;
    if (!server) {
        if (dhcp_servers_.size() >= s_.max_devices) {
            ++refused_devices_;
            return;
        }
        DhcpServer d;
        d.mac = p.src_mac;
        d.vlan = p.vlan;
        d.first = p.ts;
        dhcp_servers_.push_back(std::move(d));
        server = &dhcp_servers_.back();
        changed_ = segments_changed_ = true;
    }
    server->last = p.ts;
    std::string id = m->server_id ? m->server_id->to_string() : p.ip->src.to_string();
    bool grew = server->server_ip != id;
    server->server_ip = id;
    Bits bit = Bits{1} << n;
    grew |= !(server->hands_out & bit);
    server->hands_out |= bit;
    for (const auto& r : m->routers) grew |= add_text(server->routers, r.to_string());
    for (const auto& d : m->dns_servers) grew |= add_text(server->dns, d.to_string());
    if (m->message_type == dhcp::kOffer &&
        !repeated((std::uint64_t{m->xid} << 16) ^ p.src_mac.as_u64(), p.ts)) {
        // Counted, and written with the next refresh unless something else changed.
        auto [it, fresh] = server->offers_by_day.try_emplace(local_day_.of(p.ts), 0);
        ++it->second;
        if (fresh) {
            grew = true;
            if (server->offers_by_day.size() > kMaxDays)
                server->offers_by_day.erase(server->offers_by_day.begin());
        }
    }
    if (grew) server->dirty = changed_ = segments_changed_ = true;
}

void Topology::on_dns_query(const Packet& p) {
    std::uint32_t src = p.ip->src.v4_host_order(), dst = p.ip->dst.v4_host_order();
    if (!is_lan(src) || src == dst) return;
    DnsServer* server = nullptr;
    for (auto& d : dns_servers_)
        if (d.ip == dst && d.vlan == p.vlan) server = &d;
    if (!server) {
        if (dns_servers_.size() >= s_.max_devices) {
            ++refused_devices_;
            return;
        }
        DnsServer d;
        d.ip = dst;
        d.vlan = p.vlan;
        d.lan = is_lan(dst);
        if (d.lan) d.mac = p.dst_mac;
        d.first = p.ts;
        dns_servers_.push_back(std::move(d));
        server = &dns_servers_.back();
        changed_ = true;
    }
    server->last = p.ts;
    // The query's id (UDP) and the client's address and port name it.
    const std::uint16_t sport = p.udp ? p.udp->src_port : p.tcp->src_port;
    const std::uint64_t id = p.udp ? (std::uint64_t{p.payload[0]} << 8 | p.payload[1]) : 0x10000;
    if (repeated((std::uint64_t{src} << 32 | std::uint64_t{sport} << 17 | id) ^ dst, p.ts)) return;
    auto [it, fresh] = server->queries_by_day.try_emplace(local_day_.of(p.ts), 0);
    ++it->second;
    if (fresh && server->queries_by_day.size() > kMaxDays)
        server->queries_by_day.erase(server->queries_by_day.begin());
    bool new_client = false;
    if (std::find(server->clients.begin(), server->clients.end(), p.src_mac) ==
        server->clients.end()) {
        if (server->clients.size() < kMaxDnsClients) {
            server->clients.push_back(p.src_mac);
            new_client = true;
        } else {
            server->more_clients = true;
        }
    }
    // The counts alone wait for the next refresh: a query must not cost a write.
    if (fresh || new_client) server->dirty = changed_ = true;
}

bool Topology::repeated(std::uint64_t key, Timestamp ts) {
    constexpr Timestamp kWindow = 2 * kMicrosPerSecond;
    for (const auto& [k, t] : recent_)
        if (k == key && ts - t < kWindow && t != 0) return true;
    recent_[recent_next_] = {key, ts};
    recent_next_ = (recent_next_ + 1) % recent_.size();
    return false;
}

void Topology::on_bpdu(const Packet& p, PacketContext& context) {
    const stp::Bpdu* b = context.stp();  // parsed once (stp-changes reads it too)
    if (!b || b->is_tcn()) return;
    std::string id = b->sender().to_string(), root = b->root.to_string();
    Bridge* bridge = nullptr;
    for (auto& x : bridges_)
        if (x.id == id) bridge = &x;
    if (!bridge) {
        if (bridges_.size() >= s_.max_devices) {
            ++refused_devices_;
            return;
        }
        Bridge x;
        x.id = id;
        x.mac = b->sender().mac;
        x.first = p.ts;
        bridges_.push_back(std::move(x));
        bridge = &bridges_.back();
        changed_ = true;
    }
    bridge->last = p.ts;
    std::string port = port_text(b->port_id);
    bool changed = bridge->root != root || bridge->root_cost != b->root_path_cost ||
                   bridge->version != b->version;
    bridge->root = root;
    bridge->root_cost = b->root_path_cost;
    bridge->version = b->version;
    if (std::find(bridge->ports.begin(), bridge->ports.end(), b->port_id) == bridge->ports.end() &&
        bridge->ports.size() < kMaxList) {
        bridge->ports.push_back(b->port_id);
        changed = true;
    }
    if (changed) bridge->dirty = changed_ = true;
    bool known = false;
    for (const auto& [r, first] : roots_) known |= r == root;
    if (!known && roots_.size() < kMaxList) {
        roots_.emplace_back(root, p.ts);
        changed_ = true;
    }
}

void Topology::on_lldp(const Packet& p, PacketContext& context) {
    const lldp::Message* m = context.lldp();
    if (!m) return;
    Announced* a = nullptr;
    for (auto& x : announced_)
        if (x.mac == p.src_mac) a = &x;
    if (!a) {
        if (announced_.size() >= s_.max_devices) {
            ++refused_devices_;
            return;
        }
        Announced x;
        x.mac = p.src_mac;
        x.vlan = p.vlan;
        x.first = p.ts;
        announced_.push_back(std::move(x));
        a = &announced_.back();
    }
    a->last = p.ts;
    std::uint16_t caps = m->enabled_capabilities ? m->enabled_capabilities : m->capabilities;
    // What the device says it is: an access point first (they bridge too), then a switch
    // (layer-3 switches also route), then a router.
    std::string role = (caps & lldp::kWlanAccessPoint) ? "access-point"
                       : (caps & lldp::kBridge)        ? "switch"
                       : (caps & lldp::kRouter)        ? "router"
                       : (caps & lldp::kTelephone)     ? "phone"
                                                       : "device";
    bool changed = !(a->seen & kSeenLldp) || a->name != m->system_name ||
                   a->description != m->system_description || a->role != role;
    a->seen |= kSeenLldp;
    a->chassis = m->chassis_id;
    if (!m->system_name.empty()) a->name = m->system_name;
    if (!m->system_description.empty()) a->description = m->system_description;
    a->capabilities = lldp::capabilities_text(caps);
    a->role = role;
    changed |= add_text(a->ports, m->port_id);
    if (!m->port_description.empty())
        changed |= add_text(a->port_descriptions, m->port_description);
    for (const auto& addr : m->management_addresses)
        if (!addr.is_unspecified()) changed |= add_text(a->addresses, addr.to_string());
    if (changed) a->dirty = changed_ = true;
}

void Topology::on_cdp(const Packet& p, PacketContext& context) {
    const cdp::Message* m = context.cdp();
    if (!m) return;
    Announced* a = nullptr;
    for (auto& x : announced_)
        if (x.mac == p.src_mac) a = &x;
    if (!a) {
        if (announced_.size() >= s_.max_devices) {
            ++refused_devices_;
            return;
        }
        Announced x;
        x.mac = p.src_mac;
        x.vlan = p.vlan;
        x.first = p.ts;
        announced_.push_back(std::move(x));
        a = &announced_.back();
    }
    a->last = p.ts;
    bool changed = !(a->seen & kSeenCdp) || a->platform != m->platform;
    a->seen |= kSeenCdp;
    if (a->name.empty()) a->name = m->device_id;
    a->platform = m->platform;
    if (a->description.empty()) a->description = m->software_version;
    // LLDP's capability bits say more (CDP has no access-point bit); without LLDP: a switch,
    // a router, or a transparent bridge that is no switch, which is what Cisco APs announce.
    if (!(a->seen & kSeenLldp)) {
        std::string caps = cdp::capabilities_text(m->capabilities);
        std::string role = (m->capabilities & 0x08)   ? "switch"
                           : (m->capabilities & 0x01) ? "router"
                           : (m->capabilities & 0x80) ? "phone"
                           : (m->capabilities & 0x02) ? "access-point"
                                                      : "device";
        changed |= a->role != role;
        a->role = role;
        a->capabilities = caps;
    }
    changed |= add_text(a->ports, m->port_id);
    for (const auto& addr : m->addresses)
        if (!addr.is_unspecified()) changed |= add_text(a->addresses, addr.to_string());
    if (changed) a->dirty = changed_ = true;
}

std::string Topology::networks_text(Bits bits) const {
    std::string out;
    for (std::size_t i = 0; i < subnets_.size(); ++i)
        if (bits & (Bits{1} << i)) out += (out.empty() ? "" : ",") + subnets_[i].text();
    return out;
}

void Topology::publish(Timestamp now, bool all) {
    std::vector<TopologyElement> out;
    auto networks = [&](Bits bits) {
        nlohmann::json list = nlohmann::json::array();
        for (std::size_t i = 0; i < subnets_.size(); ++i)
            if (bits & (Bits{1} << i)) list.push_back(subnets_[i].text());
        return list;
    };
    auto intended = [&](const Subnet& n) -> const IntendedSegment* {
        for (const auto& seg : s_.segments)
            if (seg.network.contains(IpAddress::v4(n.base))) return &seg;
        return nullptr;
    };
    for (std::size_t i = 0; i < subnets_.size(); ++i) {
        Subnet& n = subnets_[i];
        if (!n.dirty && !all) continue;
        n.dirty = false;
        TopologyElement e{"subnet", n.vlan, n.text()};
        nlohmann::json routers = nlohmann::json::array(), servers = nlohmann::json::array();
        for (const auto& r : routers_)
            if ((r.serves | r.between) & (Bits{1} << i)) routers.push_back(r.mac.to_string());
        for (const auto& d : dhcp_servers_)
            if (d.hands_out & (Bits{1} << i)) servers.push_back(d.mac.to_string());
        e.attributes = {{"network", n.text()},
                        {"internet", n.internet},
                        {"gateways", n.gateways},
                        {"routers", routers},
                        {"dhcp_servers", servers}};
        if (const auto* seg = intended(n))
            e.attributes["intended"] = {{"name", seg->name}, {"closed", seg->closed}};
        e.evidence = seen_list(n.seen);
        e.first_seen = n.first;
        e.last_seen = n.last;
        out.push_back(std::move(e));
    }
    for (auto& r : routers_) {
        if (!r.dirty && !all) continue;
        r.dirty = false;
        TopologyElement e{"router", r.vlan, r.mac.to_string()};
        e.attributes = {{"internet", r.internet},
                        {"serves", networks(r.serves)},
                        {"between", networks(r.between)}};
        if (r.internet) e.evidence.push_back("internet-traffic");
        if (r.between) e.evidence.push_back("forwarding");
        e.first_seen = r.first;
        e.last_seen = r.last;
        out.push_back(std::move(e));
    }
    for (auto& d : dhcp_servers_) {
        if (!d.dirty && !all) continue;
        d.dirty = false;
        TopologyElement e{"dhcp-server", d.vlan, d.mac.to_string()};
        e.attributes = {{"server_ip", d.server_ip},
                        {"hands_out", networks(d.hands_out)},
                        {"routers", d.routers},
                        {"dns_servers", d.dns},
                        {"offers_by_day", d.offers_by_day}};
        e.evidence = {"dhcp"};
        e.first_seen = d.first;
        e.last_seen = d.last;
        out.push_back(std::move(e));
    }
    for (auto& d : dns_servers_) {
        if (!d.dirty && !all) continue;
        d.dirty = false;
        std::string address = IpAddress::v4(d.ip).to_string();
        TopologyElement e{"dns-server", d.vlan, address};
        e.attributes = {{"address", address},
                        {"lan", d.lan},
                        {"mac", d.lan ? d.mac.to_string() : std::string()},
                        {"clients", d.clients.size()},
                        {"more_clients", d.more_clients},
                        {"queries_by_day", d.queries_by_day}};
        e.evidence = {"dns"};
        e.first_seen = d.first;
        e.last_seen = d.last;
        out.push_back(std::move(e));
    }
    for (auto& b : bridges_) {
        if (!b.dirty && !all) continue;
        b.dirty = false;
        TopologyElement e{"bridge", 0, b.id};
        nlohmann::json ports = nlohmann::json::array();
        for (auto port : b.ports) ports.push_back(port_text(port));
        e.attributes = {{"bridge_id", b.id},
                        {"mac", b.mac.to_string()},
                        {"root", b.root},
                        {"is_root", b.root == b.id},
                        {"root_cost", b.root_cost},
                        {"ports", ports},
                        {"protocol", b.version == 0   ? "stp"
                                     : b.version == 2 ? "rstp"
                                                      : "mstp"}};
        e.evidence = {"stp"};
        e.first_seen = b.first;
        e.last_seen = b.last;
        out.push_back(std::move(e));
    }
    if (all || changed_)
        for (const auto& [root, first] : roots_) {
            TopologyElement e{"root-bridge", 0, root};
            e.attributes = {{"bridge_id", root}};
            e.evidence = {"stp"};
            e.first_seen = first;
            Timestamp last = first;
            for (const auto& b : bridges_)
                if (b.root == root) last = std::max(last, b.last);
            e.last_seen = last;
            out.push_back(std::move(e));
        }
    for (auto& a : announced_) {
        if (!a.dirty && !all) continue;
        a.dirty = false;
        TopologyElement e{"announced", a.vlan, a.mac.to_string()};
        e.attributes = {{"chassis", a.chassis},
                        {"name", a.name},
                        {"description", a.description},
                        {"platform", a.platform},
                        {"capabilities", a.capabilities},
                        {"role", a.role},
                        {"ports", a.ports},
                        {"port_descriptions", a.port_descriptions},
                        {"addresses", a.addresses}};
        if (a.seen & kSeenLldp) e.evidence.push_back("lldp");
        if (a.seen & kSeenCdp) e.evidence.push_back("cdp");
        e.first_seen = a.first;
        e.last_seen = a.last;
        out.push_back(std::move(e));
    }
    for (const auto& [key, m] : members_) {
        if (!m.multi_homed) continue;
        MacAddress mac = mac_of(key);
        TopologyElement e{"multi-homed", static_cast<std::uint16_t>(key & 0xfff), mac.to_string()};
        nlohmann::json addresses = nlohmann::json::array(), nets = nlohmann::json::array();
        Timestamp first = INT64_MAX, last = 0;
        for (std::uint8_t i = 0; i < m.used; ++i) {
            addresses.push_back(ip_text(m.slots[i].ip));
            nets.push_back(subnets_[m.slots[i].subnet].text());
            first = std::min(first, m.slots[i].first);
            last = std::max(last, m.slots[i].last);
        }
        bool meant = std::find(s_.intended_multi_homed.begin(), s_.intended_multi_homed.end(),
                               mac) != s_.intended_multi_homed.end();
        e.attributes = {{"addresses", addresses}, {"networks", nets}, {"intended", meant}};
        e.evidence = {"arp"};
        e.first_seen = first;
        e.last_seen = last;
        out.push_back(std::move(e));
    }
    changed_ = false;
    (void)now;
    if (!out.empty()) sink_.topology(out);
}

void Topology::judge_segments(Timestamp now, bool force) {
    segments_changed_ = false;
    std::vector<std::uint16_t> vlans;
    for (const auto& n : subnets_)
        if (std::find(vlans.begin(), vlans.end(), n.vlan) == vlans.end()) vlans.push_back(n.vlan);
    for (std::uint16_t vlan : vlans) {
        Bits here = 0;
        for (std::size_t i = 0; i < subnets_.size(); ++i)
            if (subnets_[i].vlan == vlan && (subnets_[i].seen & (kSeenArp | kSeenDhcp)))
                here |= Bits{1} << i;
        if (std::popcount(here) < 2) continue;
        auto intended = [&](std::size_t i) -> const IntendedSegment* {
            for (const auto& seg : s_.segments)
                if (seg.network.contains(IpAddress::v4(subnets_[i].base))) return &seg;
            return nullptr;
        };
        // A network "with the internet" reaches it through a router; one "without a router"
        // has neither internet traffic nor a gateway handed out by DHCP.
        Bits internet = 0, no_router = 0;
        nlohmann::json networks = nlohmann::json::array();
        Timestamp first = INT64_MAX;
        for (std::size_t i = 0; i < subnets_.size(); ++i) {
            if (!(here & (Bits{1} << i))) continue;
            const Subnet& n = subnets_[i];
            bool routed = n.internet || !n.gateways.empty();
            for (const auto& r : routers_) routed |= ((r.serves >> i) & 1) != 0;
            if (n.internet) internet |= Bits{1} << i;
            if (!routed) no_router |= Bits{1} << i;
            nlohmann::json routers = nlohmann::json::array(), servers = nlohmann::json::array();
            for (const auto& r : routers_)
                if (r.serves & (Bits{1} << i)) routers.push_back(r.mac.to_string());
            for (const auto& d : dhcp_servers_)
                if (d.hands_out & (Bits{1} << i)) servers.push_back(d.mac.to_string());
            nlohmann::json entry = {{"network", n.text()},         {"internet", n.internet},
                                    {"has_router", routed},        {"routers", routers},
                                    {"dhcp_servers", servers},     {"gateways", n.gateways},
                                    {"seen_by", seen_list(n.seen)}};
            if (const auto* seg = intended(i)) {
                entry["intended_name"] = seg->name;
                entry["intended_closed"] = seg->closed;
            }
            networks.push_back(std::move(entry));
            first = std::min(first, n.first);
        }
        // Devices joining networks: in two at once (multi-homed), or forwarding between them.
        nlohmann::json joining = nlohmann::json::array(),
                       intended_joining = nlohmann::json::array();
        Bits joined_pairs_closed_internet = 0, joined_closed_segment = 0;
        auto join_effect = [&](Bits nets) {
            if ((nets & no_router) && (nets & internet)) joined_pairs_closed_internet |= nets;
            for (std::size_t i = 0; i < subnets_.size(); ++i) {
                if (!((nets >> i) & 1)) continue;
                const auto* seg = intended(i);
                if (seg && seg->closed && (nets & internet & ~(Bits{1} << i)))
                    joined_closed_segment |= Bits{1} << i;
            }
        };
        for (const auto& [key, m] : members_) {
            if (!m.multi_homed || (key & 0xfff) != vlan) continue;
            MacAddress mac = mac_of(key);
            Bits nets = 0;
            nlohmann::json addresses = nlohmann::json::array(), names = nlohmann::json::array();
            for (std::uint8_t i = 0; i < m.used; ++i) {
                if (!((here >> m.slots[i].subnet) & 1)) continue;
                nets |= Bits{1} << m.slots[i].subnet;
                addresses.push_back(ip_text(m.slots[i].ip));
                names.push_back(subnets_[m.slots[i].subnet].text());
            }
            if (std::popcount(nets) < 2) continue;
            nlohmann::json j = {{"mac", mac.to_string()},
                                {"addresses", addresses},
                                {"networks", names},
                                {"how", "multi-homed"}};
            bool ok = std::find(s_.intended_multi_homed.begin(), s_.intended_multi_homed.end(),
                                mac) != s_.intended_multi_homed.end();
            (ok ? intended_joining : joining).push_back(std::move(j));
            if (!ok) join_effect(nets);
        }
        for (const auto& r : routers_) {
            Bits nets = r.between & here;
            if (r.vlan != vlan || std::popcount(nets) < 2) continue;
            joining.push_back({{"mac", r.mac.to_string()},
                               {"addresses", nlohmann::json::array()},
                               {"networks", networks_text(nets)},
                               {"how", "routing"}});
            join_effect(nets);
        }
        // A closed network the clinic named with internet traffic of its own.
        for (std::size_t i = 0; i < subnets_.size(); ++i) {
            const auto* seg = (here >> i) & 1 ? intended(i) : nullptr;
            if (seg && seg->closed && subnets_[i].internet) joined_closed_segment |= Bits{1} << i;
        }
        std::sort(joining.begin(), joining.end());
        Severity severity = Severity::medium;
        if (joined_pairs_closed_internet) severity = Severity::high;
        if (joined_closed_segment) severity = Severity::critical;
        nlohmann::json evidence = {{"vlan", vlan},
                                   {"networks", networks},
                                   {"joining", joining},
                                   {"intended_joining", intended_joining},
                                   {"closed_networks", networks_text(no_router)},
                                   {"internet_networks", networks_text(internet)},
                                   {"closed_to_internet", joined_pairs_closed_internet != 0},
                                   {"named_closed_reached", networks_text(joined_closed_segment)}};
        std::string text = evidence.dump();
        auto& sent = segment_alerted_[vlan];
        if (text == sent && !force) continue;
        bool first_time = sent.empty();
        sent = text;
        AlertUpdate a;
        a.kind = "mixed-segment";
        a.key = "mixed-segment:vlan" + std::to_string(vlan);
        a.severity = severity;
        a.subject = vlan ? "VLAN " + std::to_string(vlan) : "LAN";
        a.summary =
            std::to_string(std::popcount(here)) +
            " IP networks in one broadcast domain: " + networks_text(here) +
            (joining.empty() ? "" : "; " + std::to_string(joining.size()) + " device(s) join them");
        a.first_seen = first == INT64_MAX ? now : first;
        a.last_seen = now;
        a.count = first_time ? 1 : 0;
        a.evidence = std::move(evidence);
        sink_.alert(std::move(a));
    }
}

void Topology::on_tick(Timestamp now) {
    bool refresh = now >= next_refresh_;
    if (refresh) next_refresh_ = now + kRefresh;
    if (changed_ || refresh) publish(now, refresh);
    if (segments_changed_ || refresh) judge_segments(now, refresh);
}

void Topology::on_finish(Timestamp now) {
    if (now == 0) return;
    publish(now, true);
    judge_segments(now, true);
}

void Topology::table_use(std::vector<TableUse>& out) const {
    out.push_back(
        {"topology-networks", "IP networks seen on the LAN", s_.max_subnets, refused_subnets_});
    out.push_back({"topology-addresses", "devices' networks (for devices in two networks)",
                   s_.max_members, refused_members_});
    out.push_back({"topology-devices", "routers, DHCP servers, switches and access points",
                   s_.max_devices, refused_devices_});
}

}  // namespace clinicwatch
