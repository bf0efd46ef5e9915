#include "analyzers/inventory.hpp"

#include "analyzers/packet_context.hpp"
#include "capture/protocols/cdp.hpp"
#include "capture/protocols/dhcp.hpp"
#include "capture/protocols/dns.hpp"
#include "capture/protocols/lldp.hpp"
#include "capture/protocols/nbns.hpp"
#include "capture/protocols/ssdp.hpp"

namespace clinicwatch {

namespace {

constexpr std::uint16_t kMdnsPort = 5353;
constexpr std::uint16_t kLlmnrPort = 5355;

bool usable_mac(const MacAddress& m) {
    return !m.is_multicast() && !m.is_zero();
}

// A host name as announced: printable, no trailing dot.
std::string clean_name(std::string_view name) {
    while (!name.empty() && name.back() == '.') name.remove_suffix(1);
    std::string out;
    for (char c : name.substr(0, 255)) {
        auto u = static_cast<unsigned char>(c);
        out.push_back(u > 0x20 && u < 0x7f ? c : '?');
    }
    return out;
}

}  // namespace

Inventory::Inventory(HostTable& hosts, InventorySettings settings)
    : hosts_(hosts), settings_(std::move(settings)), internal_(settings_.internal_networks) {}

bool Inventory::is_internal(const IpAddress& a) const {
    return internal_.contains(a) || (settings_.ipv6_lan && settings_.ipv6_lan->on_link(a));
}

void Inventory::classify(Host& h) const {
    h.register_checked = true;
    if (settings_.vendors && h.vendor.empty()) {
        auto v = settings_.vendors->lookup(h.key.mac);
        if (!v.empty()) h.vendor = std::string(v);
    }
    if (settings_.asset_register) {
        // Looked up again after a configuration reload: an entry may have been added,
        // changed or removed.
        const RegisterEntry* e = settings_.asset_register->find(h.key.mac);
        h.registered = e != nullptr;
        h.pinned = e != nullptr;  // a registered device survives a MAC flood
        h.register_name = e ? e->name : "";
        h.role = e ? e->role : "";
        h.responsible = e ? e->responsible : "";
    }
    h.dirty = true;
}

Host* Inventory::sender(const Packet& packet) {
    if (!usable_mac(packet.src_mac)) return nullptr;
    // The dispatcher touched the sender just before: this hits the table's one-entry cache.
    return hosts_.find(packet.src_mac, packet.vlan);
}

void Inventory::bind(Host& h, const IpAddress& a, const char* source, Timestamp ts) {
    if (a.empty() || a.is_unspecified() || !is_internal(a)) return;
    h.observe_address(a.to_string(), source, ts);
}

void Inventory::on_packet(const Packet& packet, PacketContext& context) {
    if (usable_mac(packet.src_mac)) {
        Host* h = hosts_.find(packet.src_mac, packet.vlan);
        if (h && !h->register_checked) classify(*h);
    }
    if (packet.arp) return on_arp(packet);
    if (packet.ethertype == lldp::kEtherType) return on_lldp(packet, context);
    if (packet.llc && packet.llc->snap && packet.llc->snap_oui == cdp::kSnapOui &&
        packet.llc->snap_type == cdp::kSnapType)
        return on_cdp(packet, context);
    if (!packet.ip || !usable_mac(packet.src_mac)) return;
    // Services: the ports on which a device inside the LAN (the router too) answers a SYN.
    // Internet servers answer through the router's MAC from outside addresses: not counted.
    if (packet.tcp && packet.tcp->is_syn_ack() && is_internal(packet.ip->src)) {
        if (Host* h = sender(packet)) h->observe_service(packet.tcp->src_port);
    }
    if (settings_.gateway_mac && packet.src_mac == *settings_.gateway_mac) {
        if (packet.udp && packet.udp->src_port == dhcp::kServerPort) on_dhcp(packet, context);
        return;
    }
    if (packet.udp) on_udp(packet, context);
    if (packet.icmp && packet.icmp->v6) {
        if (packet.icmp->type == 136) on_neighbour_advert(packet);
        // Duplicate address detection (RFC 4862 5.4): a neighbour solicitation from the
        // unspecified address for an address the sender is about to use (a new temporary
        // address, or one after renumbering) binds it before any traffic.
        if (packet.icmp->type == 135 && packet.ip->src.is_unspecified() &&
            packet.payload.size() >= 20)
            if (Host* h = sender(packet))
                bind(*h, IpAddress::v6(packet.payload.data() + 4), "ndp-dad", packet.ts);
    }
    const IpAddress& src = packet.ip->src;
    // Most packets repeat a (sender, address) pair bound moments ago: a small direct-mapped
    // cache skips the string work. Re-bind at least once a minute so last-seen stays fresh.
    std::uint64_t key = packet.src_mac.as_u64() ^ std::hash<IpAddress>{}(src);
    BindingCacheEntry& slot = binding_cache_[(key * 0x9e3779b97f4a7c15ULL) >> 52];
    if (slot.mac == packet.src_mac && slot.ip == src && packet.ts < slot.bound_at + 60'000'000)
        return;
    slot = BindingCacheEntry{packet.src_mac, src, packet.ts};
    if (src.is_unspecified() || !is_internal(src)) return;
    Host* h = sender(packet);
    if (!h) return;  // absent only if evicted
    h->observe_address(src.to_string(), "ip", packet.ts);
}

void Inventory::on_arp(const Packet& packet) {
    const ArpView& arp = *packet.arp;
    // A probe (sender 0.0.0.0) claims nothing yet.
    if (arp.sender_ip.is_unspecified() || !usable_mac(arp.sender_mac)) return;
    // Usually the frame's own sender, which the dispatcher has just touched: touching it again
    // would count this frame twice towards leaving probation in a full table.
    Host* h = arp.sender_mac == packet.src_mac
                  ? sender(packet)
                  : hosts_.touch(arp.sender_mac, packet.vlan, packet.ts);
    if (!h) return;  // on probation while the table is full
    if (!h->register_checked) classify(*h);
    h->observe_address(arp.sender_ip.to_string(), "arp", packet.ts);
}

void Inventory::on_udp(const Packet& packet, PacketContext& context) {
    const UdpView& u = *packet.udp;
    if (u.src_port == dhcp::kServerPort || u.src_port == dhcp::kClientPort)
        return on_dhcp(packet, context);
    if (u.src_port == nbns::kPort) return on_nbns(packet);
    if (u.src_port == nbns::kDatagramPort && u.dst_port == nbns::kDatagramPort) {
        auto n = nbns::datagram_source_name(packet.payload);
        Host* h = sender(packet);
        if (n && h && !n->name.empty() && n->name.front() != '_' &&
            (n->suffix == nbns::kWorkstation || n->suffix == nbns::kServer))
            h->observe_name(n->name, "netbios-dgm", packet.ts);
        return;
    }
    if (u.src_port == kMdnsPort) return on_dns_names(packet, context, "mdns");
    if (u.src_port == kLlmnrPort) return on_dns_names(packet, context, "llmnr");
    if (u.src_port == ssdp::kPort || u.dst_port == ssdp::kPort) return on_ssdp(packet, context);
}

void Inventory::on_dhcp(const Packet& packet, PacketContext& context) {
    const dhcp::Message* m = context.dhcp();
    if (!m) return;
    if (m->op == 1 && packet.udp->src_port == dhcp::kClientPort) {
        // A client speaks for itself: the frame's sender, not chaddr (which tools forge).
        Host* h = sender(packet);
        if (!h) return;
        if (!m->host_name.empty()) h->observe_name(m->host_name, "dhcp", packet.ts);
        if (!m->fqdn.empty()) h->observe_name(m->fqdn, "dhcp-fqdn", packet.ts);
        if (!m->parameter_list.empty())
            h->observe_evidence("55=" + dhcp::parameter_list_text(*m), "dhcp", packet.ts);
        if (!m->vendor_class.empty())
            h->observe_evidence("60=" + m->vendor_class, "dhcp", packet.ts);
        // INFORM and renewing clients already use ciaddr.
        if (!m->ciaddr.is_unspecified()) bind(*h, m->ciaddr, "dhcp", packet.ts);
        return;
    }
    if (m->op == 2 && m->message_type == dhcp::kAck && m->chaddr_is_ethernet &&
        usable_mac(m->chaddr) && !m->yiaddr.is_unspecified()) {
        Host* client = hosts_.touch(m->chaddr, packet.vlan, packet.ts);
        if (!client) return;  // on probation while the table is full
        if (!client->register_checked) classify(*client);
        bind(*client, m->yiaddr, "dhcp", packet.ts);
    }
}

void Inventory::on_nbns(const Packet& packet) {
    auto m = nbns::parse(packet.payload);
    if (!m) return;
    Host* h = sender(packet);
    if (!h) return;
    for (const auto& b : m->bindings) {
        // Host names only: workgroup/domain names are groups, and other suffixes name services.
        if (b.group || (b.name.suffix != nbns::kWorkstation && b.name.suffix != nbns::kServer))
            continue;
        if (b.name.name.empty() || b.name.name.front() == '_') continue;
        // A registration is the sender's claim; an answer names the sender only when the address
        // is its own (a WINS server answers for others).
        if (m->response && !(packet.ip && b.address == packet.ip->src)) continue;
        h->observe_name(b.name.name, "nbns", packet.ts);
        bind(*h, b.address, "nbns", packet.ts);
    }
}

void Inventory::on_dns_names(const Packet& packet, PacketContext& context, const char* source) {
    const dns::Message* m = context.dns();
    if (!m || !m->is_response()) return;
    Host* h = sender(packet);
    if (!h) return;
    // mDNS and LLMNR responders answer for themselves: A/AAAA answers name the sender.
    for (const auto* section : {&m->answers, &m->additionals}) {
        for (const auto& r : *section) {
            if (r.type != dns::kA && r.type != dns::kAaaa) continue;
            if (r.address.empty() || r.name.empty()) continue;
            h->observe_name(clean_name(r.name), source, packet.ts);
            bind(*h, r.address, source, packet.ts);
        }
    }
}

void Inventory::on_ssdp(const Packet& packet, PacketContext& context) {
    const ssdp::Message* m = context.ssdp();
    if (!m || m->kind == ssdp::Kind::search) return;
    Host* h = sender(packet);
    if (!h) return;
    if (!m->server.empty()) h->observe_evidence("server=" + m->server, "ssdp", packet.ts);
    // The USN's uuid identifies the device across address changes; the description URL is
    // where the vendor (or the IT contact's browser) finds its model and friendly name. The
    // sensor never fetches it: it does not transmit.
    if (!m->usn.empty()) {
        std::string_view usn = m->usn;
        if (auto end = usn.find("::"); end != std::string_view::npos) usn = usn.substr(0, end);
        h->observe_evidence("usn=" + std::string(usn), "ssdp", packet.ts);
    }
    if (!m->location.empty()) h->observe_evidence("location=" + m->location, "ssdp", packet.ts);
}

void Inventory::on_lldp(const Packet& packet, PacketContext& context) {
    const lldp::Message* m = context.lldp();  // parsed once (topology reads it too)
    if (!m) return;
    Host* h = sender(packet);
    if (!h) return;
    if (!m->system_name.empty()) h->observe_name(m->system_name, "lldp", packet.ts);
    std::uint16_t caps = m->enabled_capabilities ? m->enabled_capabilities : m->capabilities;
    if (caps) h->observe_evidence("caps=" + lldp::capabilities_text(caps), "lldp", packet.ts);
    if (!m->system_description.empty())
        h->observe_evidence("sysdesc=" + m->system_description, "lldp", packet.ts);
    for (const auto& a : m->management_addresses) bind(*h, a, "lldp", packet.ts);
}

void Inventory::on_cdp(const Packet& packet, PacketContext& context) {
    const cdp::Message* m = context.cdp();  // parsed once (topology reads it too)
    if (!m) return;
    Host* h = sender(packet);
    if (!h) return;
    if (!m->device_id.empty()) h->observe_name(m->device_id, "cdp", packet.ts);
    if (!m->platform.empty()) h->observe_evidence("platform=" + m->platform, "cdp", packet.ts);
    if (!m->software_version.empty())
        h->observe_evidence("software=" + m->software_version, "cdp", packet.ts);
    for (const auto& a : m->addresses) bind(*h, a, "cdp", packet.ts);
}

void Inventory::on_neighbour_advert(const Packet& packet) {
    // ICMPv6 NA: after type/code/checksum come 4 bytes of flags, then the target address the
    // sender claims (RFC 4861 4.4).
    if (packet.payload.size() < 20) return;
    Host* h = sender(packet);
    if (!h) return;
    bind(*h, IpAddress::v6(packet.payload.data() + 4), "ndp", packet.ts);
}

}  // namespace clinicwatch
