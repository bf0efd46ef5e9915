// DHCP floods: DISCOVERs and REQUESTs far faster than any real device sends them. A starvation
// tool (yersinia, dhcpig) forges thousands of clients to empty the server's address pool, often
// before offering its own rogue server; a broken client stuck in a loop does the same by
// accident. Either way devices stop getting addresses: to the clinic, "the network is down".
//
// Client requests are counted per minute of packet time, LAN-wide (a starvation tool forges a
// new client MAC for every request). Above the limit it is one incident, one `dhcp-flood` alert
// (high), raised at once, updated at most once a minute while it lasts and ended after a minute
// back under the limit (or when the capture stops). The evidence names the busiest senders and how
// many distinct clients the requests claimed to come from. State is bounded whatever the flood.
#pragma once

#include <cstdint>
#include <unordered_set>
#include <vector>

#include "analyzers/analyzer.hpp"
#include "analyzers/findings.hpp"

namespace clinicwatch {

struct DhcpFloodSettings {
    // A clinic's devices booting together send a few hundred at most.
    std::uint64_t max_requests_per_minute = 500;
};

class DhcpFlood final : public Analyzer {
  public:
    DhcpFlood(FindingSink& sink, DhcpFloodSettings settings);
    std::string_view name() const override { return "dhcp-flood"; }
    void on_packet(const Packet& packet, PacketContext& context) override;
    void on_tick(Timestamp now) override;
    void on_finish(Timestamp now) override;

    // Bounds of the evidence: senders kept by MAC, distinct clients counted exactly up to.
    static constexpr std::size_t kMaxSenders = 64;
    static constexpr std::size_t kMaxClients = 4096;

  private:
    struct Sender {
        MacAddress mac;
        std::uint64_t requests = 0;
    };
    void advance(Timestamp now);
    void count(const MacAddress& sender, std::uint64_t client, bool discover);
    void emit(Timestamp now, bool ended);
    void reset_counts();

    FindingSink& sink_;
    DhcpFloodSettings settings_;
    Timestamp minute_start_ = -1;
    std::uint64_t this_minute_ = 0;
    // Since the start of the minute, or of the incident while one is open.
    std::uint64_t discovers_ = 0, requests_ = 0;
    std::vector<Sender> senders_;  // bounded by kMaxSenders; the rest counted in other_senders_
    std::uint64_t other_senders_requests_ = 0;
    std::unordered_set<std::uint64_t> clients_;  // bounded by kMaxClients
    bool open_ = false;
    bool counted_ = false;  // the incident's first update (count 1) was sent
    Timestamp start_ = 0, last_request_ = 0;
    std::uint64_t peak_ = 0;
};

}  // namespace clinicwatch
