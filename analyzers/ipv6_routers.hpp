// IPv6 routers on the LAN (one unit, the IPv6 analogue of rogue-DHCP detection): reads Router
// Advertisements, neighbour advertisements, redirects and DHCPv6 server messages; learns the
// clinic's router(s) and the on-link prefixes into the shared Ipv6Lan (so egress and the
// inventory place global IPv6 addresses without configuration); and raises:
// - rogue-ra: RAs from a device that is not the router (a home router, a PC sharing its
//   connection);
// - ra-impersonation: an RA from the router's own link-local address but another MAC;
// - ra-router-lifetime-zero: an RA with router lifetime 0 from anyone but the router (it
//   removes the default route: "kill the router");
// - ra-unexpected-prefix: the router announces a prefix outside network.ipv6_prefixes (only
//   when that list is configured);
// - ra-flags-changed: the router's RAs change their M/O flags (how PCs get addresses and DNS);
// - rogue-dhcpv6: DHCPv6 Advertise/Reply from a server that is not the router;
// - ndp-router-spoof: a neighbour advertisement, a neighbour solicitation from the router's
//   address, duplicate address detection for it, or a redirect, claiming the router's
//   link-local or global address from another MAC.
// Who the router is: network.ipv6_routers, the IPv4 gateway's MAC (configured or learned), a
// register entry with role "router"; with none of those, the first device to advertise itself
// as a default router. The router's periodic RAs and a renumbering (a new prefix from the same
// router) raise nothing.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "analyzers/analyzer.hpp"
#include "analyzers/asset_register.hpp"
#include "analyzers/findings.hpp"
#include "analyzers/ipv6_lan.hpp"

namespace clinicwatch {

struct Ipv6RoutersSettings {
    std::vector<MacAddress> routers;           // network.ipv6_routers
    std::vector<IpNetwork> expected_prefixes;  // network.ipv6_prefixes (empty: any)
    // The IPv4 gateway's MAC when known (configured, or learned by ARP): the router.
    std::function<std::optional<MacAddress>()> gateway_mac;
    const AssetRegister* asset_register = nullptr;
    // Called with the learned state whenever it changed (stored as meta "ipv6_lan").
    std::function<void(const std::string&)> record;
};

class Ipv6Routers final : public Analyzer {
  public:
    Ipv6Routers(Ipv6Lan& lan, FindingSink& sink, Ipv6RoutersSettings settings);
    std::string_view name() const override { return "ipv6-routers"; }
    void on_packet(const Packet& packet, PacketContext& context) override;
    void on_tick(Timestamp now) override;
    void on_finish(Timestamp now) override;
    void table_use(std::vector<TableUse>& out) const override {
        out.push_back(
            {"ipv6-alerts", "IPv6 router alerts being throttled", kMaxAlertKeys, alerts_dropped_});
    }

    // Whether `mac` is (one of) the clinic's router(s).
    bool trusted(const MacAddress& mac) const;

    static constexpr std::size_t kMaxAlertKeys = 256;
    // An alert already raised is updated at most this often (its count keeps adding up).
    static constexpr Timestamp kAlertRefresh = 60 * kMicrosPerSecond;
    // Learned state is stored when it changed, and its last-seen times this often.
    static constexpr Timestamp kStoreEvery = 600 * kMicrosPerSecond;

  private:
    void on_router_advert(const Packet& packet);
    void on_neighbour_solicit(const Packet& packet);
    void on_neighbour_advert(const Packet& packet);
    void on_redirect(const Packet& packet);
    void on_dhcpv6(const Packet& packet);
    void raise(const std::string& kind, Severity severity, const Packet& packet,
               const std::string& summary, nlohmann::json evidence);
    void flush(Timestamp now, bool all);
    void store(Timestamp now);
    std::string router_mac_text() const;

    Ipv6Lan& lan_;
    FindingSink& sink_;
    Ipv6RoutersSettings settings_;
    struct Pending {
        Timestamp sent = 0;
        std::uint64_t count = 0;
        AlertUpdate last;
    };
    std::unordered_map<std::string, Pending> alerts_;
    std::uint64_t alerts_dropped_ = 0;
    bool dirty_ = false;
    Timestamp stored_at_ = 0;
};

}  // namespace clinicwatch
