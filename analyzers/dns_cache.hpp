// Names for addresses, learned from the DNS answers clients on the LAN receive. An answer
// counts only when it answers a query a client sent: same transaction id, the client's port,
// the server the query went to, and the same question name (RFC 5452 §9.1's acceptance rule).
// Anyone on the LAN can send a datagram from port 53; an unsolicited "answer" must not name
// the addresses that egress policy judges (see Egress for the finding it raises). An
// A/AAAA record is stored under the name the client asked for: a CNAME chain
// (router15.teamviewer.com -> ...trafficmanager.net -> A) is walked back to its start, since
// that is the name the clinic recognises and the one policy lists name. TTLs are honoured in
// packet time; the table is bounded.
#pragma once

#include <cstdint>
#include <string>

#include "analyzers/bounded_table.hpp"
#include "capture/address.hpp"
#include "capture/packet.hpp"
#include "capture/protocols/dns.hpp"

namespace clinicwatch {

// A query waiting for its answer, found by who asked whom with which id.
struct DnsQueryKey {
    IpAddress client, server;
    std::uint16_t client_port = 0, id = 0;
    bool operator==(const DnsQueryKey&) const = default;
};

struct DnsQueryKeyHash {
    std::size_t operator()(const DnsQueryKey& k) const {
        std::uint64_t h = std::hash<IpAddress>{}(k.client) * 31 + std::hash<IpAddress>{}(k.server);
        h ^= (std::uint64_t{k.client_port} << 16) ^ k.id;
        h ^= h >> 33;
        h *= 0xff51afd7ed558ccdULL;
        h ^= h >> 33;
        return static_cast<std::size_t>(h);
    }
};

enum class DnsAnswerFate { learned, unsolicited, ignored };

class DnsNameCache {
  public:
    // Clients connect right after the answer; a TTL of 0 or 1 s must still name that flow.
    static constexpr std::uint32_t kMinTtlSeconds = 5;
    static constexpr int kMaxChain = 8;

    // A resolver answers within seconds; a query older than this is no longer outstanding.
    static constexpr Timestamp kQueryTimeout = 10 * kMicrosPerSecond;
    static constexpr std::size_t kMaxOutstandingQueries = 4096;

    explicit DnsNameCache(std::size_t capacity)
        : table_(capacity), queries_(kMaxOutstandingQueries) {}

    // A query `client`:`client_port` sent to `server` (port 53).
    void query(const dns::Message& message, const IpAddress& client, std::uint16_t client_port,
               const IpAddress& server, Timestamp now);
    // A response from `server` (port 53) to `client`:`client_port`: learned only when it answers
    // an outstanding query; otherwise counted as unsolicited and not learned.
    DnsAnswerFate answer(const dns::Message& message, const IpAddress& server,
                         const IpAddress& client, std::uint16_t client_port, Timestamp now);
    // Learns from a parsed DNS response seen at packet time `now`, trusting it (tests, and
    // answers already matched by answer()).
    void learn(const dns::Message& message, Timestamp now);
    // The name for `address`, or nullptr when unknown or expired.
    const std::string* lookup(const IpAddress& address, Timestamp now);

    std::size_t size() const { return table_.size(); }
    std::size_t capacity() const { return table_.capacity(); }
    std::uint64_t evictions() const { return table_.evictions(); }
    std::uint64_t unsolicited() const { return unsolicited_; }
    std::size_t outstanding_queries() const { return queries_.size(); }
    // Queries dropped from the full table before their answer came (their answers then count
    // as unsolicited).
    std::uint64_t queries_evicted() const { return queries_.evictions(); }

  private:
    struct Entry {
        std::string name;
        Timestamp expires = 0;
    };
    void store(const IpAddress& address, std::string name, Timestamp expires);

    struct PendingQuery {
        std::uint64_t name_hash = 0;  // the question, lower-case, without a trailing dot
        Timestamp sent = 0;
    };

    BoundedTable<IpAddress, Entry> table_;
    BoundedTable<DnsQueryKey, PendingQuery, DnsQueryKeyHash> queries_;
    Timestamp next_query_sweep_ = 0;
    std::uint64_t unsolicited_ = 0;
};

}  // namespace clinicwatch
