// Service health per server, from the clients' point of view (issue 22): for every LAN device
// that answers TCP, every DNS server the clients ask, the DHCP server and the router, per minute
// of packet time: TCP attempts, handshakes, attempts left unanswered or refused, handshake time,
// retransmissions, zero windows and the fastest burst; DNS queries, answers, timeouts and
// failure codes; DHCP DISCOVERs/REQUESTs and their OFFERs/ACKs/NAKs; ARP requests for the
// server left unanswered. The minutes go to the store; a minute in which most of a server's
// clients got nothing (at least `min_clients` of them, above what that server's hour usually
// shows) opens an outage alert, which ends with the first minute its clients are answered again.
//
// Bounded and flat: servers in a fixed array (max_servers; when full, the server quiet longest
// gives its place to a newcomer once it has been quiet for kEvictIdle, else the newcomer is
// refused; both counted), requests in flight in a direct-mapped slot array (a collision replaces
// the older entry and is counted); per-connection state (retransmissions, bursts) in the
// connection's slot of the shared flow table. No allocation per packet.
//
// The baseline (per server: the clients it answered, each hour's usual share of failing clients,
// its usual transfer speed) is handed to `record_baseline` as JSON once an hour of packet time and
// at the end, and given back with restore_baseline() at the next start, so a restart does not
// forget what is usual.
#pragma once

#include <algorithm>
#include <array>
#include <cstdint>
#include <functional>
#include <limits>
#include <optional>
#include <string>
#include <vector>

#include "analyzers/analyzer.hpp"
#include "analyzers/findings.hpp"
#include "analyzers/internal_networks.hpp"

namespace clinicwatch {

struct ServiceHealthSettings {
    std::vector<IpNetwork> internal_networks;  // empty: the RFC 1918 ... defaults
    std::optional<IpAddress> gateway_ip;
    std::size_t max_servers = 64;
    std::size_t pending_slots = 4096;  // requests waiting for an answer (power of two)
    // The floor: fewer clients than this failing in a minute is one flaky client, not an outage.
    std::uint32_t min_clients = 3;
    std::uint32_t min_dhcp_clients = 2;  // few devices ask DHCP at once
    // Where the learned baseline goes (the store's meta table); empty: kept in memory only.
    std::function<void(const std::string&)> record_baseline;
};

class ServiceHealth final : public Analyzer {
  public:
    ServiceHealth(FindingSink& sink, ServiceHealthSettings settings);
    std::string_view name() const override { return "service-health"; }
    void on_packet(const Packet& packet, PacketContext& context) override;
    void on_tick(Timestamp now) override;
    void on_finish(Timestamp now) override;
    void table_use(std::vector<TableUse>& out) const override;

    // The learned baseline as JSON (bounded: max_servers entries), and back. restore_baseline()
    // ignores what it cannot read; call it before the first packet.
    nlohmann::json baseline() const;
    void restore_baseline(const nlohmann::json& stored);

    static constexpr std::size_t kClientsPerMinute = 32;
    static constexpr std::size_t kClientsPerOutage = 64;

    // Timeouts after which a request counts as unanswered.
    static constexpr Timestamp kTcpTimeout = 5 * kMicrosPerSecond;
    static constexpr Timestamp kDnsTimeout = 5 * kMicrosPerSecond;  // resolvers retry within it
    static constexpr Timestamp kDhcpTimeout = 10 * kMicrosPerSecond;
    static constexpr Timestamp kArpTimeout = 2 * kMicrosPerSecond;
    // No frame at all for this long is a capture gap (or a silent network): requests in flight
    // across it are forgotten, not counted as unanswered.
    static constexpr Timestamp kGap = 10 * kMicrosPerSecond;
    static constexpr Timestamp kShortestTimeout =
        std::min({kTcpTimeout, kDnsTimeout, kDhcpTimeout, kArpTimeout});
    // A server quiet this long may give its place to a new one when the table is full.
    static constexpr Timestamp kEvictIdle = 5 * 60 * kMicrosPerSecond;

  private:
    enum Kind : std::uint8_t {
        kTcp = 0,
        kDns,
        kDhcp,
        kArp,
        kCeiling,
        kRefused,   // the host answers, with RST: its service is not running
        kDhcpFull,  // DHCP turns devices away (NAK, or no OFFER while it ACKs others)
        kKinds
    };
    enum Service : std::uint8_t { sTcp = 0, sDns, sDhcp, sArp, sServices };

    struct ClientSlot {
        MacAddress mac;
        std::array<std::uint16_t, sServices> tries{}, fails{}, answers{};
    };
    struct Bucket {
        ServiceMinute row;
        bool used = false;
        std::array<ClientSlot, kClientsPerMinute> clients;
        std::uint32_t n_clients = 0, clients_overflow = 0;
        std::array<Timestamp, sServices> first_fail{}, last_fail{}, first_answer{};
        bool dhcp_out_of_addresses = false;
    };
    struct Outage {
        bool open = false;
        Timestamp start = 0, last_bad = 0, end = 0;  // end: clients answered again
        int quiet_minutes = 0;
        std::array<MacAddress, kClientsPerOutage> clients;
        std::uint32_t n_clients = 0, max_trying = 0;
        std::uint64_t attempts = 0, failed = 0;
        std::uint32_t peak_mbps = 0, retrans_permille = 0;
        std::string cause;
    };
    struct Server {
        IpAddress ip;
        MacAddress mac;
        bool gateway = false;
        Timestamp last_active = 0;           // last request or data seen (eviction order)
        std::uint64_t client_mask = 0;       // clients ever answered (bits of their MAC hash)
        std::array<Bucket, 2> buckets;       // this minute and the one before (late answers)
        std::array<float, 24> fail_share{};  // usual share of clients failing, per hour
        std::array<bool, 24> fail_share_known{};
        float learned_mbps = 0;
        std::uint32_t learned_minutes = 0;
        std::array<Outage, kKinds> outages;
    };
    enum PendingType : std::uint8_t { pNone = 0, pTcp, pDns, pDhcp, pArp };
    struct Pending {
        std::uint64_t key = 0;
        PendingType type = pNone;
        std::uint16_t server = 0;
        std::uint8_t dhcp_type = 0;
        MacAddress client;
        Timestamp first = 0;
    };

    Server* server_at(const IpAddress& ip);
    std::uint16_t find_server(const IpAddress& ip) const;  // kNoServer when unknown
    std::uint16_t add_server(const IpAddress& ip, const MacAddress& mac);
    std::uint16_t evict_quietest();  // kNoServer when every server is busy
    void index_servers();
    Bucket& bucket(Server& s, Timestamp ts);
    Bucket* bucket_of_minute(Server& s, Timestamp minute);
    ClientSlot* client(Bucket& b, const MacAddress& mac);
    void count_try(Server& s, Timestamp ts, const MacAddress& mac, Service service);
    void count_fail(Server& s, Timestamp first, Timestamp now, const MacAddress& mac,
                    Service service);
    void count_answer(Server& s, Timestamp first, Timestamp now, const MacAddress& mac,
                      Service service);
    Pending* pending_find(std::uint64_t key, PendingType type);
    void forget(Pending& p);  // answered, expired or dropped: the slot is free
    void pending_add(std::uint64_t key, PendingType type, std::uint16_t server,
                     const MacAddress& client, Timestamp ts, std::uint8_t dhcp_type = 0);
    void expire(const Pending& p, Timestamp now);
    void on_tcp(const Packet& p, PacketContext& context);
    void on_dns(const Packet& p, bool query);
    void on_dhcp(const Packet& p, PacketContext& context);
    void on_arp(const Packet& p);
    void close_bucket(Server& s, Bucket& b);
    void judge(Server& s, Bucket& b);
    void outage_minute(Server& s, Kind kind, bool bad, bool answered, const Bucket& b,
                       Service service, const std::string& cause);
    void emit(Server& s, Kind kind, bool ended);

    static constexpr std::uint16_t kNoServer = 0xffff;

    FindingSink& sink_;
    ServiceHealthSettings settings_;
    InternalNetworks internal_;
    std::vector<Server> servers_;              // reserved to max_servers, never reallocated
    std::vector<std::uint16_t> server_index_;  // direct-mapped by address hash, probed
    std::vector<Pending> pending_;
    std::size_t pending_open_ = 0;  // requests waiting in pending_
    static constexpr Timestamp kNever = std::numeric_limits<Timestamp>::max();
    Timestamp oldest_pending_ = kNever;  // no open request asked earlier (a lower bound)
    std::uint16_t dhcp_server_ = kNoServer;  // the server that last answered DHCP
    Timestamp last_packet_ = 0, next_expiry_scan_ = 0, next_baseline_ = 0;
    std::uint64_t servers_refused_ = 0, servers_evicted_ = 0, pending_replaced_ = 0;
    std::vector<ServiceMinute> rows_;  // handed to the sink once per tick
};

}  // namespace clinicwatch
