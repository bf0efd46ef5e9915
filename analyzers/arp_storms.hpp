// Is a device, or the LAN as a whole, flooding ARP? ARP requests (and their IPv6 counterpart,
// multicast neighbour solicitations) per second, per sender and LAN-wide, against a learned
// baseline (EWMA) with an absolute floor: `storm_seconds` seconds above it is an `arp-storm`
// alert (high), updated while it lasts and ended once the rate has been normal for a few
// seconds. Only the first copy of a frame within the window counts (FrameRepeats), so a loop's
// circulating ARP request is the loop's, not an ARP storm.
#pragma once

#include <cstdint>
#include <unordered_map>

#include "analyzers/analyzer.hpp"
#include "analyzers/findings.hpp"
#include "analyzers/frame_repeats.hpp"
#include "analyzers/host_table.hpp"
#include "analyzers/loop_settings.hpp"

namespace clinicwatch {

class ArpStorms final : public Analyzer {
  public:
    // `hosts`: while it is full, senders it turned away are counted LAN-wide only.
    ArpStorms(FindingSink& sink, const LoopDetectorSettings& settings, const FrameRepeats& repeats,
              const HostTable* hosts = nullptr);
    std::string_view name() const override { return "arp-storms"; }
    void on_packet(const Packet& packet, PacketContext& context) override;
    void on_tick(Timestamp now) override;
    void on_finish(Timestamp now) override;
    void table_use(std::vector<TableUse>& out) const override;

    std::uint64_t host_evictions() const { return host_evictions_; }

  private:
    struct ArpHost {
        std::uint32_t this_second = 0;
        double baseline = 0;
        int over = 0;
        Timestamp storm_start = 0, last_over = 0, last_emit = 0;
        bool storm = false;
        std::uint64_t requests_in_storm = 0, peak = 0, emitted = 0;
    };

    void on_request(const MacAddress& sender, bool per_sender);
    void close_second(Timestamp second);
    void update(const MacAddress* host, ArpHost& a, Timestamp now);
    void emit(const MacAddress* host, ArpHost& a, Timestamp now, bool ended);

    FindingSink& sink_;
    double host_floor_, lan_floor_, factor_, baseline_seconds_;
    int storm_seconds_;
    Timestamp quiet_to_end_, update_interval_;
    std::size_t max_hosts_;
    const FrameRepeats& repeats_;
    const HostTable* hosts_table_;
    SecondClock clock_;
    std::uint64_t sec_requests_ = 0;
    std::unordered_map<std::uint64_t, ArpHost> hosts_;
    ArpHost lan_;
    std::uint64_t host_evictions_ = 0;  // senders dropped or not tracked (table full)
};

}  // namespace clinicwatch
