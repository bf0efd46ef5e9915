// Names for addresses, learned from the DNS answers clients on the LAN receive. An answer
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

class DnsNameCache {
  public:
    // Clients connect right after the answer; a TTL of 0 or 1 s must still name that flow.
    static constexpr std::uint32_t kMinTtlSeconds = 5;
    static constexpr int kMaxChain = 8;

    explicit DnsNameCache(std::size_t capacity) : table_(capacity) {}

    // Learns from a parsed DNS response seen at packet time `now`.
    void learn(const dns::Message& message, Timestamp now);
    // The name for `address`, or nullptr when unknown or expired.
    const std::string* lookup(const IpAddress& address, Timestamp now);

    std::size_t size() const { return table_.size(); }
    std::size_t capacity() const { return table_.capacity(); }
    std::uint64_t evictions() const { return table_.evictions(); }

  private:
    struct Entry {
        std::string name;
        Timestamp expires = 0;
    };
    void store(const IpAddress& address, std::string name, Timestamp expires);

    BoundedTable<IpAddress, Entry> table_;
};

}  // namespace clinicwatch
