// LAN hygiene: the things on a clinic LAN that take it down or let someone listen in, each an
// alert kind with evidence, deduplicated by key:
// - unregistered-device: after the learning period, a device the register does not list (one
//   alert per device; randomised-MAC phones summarised once a day at low severity);
// - rogue-dhcp: a DHCP OFFER/ACK from a server that is not an approved one;
// - ip-conflict: two MACs claiming one IPv4 address within a window (ARP, DHCP ACK);
// - gateway-mac-change: the gateway's IP claimed by another MAC (ARP spoofing, swapped router);
//   with no gateway configured, a device's internet traffic moving to a MAC that had just
//   claimed an address by ARP;
// - mac-flood: new MACs per minute above a limit (the host table's cap and evictions reported).
#pragma once

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "analyzers/analyzer.hpp"
#include "analyzers/bounded_table.hpp"
#include "analyzers/findings.hpp"
#include "analyzers/host_table.hpp"
#include "analyzers/internal_networks.hpp"

namespace clinicwatch {

// With no gateway configured: the next hop a device's internet traffic goes to, as learned.
// Kept across restarts and reloads, so a spoofer's MAC after a restart is a move away from the
// router, not the device's first hop.
struct LearnedNextHop {
    MacAddress device;
    MacAddress hop;
    MacAddress earlier;  // the hop before `hop`, zero when none
    Timestamp last = 0;  // last internet packet seen through it (which entries a full table drops)
};

struct LanHygieneSettings {
    Timestamp learning_period = 7LL * 86400 * kMicrosPerSecond;
    // When the sensor saw its very first packet (from the store); unset on a fresh database.
    std::optional<Timestamp> first_packet_ever;
    // Called once with the first packet's time when first_packet_ever was unset.
    std::function<void(Timestamp)> record_first_packet;
    // Devices known from earlier runs (MAC as u64 -> first seen), so a restart after the
    // learning period does not make every device "new".
    std::unordered_map<std::uint64_t, Timestamp> known_devices;
    // The randomised-MAC day summaries stored earlier (date -> the alert's evidence), so a
    // restart or reload in the middle of a day continues its count instead of restarting it.
    std::map<std::string, nlohmann::json> randomized_summaries;

    std::optional<IpAddress> gateway_ip;
    std::optional<MacAddress> gateway_mac;           // learned when unset and gateway_ip is set
    const char* gateway_mac_from = "configuration";  // or how an earlier run learned it
    // Called when the gateway's MAC is learned, so a restart or reload keeps it.
    std::function<void(const MacAddress&)> record_gateway;
    // Each device's next hop learned by an earlier run or before a reload (no gateway_ip).
    std::vector<LearnedNextHop> next_hops;
    // Called with every device's next hop when one changed: at most every ten minutes of
    // packet time, and at the end.
    std::function<void(const std::vector<LearnedNextHop>&)> record_next_hops;
    std::vector<IpNetwork> internal_networks;  // empty = defaults (to learn the next hop)
    std::vector<IpAddress> dhcp_servers;       // empty: the gateway, else the first server seen
    std::vector<IpAddress> shared_addresses;
    bool alert_each_randomized = false;
    std::uint64_t max_new_macs_per_minute = 200;
    Timestamp ip_conflict_window = 300 * kMicrosPerSecond;
    // A new device is reported after this settle time, so its names are known by then.
    Timestamp unregistered_settle = 30 * kMicrosPerSecond;
};

class LanHygiene final : public Analyzer {
  public:
    LanHygiene(HostTable& hosts, FindingSink& sink, LanHygieneSettings settings);
    std::string_view name() const override { return "lan-hygiene"; }
    void on_packet(const Packet& packet, PacketContext& context) override;
    void on_tick(Timestamp now) override;
    void on_finish(Timestamp now) override;
    void table_use(std::vector<TableUse>& out) const override {
        out.push_back({"address-claims", "recent address claims (for IP conflicts)", kMaxClaims,
                       claim_evictions_});
        out.push_back({"next-hops", "each device's next hop to the internet, and ARP claims",
                       kMaxNextHops, next_hops_.evictions() + arp_claims_.evictions()});
    }

    Timestamp learning_ends() const { return learning_ends_; }
    const std::optional<MacAddress>& gateway_mac() const { return settings_.gateway_mac; }
    // Today's randomised-MAC summary so far (date -> evidence), for a rebuild on reload.
    std::map<std::string, nlohmann::json> randomized_summary() const;
    // Each device's learned next hop (no gateway configured).
    std::vector<LearnedNextHop> next_hops() const;

    static constexpr std::size_t kMaxClaims = 16384;
    static constexpr std::size_t kMaxNextHops = 4096;
    // A device's internet traffic moving to a MAC counts as a takeover only this soon after that
    // MAC claimed an address by ARP.
    static constexpr Timestamp kTakeoverWindow = 600 * kMicrosPerSecond;
    // ... and once the device has sent this many internet packets there without going back.
    static constexpr int kTakeoverPackets = 10;
    std::uint64_t claim_evictions() const { return claim_evictions_; }

  private:
    struct Claim {
        MacAddress mac;
        Timestamp last = 0;
        MacAddress other;  // the previous claimant while a conflict is open
        Timestamp other_last = 0;
        Timestamp conflict_since = 0;
        Timestamp alerted = 0;
        std::uint64_t pending = 0;  // claims since the last alert update
        const char* last_how = "";  // how the last claim was made (arp-reply, dhcp-ack ...)
    };

    void report_conflict(const IpAddress& ip, Claim& c, Timestamp ts);
    void on_arp(const Packet& packet);
    void learn_next_hop(const Packet& packet);
    bool is_outbound_to_internet(const Packet& packet) const;
    void watch_next_hop(const Packet& packet);
    void on_dhcp_reply(const Packet& packet, PacketContext& context);
    void claim(const IpAddress& ip, const MacAddress& mac, const char* how, Timestamp ts);
    void check_unregistered(Timestamp now, bool final);
    void check_flood(Timestamp now);
    void flush_randomized(Timestamp now);
    void start_randomized_day(std::int64_t day);
    nlohmann::json randomized_evidence() const;
    void emit(AlertUpdate update);
    void flush_throttled(Timestamp now, bool all);
    bool is_shared(const IpAddress& a) const;
    Timestamp device_first_seen(const Host& h) const;

    HostTable& hosts_;
    FindingSink& sink_;
    LanHygieneSettings settings_;
    InternalNetworks internal_;
    Timestamp learning_ends_ = 0;
    bool started_ = false;
    const char* gateway_mac_from_ = "configuration";

    MacAddress next_hop_candidate_;
    int next_hop_votes_ = 0;

    // With no gateway configured: each device's next hop for internet traffic, and the last
    // address each MAC claimed by ARP (keys: MAC as u64).
    struct ArpClaim {
        IpAddress ip;
        Timestamp ts = 0;
        const char* how = "";
    };
    struct NextHop {
        MacAddress hop;        // zero until three packets in a row agree
        MacAddress earlier;    // the hop before `hop`
        MacAddress candidate;  // a different MAC the last packets went to
        int votes = 0;
        Timestamp last = 0;
        // A move to a MAC that had just claimed an address, waiting for confirmation.
        MacAddress moved_from;  // zero: none pending
        ArpClaim moved_claim;
        int packets_since_move = 0;
    };
    void report_takeover(const Packet& packet, const NextHop& n);
    BoundedTable<std::uint64_t, NextHop> next_hops_{kMaxNextHops};
    BoundedTable<std::uint64_t, ArpClaim> arp_claims_{kMaxNextHops};
    bool next_hops_changed_ = false;
    Timestamp next_hops_recorded_ = 0;
    void record_next_hops(Timestamp now, bool final);

    std::unordered_map<std::uint32_t, Claim> claims_;  // IPv4 (host order) -> last claimant
    std::uint64_t claim_evictions_ = 0;

    struct Throttled {
        Timestamp sent = 0;
        std::uint64_t pending = 0;
        AlertUpdate last;
    };
    std::unordered_map<std::string, Throttled> throttle_;  // alert key -> last update sent

    Timestamp next_scan_ = 0;
    // Unregistered devices raised in the current minute (bounded even when not flooding).
    Timestamp unregistered_minute_ = 0;
    std::uint64_t unregistered_this_minute_ = 0;

    // Randomised-MAC devices for today's summary.
    std::int64_t randomized_day_ = -1;
    std::vector<nlohmann::json> randomized_devices_;
    std::uint64_t randomized_count_ = 0;
    bool randomized_dirty_ = false;

    // MAC flood state.
    Timestamp minute_start_ = 0;
    std::uint64_t newcomers_at_minute_start_ = 0;
    std::uint64_t evictions_at_minute_start_ = 0;
    std::uint64_t refused_at_minute_start_ = 0;
    bool flooding_ = false;
    bool flood_alerted_ = false;
    Timestamp flood_start_ = 0, flood_end_ = 0;
    std::uint64_t flood_peak_ = 0, flood_evictions_start_ = 0;
    std::uint64_t flood_refused_start_ = 0;
};

}  // namespace clinicwatch
