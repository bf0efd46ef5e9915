// Layer-2 loops and broadcast storms, "the network is down again", answered by small units,
// one per question, all built from the `loop:` settings (analyzers/loop_settings.hpp) and run
// in this order:
//   frame-repeats      FrameRepeats: frames' signatures and per-second totals, counted once
//                      for the units below (raises nothing)
//   broadcast-rate     BroadcastRate: each second's broadcast + multicast rate against the
//                      learned normal rate: a storm? (raises nothing)
//   loop-storm         LoopOrStorm: frames circulating (a loop), and the one incident for a
//                      loop or storm (`l2-loop`, `broadcast-storm`), with switches'
//                      loop-detection frames as evidence
//   arp-storms         ArpStorms: ARP (and NDP) storms per device and LAN-wide (`arp-storm`)
//   stp-changes        StpChanges: spanning-tree topology changes (`stp-topology-change`)
//   duplicate-capture  DuplicateCapture: frames the mirror port copies twice
//
// LoopDetector builds them with their links to each other (the pipeline by name, in
// kAnalyzerOrder; tests, the benchmark and fuzz targets all at once) and sums their counters.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <string_view>
#include <vector>

#include "analyzers/analyzer.hpp"
#include "analyzers/findings.hpp"
#include "analyzers/loop_settings.hpp"

namespace clinicwatch {

class HostTable;
class FrameRepeats;
class BroadcastRate;
class LoopOrStorm;
class ArpStorms;
class StpChanges;
class DuplicateCapture;

// Counters for tests, the benchmark and the daemon's status line.
struct LoopDetectorStats {
    std::uint64_t hashed_frames = 0;
    std::uint64_t table_evictions = 0;
    std::uint64_t incidents = 0;
    std::uint64_t stp_topology_changes = 0;
    std::uint64_t duplicate_captures = 0;
    std::uint64_t arp_host_evictions = 0;  // ARP senders dropped or not tracked (table full)
    std::uint64_t bridge_drops = 0;        // bridges dropped or not tracked (table full)
};

class LoopDetector {
  public:
    // The units' names, in the order packets must visit them.
    static constexpr std::array<std::string_view, 6> kUnits = {
        "frame-repeats", "broadcast-rate", "loop-storm",
        "arp-storms",    "stp-changes",    "duplicate-capture"};
    static bool is_unit(std::string_view name);

    // Builds the named unit, linked to the units built before it (build them in kUnits order;
    // a unit whose predecessor is missing throws std::logic_error). Nothing for other names.
    // The LoopDetector keeps plain pointers: the dispatcher owns the units.
    std::unique_ptr<Analyzer> build(std::string_view name, FindingSink& sink,
                                    const LoopDetectorSettings& settings,
                                    const HostTable* hosts = nullptr);
    // All of them, in order.
    std::vector<std::unique_ptr<Analyzer>> build_all(FindingSink& sink,
                                                     const LoopDetectorSettings& settings,
                                                     const HostTable* hosts = nullptr);

    LoopDetectorStats stats() const;
    std::size_t table_size() const;
    std::size_t table_capacity() const;
    bool incident_open() const;
    double broadcast_baseline() const;

    // The signature used for repeated frames: first kHashBytes bytes and the wire length.
    static std::uint64_t signature(Bytes frame, std::uint32_t wire_length);

    FrameRepeats* repeats = nullptr;
    BroadcastRate* rate = nullptr;
    LoopOrStorm* loop = nullptr;
    ArpStorms* arp = nullptr;
    StpChanges* stp = nullptr;
    DuplicateCapture* duplicates = nullptr;
};

}  // namespace clinicwatch
