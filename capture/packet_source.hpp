// Where frames come from: a live interface or capture files. Live capture and replay run the
// same pipeline; only the PacketSource differs.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "capture/packet.hpp"

struct pcap;  // libpcap's pcap_t

namespace clinicwatch {

// Thrown for problems the user can fix: a missing file, a corrupt capture, a missing interface,
// missing privileges. what() is one line that says what to do.
class CaptureError : public std::runtime_error {
  public:
    enum class Kind { input_file, interface, permission, filter, link_type };
    CaptureError(Kind kind, const std::string& message)
        : std::runtime_error(message), kind_(kind) {}
    Kind kind() const { return kind_; }

  private:
    Kind kind_;
};

struct RawFrame {
    LinkType link = LinkType::ethernet;
    Timestamp ts = 0;
    std::uint32_t wire_length = 0;
    Bytes data;  // valid until the next call to next()
};

// A stretch of time (wall clock, microseconds) when a live capture could not read, e.g. the
// interface went down. end == 0 while it lasts.
struct CaptureGap {
    std::int64_t start_wall_us = 0;
    std::int64_t end_wall_us = 0;
    std::string reason;
};

struct KernelStats {
    std::uint64_t received = 0;
    std::uint64_t dropped = 0;            // buffer full in the kernel (pcap_stats ps_drop)
    std::uint64_t interface_dropped = 0;  // dropped by the NIC/driver (ps_ifdrop)
};

class PacketSource {
  public:
    enum class Next { frame, idle, end };
    virtual ~PacketSource() = default;
    // Reads one frame. `idle` means a live source had nothing within its timeout.
    // Throws CaptureError on a corrupt file or a failing interface.
    virtual Next next(RawFrame& out) = 0;
    // Asks a blocking next() to return soon (safe from another thread).
    virtual void interrupt() {}
    virtual KernelStats kernel_stats() const { return {}; }
    // Interruptions since the last call (live capture only; thread-safe).
    virtual std::vector<CaptureGap> take_gaps() { return {}; }
    // Share of the input read so far, 0..1, when known (files); negative when not.
    virtual double progress() const { return -1.0; }
    virtual std::string describe() const = 0;
};

// Owns a pcap_t; closed on destruction.
struct PcapHandle {
    pcap* handle = nullptr;
    PcapHandle() = default;
    explicit PcapHandle(pcap* h) : handle(h) {}
    PcapHandle(PcapHandle&& o) noexcept : handle(o.handle) { o.handle = nullptr; }
    PcapHandle& operator=(PcapHandle&& o) noexcept;
    PcapHandle(const PcapHandle&) = delete;
    PcapHandle& operator=(const PcapHandle&) = delete;
    ~PcapHandle();
};

struct LiveCaptureOptions {
    std::string interface;
    int snaplen = 2048;
    int buffer_mb = 16;
    std::string bpf_filter;
    bool promiscuous = true;
    int read_timeout_ms = 100;
    // Called around re-opening the interface after it went away (e.g. to raise CAP_NET_RAW
    // for the moment it takes, after privileges were dropped).
    std::function<void()> before_reopen, after_reopen;
};

// Opens the interface immediately so that privilege errors appear before any thread starts.
std::unique_ptr<PacketSource> open_live_capture(const LiveCaptureOptions& options);

// Reads pcap or pcapng files one after another. Each file is checked when opened.
std::unique_ptr<PacketSource> open_capture_files(const std::vector<std::string>& paths);

// Accepts the link types we decode, or throws CaptureError naming the one we got.
LinkType checked_link_type(int dlt, const std::string& where);

}  // namespace clinicwatch
