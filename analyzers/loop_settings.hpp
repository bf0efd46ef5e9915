// The loop units' settings (config section `loop:`, daemon/loop_rules.cpp) and the switches'
// own loop-detection frames (rules/loop-detect-frames.yaml). Every loop unit is built from the
// same settings, so a reload rebuilds them together.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "capture/packet.hpp"

namespace clinicwatch {

// A switch's own loop-detection frame (rules/loop-detect-frames.yaml).
struct LoopDetectFrameRule {
    std::string vendor;
    std::optional<MacAddress> dst_mac;  // none = any destination
    std::uint16_t ethertype = 0;
    std::string source;  // where the fact comes from
};

struct LoopDetectorSettings {
    // Signatures kept (rounded up to a power of two). 16384 covers 16k distinct broadcast frames
    // per second; beyond that the oldest entries are evicted and counted.
    std::size_t table_capacity = 16384;
    // Copies of one frame within `window` that mark it as circulating.
    std::uint32_t repeat_threshold = 20;
    // A loop needs this many distinct circulating frames at once, or one frame repeated at least
    // `single_frame_loop` times in the window (a quiet LAN may have only one frame looping). One
    // chatty device resending the same broadcast is not a loop.
    std::uint32_t min_circulating_frames = 2;
    std::uint32_t single_frame_loop = 200;
    Timestamp window = kMicrosPerSecond;
    // Broadcast storm: broadcast + multicast frames/s above max(floor, factor x baseline) for
    // `storm_seconds` consecutive seconds.
    double storm_floor = 1500;
    double storm_factor = 8;
    int storm_seconds = 3;
    // Baseline: EWMA of broadcast + multicast frames/s, time constant in seconds.
    double baseline_seconds = 900;
    // ARP requests/s (distinct frames) above max(floor, factor x baseline) for `storm_seconds`.
    double arp_host_floor = 50;
    double arp_lan_floor = 300;
    double arp_factor = 8;
    std::size_t max_arp_hosts = 4096;
    // An incident ends after this long without its condition.
    Timestamp quiet_to_end = 5 * kMicrosPerSecond;
    // Open alerts are updated at most this often (packet time).
    Timestamp update_interval = 5 * kMicrosPerSecond;
    // A bridge's topology-change episode ends after this long without a TC BPDU (802.1D: a TC
    // lasts max age + forward delay, 35 s by default, announced every hello time).
    Timestamp stp_quiet_to_end = 60 * kMicrosPerSecond;
    std::size_t max_bridges = 256;
    // Frames captured twice (same bytes within this time) reported as a capture artefact.
    Timestamp duplicate_capture_gap = 1000;
    std::vector<LoopDetectFrameRule> loop_detect_frames;
};

}  // namespace clinicwatch
