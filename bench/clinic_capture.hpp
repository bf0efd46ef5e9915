// A deterministic synthetic capture of a small clinic LAN, as a mirror port beside the Yamaha
// router sees it: DHCP, ARP, NBNS, mDNS/SSDP chatter, DNS before internet sessions, complete TCP
// sessions to LAN servers and to the internet, and (optionally) scripted incidents. The same
// options and seed always give the same bytes. Frames are streamed in time order to a sink, so
// memory stays bounded however many packets are asked for.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "bench/frame_builder.hpp"

namespace clinicwatch::bench {

struct ClinicCaptureOptions {
    std::uint64_t packets = 60'000;  // exact number of frames written
    std::uint64_t seed = 1;
    std::int64_t start_us = 1'795'129'200'000'000;  // 2026-11-20T08:00:00+09:00
    std::int64_t duration_us = 30LL * 60 * 1'000'000;
    bool incidents = true;
};

struct TruthHost {
    MacAddress mac;
    std::uint32_t ip = 0;
    std::string hostname, vendor, role, os, os_family;
    bool registered = true;
    bool randomized_mac = false;
    std::string addressing;   // "dhcp" or "static"
    std::string responsible;  // who the register says looks after it
};

struct TruthIncident {
    std::string kind;
    std::int64_t start_us = 0, end_us = 0;  // first and last frame of the incident
    std::vector<MacAddress> hosts;
    nlohmann::json details = nlohmann::json::object();
};

struct ClinicCaptureTruth {
    ClinicCaptureOptions options;
    std::uint64_t packets = 0, bytes = 0;
    std::int64_t first_us = 0, last_us = 0;
    MacAddress gateway_mac;
    std::uint32_t gateway_ip = 0;
    std::vector<TruthHost> hosts;  // only hosts that sent at least one frame with their address
    std::vector<TruthIncident> incidents;  // only incidents with at least one frame written
};

// Receives each frame in time order (timestamps never go backwards).
using FrameSink = std::function<void(std::int64_t ts_us, ByteView frame)>;

class ClinicCaptureError : public std::runtime_error {
  public:
    using std::runtime_error::runtime_error;
};

// Generates the capture into `sink`. Throws ClinicCaptureError when the options cannot be met
// (e.g. fewer packets than the scripted traffic needs).
ClinicCaptureTruth generate_clinic_capture(const ClinicCaptureOptions& options,
                                           const FrameSink& sink);

// The smallest --packets the scripted traffic of these options fits in.
std::uint64_t minimum_packets(const ClinicCaptureOptions& options);

// Ground truth as JSON (capture, network, hosts, register, incidents).
nlohmann::json truth_json(const ClinicCaptureTruth& truth);
// The registered hosts as a `register:` YAML fragment for the configuration file.
std::string register_yaml(const ClinicCaptureTruth& truth);

// "2026-11-20T08:00:00+09:00", "...Z" or without offset (taken as +09:00, clinic time).
std::optional<std::int64_t> parse_iso_time(const std::string& text);
std::string format_iso_time(std::int64_t us, int offset_minutes = 9 * 60);

}  // namespace clinicwatch::bench
