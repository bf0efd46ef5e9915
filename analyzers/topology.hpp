// The network's topology as the mirror port shows it (issue 18): which IP networks share each
// broadcast domain (VLAN) and how each was seen, the routers (toward the internet or between
// networks) and DHCP servers, the switches by their spanning-tree BPDUs and what switches,
// access points and routers say about themselves (LLDP, CDP), the root bridge, and devices that
// hold addresses in two networks at once. Elements go to the store (topology table) as they
// appear or change; the network map and the report are drawn from there.
//
// Mixed segments: two IP networks in one broadcast domain raise one `mixed-segment` alert per
// VLAN naming the networks, the devices joining them and whether a network without a router
// (a vendor's closed network) now has a path to one with the internet.
//
// Per packet: ARP, DHCP replies, BPDUs, LLDP and CDP are rare and looked at in full; an IPv4
// frame costs a prefix comparison or two (same /24, or the router and network of the last
// internet-bound frame) unless it crosses between networks or reaches a new router.
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "analyzers/analyzer.hpp"
#include "analyzers/findings.hpp"
#include "analyzers/host_table.hpp"
#include "analyzers/internal_networks.hpp"
#include "analyzers/local_day.hpp"

namespace clinicwatch {

// A network the clinic names (topology.segments): mixing it with others is expected or not, and
// a path from a closed one to the internet is critical.
struct IntendedSegment {
    std::string name;  // "電子カルテ閉域網", "EHR closed network"
    IpNetwork network;
    bool closed = false;  // must never reach the internet
};

struct TopologySettings {
    std::vector<IpNetwork> internal_networks;  // empty: RFC 1918 and friends
    std::vector<IntendedSegment> segments;
    std::vector<MacAddress> intended_multi_homed;  // known devices in two networks on purpose
    // Bounds (each table counted in sensor-limits when it has to refuse).
    std::size_t max_subnets = 64;
    std::size_t max_members = 4096;
    std::size_t max_devices = 64;  // routers, DHCP servers, bridges, announcing devices (each)
};

class Topology final : public Analyzer {
  public:
    // `hosts`: while it is full, devices it turned away (a MAC flood's forged sources) are not
    // remembered as members of a network.
    Topology(FindingSink& sink, TopologySettings settings, const HostTable* hosts = nullptr);
    std::string_view name() const override { return "topology"; }
    void on_packet(const Packet& packet, PacketContext& context) override;
    void on_tick(Timestamp now) override;
    void on_finish(Timestamp now) override;
    void table_use(std::vector<TableUse>& out) const override;

    static constexpr std::size_t kMaxSlots = 4;         // networks remembered per device
    static constexpr std::size_t kMaxDnsClients = 256;  // devices listed per DNS server
    static constexpr std::size_t kMaxDays = 31;         // days of counts kept per server

  private:
    using Bits = std::uint64_t;  // one bit per subnet index (max_subnets <= 64)
    static constexpr std::uint8_t kSeenArp = 1, kSeenDhcp = 2, kSeenLldp = 4, kSeenCdp = 8,
                                  kSeenTraffic = 16;

    struct Subnet {
        std::uint16_t vlan = 0;
        std::uint32_t base = 0, mask = 0;
        std::uint8_t seen = 0;              // kSeen* bits
        bool internet = false;              // its addresses reach the internet through a router
        std::vector<std::string> gateways;  // DHCP option 3 for it
        Timestamp first = 0, last = 0;
        bool dirty = true;
        std::string text() const;
    };
    struct Slot {
        std::uint8_t subnet = 0;
        std::uint32_t ip = 0;
        Timestamp first = 0, last = 0;
    };
    struct Member {  // one device's addresses by network (from its own ARP and DHCP)
        std::array<Slot, kMaxSlots> slots{};
        std::uint8_t used = 0;
        bool multi_homed = false;
    };
    struct Router {
        MacAddress mac;
        std::uint16_t vlan = 0;
        bool internet = false;
        Bits serves = 0;      // networks whose addresses use it (internet-bound frames)
        Bits between = 0;     // networks it forwards between (LAN to LAN)
        Bits gateway_of = 0;  // networks that DHCP names it router for
        std::vector<std::string> addresses;
        std::uint8_t seen = 0;
        Timestamp first = 0, last = 0;
        bool dirty = true;
    };
    struct DhcpServer {
        MacAddress mac;
        std::uint16_t vlan = 0;
        std::string server_ip;
        Bits hands_out = 0;
        std::vector<std::string> routers, dns;               // options 3 and 6 it handed out
        std::map<std::string, std::uint32_t> offers_by_day;  // the last kMaxDays days
        Timestamp first = 0, last = 0;
        bool dirty = true;
    };
    struct DnsServer {  // a resolver the LAN's devices ask (the router's forwarder, 8.8.8.8)
        std::uint32_t ip = 0;
        MacAddress mac;  // LAN resolvers only (an internet one is reached through the router)
        bool lan = false;
        std::uint16_t vlan = 0;
        std::vector<MacAddress> clients;  // at most kMaxDnsClients; more are counted as "more"
        bool more_clients = false;
        std::map<std::string, std::uint32_t> queries_by_day;  // the last kMaxDays days
        Timestamp first = 0, last = 0;
        bool dirty = true;
    };
    struct Bridge {
        std::string id, root;  // "32768/00:1a:eb:.."
        MacAddress mac;        // the bridge MAC of its id
        std::uint32_t root_cost = 0;
        std::vector<std::uint16_t> ports;  // port ids it sent BPDUs from
        std::uint8_t version = 0;
        Timestamp first = 0, last = 0;
        bool dirty = true;
    };
    struct Announced {   // a device describing itself by LLDP or CDP
        MacAddress mac;  // the frame's sender
        std::string chassis, name, description, platform, capabilities, role;
        std::vector<std::string> ports, port_descriptions, addresses;
        std::uint8_t seen = 0;
        std::uint16_t vlan = 0;
        Timestamp first = 0, last = 0;
        bool dirty = true;
    };

    void on_arp(const Packet& p);
    void on_ipv4(const Packet& p);
    void on_dhcp(const Packet& p, PacketContext& context);
    void on_bpdu(const Packet& p, PacketContext& context);
    void on_lldp(const Packet& p, PacketContext& context);
    void on_cdp(const Packet& p, PacketContext& context);
    void on_dns_query(const Packet& p);
    // True when the same message (an OFFER's xid, a query's id and port) was counted within
    // the last seconds: a double-mirrored port shows every frame twice.
    bool repeated(std::uint64_t key, Timestamp ts);

    // Index of the network holding `ip` in `vlan`, made (a /24, or `mask`) when new; -1 when
    // full or not a LAN address.
    int subnet_of(std::uint16_t vlan, std::uint32_t ip, Timestamp ts, std::uint32_t mask = 0,
                  bool create = true);
    void remember(const MacAddress& mac, std::uint16_t vlan, std::uint32_t ip, int subnet,
                  Timestamp ts);
    Router* router(const MacAddress& mac, std::uint16_t vlan, Timestamp ts);
    bool is_lan(std::uint32_t ip) const;
    std::string networks_text(Bits bits) const;
    void publish(Timestamp now, bool all);
    void judge_segments(Timestamp now, bool force);

    FindingSink& sink_;
    const HostTable* hosts_;
    TopologySettings s_;
    InternalNetworks internal_;
    std::vector<Subnet> subnets_;
    std::unordered_map<std::uint64_t, Member> members_;  // MAC << 12 | VLAN
    std::vector<Router> routers_;
    std::vector<DhcpServer> dhcp_servers_;
    std::vector<Bridge> bridges_;
    std::vector<std::pair<std::string, Timestamp>> roots_;  // root bridge ids, first seen
    std::vector<Announced> announced_;
    std::vector<DnsServer> dns_servers_;
    std::array<std::pair<std::uint64_t, Timestamp>, 64> recent_{};  // repeated()'s memory
    std::size_t recent_next_ = 0;
    LocalDay local_day_;  // the clinic's day of a packet time, cached
    // The last internet-bound frame's router and source /24: most frames repeat both.
    MacAddress last_router_{};
    std::uint32_t last_internet_prefix_ = 0;
    bool changed_ = false;  // something to write
    bool segments_changed_ = false;
    Timestamp next_refresh_ = 0;  // all elements' last_seen written again
    std::unordered_map<std::uint16_t, std::string> segment_alerted_;  // VLAN -> evidence sent
    std::uint64_t refused_subnets_ = 0, refused_members_ = 0, refused_devices_ = 0;
};

}  // namespace clinicwatch
