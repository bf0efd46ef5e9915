#include "analyzers/inventory.hpp"

namespace clinicwatch {

std::vector<IpNetwork> default_internal_networks() {
    std::vector<IpNetwork> nets;
    for (const char* cidr : {"10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "100.64.0.0/10",
                             "169.254.0.0/16", "fc00::/7", "fe80::/10"})
        nets.push_back(*IpNetwork::parse(cidr));
    return nets;
}

Inventory::Inventory(HostTable& hosts, InventorySettings settings)
    : hosts_(hosts), settings_(std::move(settings)) {
    if (settings_.internal_networks.empty())
        settings_.internal_networks = default_internal_networks();
}

bool Inventory::is_internal(const IpAddress& a) const {
    for (const auto& n : settings_.internal_networks)
        if (n.contains(a)) return true;
    return false;
}

void Inventory::on_packet(const Packet& packet) {
    if (packet.arp) {
        const ArpView& arp = *packet.arp;
        // A probe (sender 0.0.0.0) claims nothing yet.
        if (!arp.sender_ip.is_unspecified() && !arp.sender_mac.is_multicast() &&
            !arp.sender_mac.is_zero()) {
            Host& h = hosts_.touch(arp.sender_mac, packet.vlan, packet.ts);
            h.observe_address(arp.sender_ip.to_string(), "arp", packet.ts);
        }
        return;
    }
    if (!packet.ip || packet.src_mac.is_multicast() || packet.src_mac.is_zero()) return;
    if (settings_.gateway_mac && packet.src_mac == *settings_.gateway_mac) return;
    const IpAddress& src = packet.ip->src;
    // Most packets repeat a (sender, address) pair bound moments ago: a small direct-mapped
    // cache skips the string work. Re-bind at least once a minute so last-seen stays fresh.
    std::uint64_t key = packet.src_mac.as_u64() ^ std::hash<IpAddress>{}(src);
    BindingCacheEntry& slot = binding_cache_[(key * 0x9e3779b97f4a7c15ULL) >> 52];
    if (slot.mac == packet.src_mac && slot.ip == src && packet.ts < slot.bound_at + 60'000'000)
        return;
    slot = BindingCacheEntry{packet.src_mac, src, packet.ts};
    if (src.is_unspecified() || !is_internal(src)) return;
    Host* h = hosts_.find(packet.src_mac, packet.vlan);
    if (!h) return;  // the dispatcher touched the sender already; absent only if evicted
    h->observe_address(src.to_string(), "ip", packet.ts);
}

}  // namespace clinicwatch
