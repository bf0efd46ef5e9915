// The asset inventory: one asset per MAC (+VLAN) with its addresses, names, vendor, register
// entry, and the evidence other analyzers need (DHCP fingerprint, LLDP capabilities, services).
//
// Addresses are bound from ARP (the sender's own claim), DHCP ACKs (client MAC <-> yiaddr),
// IPv6 neighbour advertisements, and IP source addresses inside the internal networks. Traffic
// routed from outside carries the router's MAC with outside addresses, so those are not bound.
// Names come from DHCP (12, 81), NBNS registrations and answers, mDNS and LLMNR answers, LLDP
// and CDP. Parsing happens only for the few packets on those ports or ethertypes.
#pragma once

#include <array>
#include <optional>
#include <vector>

#include "analyzers/analyzer.hpp"
#include "analyzers/asset_register.hpp"
#include "analyzers/host_table.hpp"
#include "analyzers/internal_networks.hpp"
#include "analyzers/ipv6_lan.hpp"
#include "analyzers/vendor_registry.hpp"

namespace clinicwatch {

struct InventorySettings {
    std::vector<IpNetwork> internal_networks;  // empty = RFC 1918, RFC 6598, link-local, ULA
    std::optional<MacAddress> gateway_mac;
    // IPv6 on-link prefixes and routers learned from RAs (owned by the pipeline; may be null):
    // global IPv6 addresses in those prefixes are bound to their devices.
    const Ipv6Lan* ipv6_lan = nullptr;
    const VendorRegistry* vendors = nullptr;  // optional; owned by the pipeline
    const AssetRegister* asset_register = nullptr;
};

class Inventory final : public Analyzer {
  public:
    Inventory(HostTable& hosts, InventorySettings settings);
    std::string_view name() const override { return "inventory"; }
    void on_packet(const Packet& packet, PacketContext& context) override;

    bool is_internal(const IpAddress& a) const;

    // Looks up the vendor and the register entry of a host (once per host).
    void classify(Host& h) const;

  private:
    void on_arp(const Packet& packet);
    void on_udp(const Packet& packet, PacketContext& context);
    void on_dhcp(const Packet& packet, PacketContext& context);
    void on_nbns(const Packet& packet);
    void on_dns_names(const Packet& packet, PacketContext& context, const char* source);
    void on_ssdp(const Packet& packet, PacketContext& context);
    void on_lldp(const Packet& packet, PacketContext& context);
    void on_cdp(const Packet& packet, PacketContext& context);
    void on_neighbour_advert(const Packet& packet);
    void bind(Host& h, const IpAddress& a, const char* source, Timestamp ts);
    Host* sender(const Packet& packet);

    HostTable& hosts_;
    InventorySettings settings_;
    InternalNetworks internal_;
    struct BindingCacheEntry {
        MacAddress mac;
        IpAddress ip;
        Timestamp bound_at = 0;
    };
    std::array<BindingCacheEntry, 4096> binding_cache_{};
};

}  // namespace clinicwatch
