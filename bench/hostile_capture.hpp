// Hostile traffic for the robustness benchmark: floods that anyone on a clinic LAN (or malware
// on one of its PCs) can send to fill the sensor's tables. Each kind targets one part of the
// sensor; a tenth of the frames is ordinary background (ARP and DNS of a few known devices)
// so analyzers see a normal LAN underneath.
#pragma once

#include <optional>
#include <string_view>
#include <vector>

#include "bench/clinic_capture.hpp"

namespace clinicwatch::bench {

enum class HostileKind {
    mac_flood,     // random source MACs (macof-style): the host table
    ip_flood,      // one MAC sending from random source IPs: per-device address lists
    destinations,  // one PC opening connections to random internet addresses: boundary flows
    fragments,     // IPv4 fragments with random ids and offsets: the decoder's fragment path
    broadcasts,    // distinct broadcast frames: the loop detector's signature table
    dns_huge,      // DNS answers with many, long records for random names: the DNS name cache
    syn_scan,      // SYNs to random ports of every internal address, some answered: services
};

const std::vector<HostileKind>& all_hostile_kinds();
std::string_view to_string(HostileKind kind);
std::optional<HostileKind> parse_hostile_kind(std::string_view text);

struct HostileOptions {
    HostileKind kind = HostileKind::mac_flood;
    std::uint64_t packets = 1'000'000;  // exact number of frames written
    std::uint64_t seed = 1;
    std::int64_t start_us = 1'795'129'200'000'000;  // 2026-11-20T08:00:00+09:00
    std::uint64_t packets_per_second = 20'000;      // packet-time rate of the flood
};

// Writes the frames into `sink`, in time order.
void generate_hostile_capture(const HostileOptions& options, const FrameSink& sink);

}  // namespace clinicwatch::bench
