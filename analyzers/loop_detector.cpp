#include "analyzers/loop_detector.hpp"

#include <stdexcept>
#include <string>

#include "analyzers/arp_storms.hpp"
#include "analyzers/broadcast_rate.hpp"
#include "analyzers/duplicate_capture.hpp"
#include "analyzers/frame_repeats.hpp"
#include "analyzers/loop_storm.hpp"
#include "analyzers/stp_changes.hpp"

namespace clinicwatch {

bool LoopDetector::is_unit(std::string_view name) {
    for (auto unit : kUnits)
        if (unit == name) return true;
    return false;
}

std::unique_ptr<Analyzer> LoopDetector::build(std::string_view name, FindingSink& sink,
                                              const LoopDetectorSettings& settings,
                                              const HostTable* hosts) {
    auto need = [&](const void* unit, const char* what) {
        if (!unit) throw std::logic_error(std::string(name) + " is built after " + what);
    };
    if (name == "frame-repeats") {
        auto unit = std::make_unique<FrameRepeats>(settings, hosts);
        repeats = unit.get();
        return unit;
    }
    if (name == "broadcast-rate") {
        need(repeats, "frame-repeats");
        auto unit = std::make_unique<BroadcastRate>(settings, *repeats);
        rate = unit.get();
        return unit;
    }
    if (name == "loop-storm") {
        need(repeats, "frame-repeats");
        need(rate, "broadcast-rate");
        auto unit = std::make_unique<LoopOrStorm>(sink, settings, *repeats, *rate);
        loop = unit.get();
        const LoopOrStorm* incident = loop;
        rate->watch_incident([incident] { return incident->incident_open(); });
        return unit;
    }
    if (name == "arp-storms") {
        need(repeats, "frame-repeats");
        auto unit = std::make_unique<ArpStorms>(sink, settings, *repeats, hosts);
        arp = unit.get();
        return unit;
    }
    if (name == "stp-changes") {
        need(loop, "loop-storm");
        const LoopOrStorm* incident = loop;
        auto unit = std::make_unique<StpChanges>(sink, settings,
                                                 [incident] { return incident->incident_open(); });
        stp = unit.get();
        loop->watch_bridges(stp);
        return unit;
    }
    if (name == "duplicate-capture") {
        need(loop, "loop-storm");
        auto unit = std::make_unique<DuplicateCapture>(sink, settings, loop);
        duplicates = unit.get();
        return unit;
    }
    return nullptr;
}

std::vector<std::unique_ptr<Analyzer>> LoopDetector::build_all(FindingSink& sink,
                                                               const LoopDetectorSettings& settings,
                                                               const HostTable* hosts) {
    std::vector<std::unique_ptr<Analyzer>> out;
    for (auto name : kUnits) out.push_back(build(name, sink, settings, hosts));
    return out;
}

LoopDetectorStats LoopDetector::stats() const {
    LoopDetectorStats s;
    if (repeats) {
        s.hashed_frames = repeats->hashed_frames();
        s.table_evictions = repeats->table_evictions();
    }
    if (loop) s.incidents = loop->incidents();
    if (stp) {
        s.stp_topology_changes = stp->topology_changes();
        s.bridge_drops = stp->bridge_drops();
    }
    if (duplicates) s.duplicate_captures = duplicates->duplicates();
    if (arp) s.arp_host_evictions = arp->host_evictions();
    return s;
}

std::size_t LoopDetector::table_size() const {
    return repeats ? repeats->table_size() : 0;
}

std::size_t LoopDetector::table_capacity() const {
    return repeats ? repeats->table_capacity() : 0;
}

bool LoopDetector::incident_open() const {
    return loop && loop->incident_open();
}

double LoopDetector::broadcast_baseline() const {
    return rate ? rate->baseline() : 0;
}

std::uint64_t LoopDetector::signature(Bytes frame, std::uint32_t wire_length) {
    return FrameRepeats::signature(frame, wire_length);
}

}  // namespace clinicwatch
