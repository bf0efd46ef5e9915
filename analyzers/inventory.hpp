// The asset inventory: which addresses belong to which device. Addresses are bound from ARP
// (the sender's own claim) and from IP source addresses inside the internal networks. Traffic
// routed from outside carries the router's MAC with outside addresses, so those are not bound.
#pragma once

#include <array>
#include <optional>
#include <vector>

#include "analyzers/analyzer.hpp"
#include "analyzers/host_table.hpp"

namespace clinicwatch {

struct InventorySettings {
    std::vector<IpNetwork> internal_networks;  // empty = RFC 1918, RFC 6598, link-local, ULA
    std::optional<MacAddress> gateway_mac;
};

std::vector<IpNetwork> default_internal_networks();

class Inventory final : public Analyzer {
  public:
    Inventory(HostTable& hosts, InventorySettings settings);
    std::string_view name() const override { return "inventory"; }
    void on_packet(const Packet& packet) override;

    bool is_internal(const IpAddress& a) const;

  private:
    HostTable& hosts_;
    InventorySettings settings_;
    struct BindingCacheEntry {
        MacAddress mac;
        IpAddress ip;
        Timestamp bound_at = 0;
    };
    std::array<BindingCacheEntry, 4096> binding_cache_{};
};

}  // namespace clinicwatch
