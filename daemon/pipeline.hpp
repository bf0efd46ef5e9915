// The pipeline every run uses: PacketSource -> capture thread -> FrameRing -> analysis thread
// (decode once, dispatch to analyzers) -> Store. Live capture and replay differ only in the
// source and in what happens when the ring is full.
#pragma once

#include <atomic>
#include <cstdint>
#include <exception>
#include <functional>
#include <memory>
#include <string>

#include "analyzers/asset_register.hpp"
#include "analyzers/dispatcher.hpp"
#include "analyzers/host_table.hpp"
#include "analyzers/vendor_registry.hpp"
#include "capture/capture_thread.hpp"
#include "capture/packet_source.hpp"
#include "daemon/config.hpp"
#include "daemon/store/store.hpp"

namespace clinicwatch {

struct PipelineProgress {
    std::uint64_t packets = 0;
    double packets_per_second = 0;  // over the last interval, wall clock
    double fraction_done = -1;      // files only
    std::uint64_t ring_drops = 0, capture_drops = 0;
    std::size_t hosts = 0;
};

struct PipelineResult {
    std::uint64_t packets = 0, bytes = 0, undecodable = 0;
    std::uint64_t ring_drops = 0, capture_drops = 0, cut_to_slot = 0;
    std::uint64_t host_evictions = 0;
    std::size_t hosts = 0;
    Timestamp first_packet = 0, last_packet = 0;
    double elapsed_seconds = 0;
    std::exception_ptr capture_error;  // set when the source failed (corrupt file ...)
};

struct PipelineOptions {
    RingFullPolicy ring_full = RingFullPolicy::wait;
    std::size_t slot_bytes = 2048;
    std::function<void(const PipelineProgress&)> on_progress;  // called about 4 times a second
};

class Pipeline {
public:
    Pipeline(const Config& config, Store& store, PipelineOptions options);
    ~Pipeline();

    // Runs until the source ends, fails, or `stop` becomes true; then drains the ring, closes
    // every analyzer and flushes the store. Everything read before an error is stored.
    PipelineResult run(PacketSource& source, const std::atomic<bool>& stop);

    HostTable& hosts() { return hosts_; }
    Dispatcher& dispatcher() { return dispatcher_; }

private:
    void install_analyzers();
    void install_lan_hygiene();

    const Config& config_;
    Store& store_;
    PipelineOptions options_;
    HostTable hosts_;
    Dispatcher dispatcher_;
    const CaptureThread* capture_ = nullptr;  // set while run() is active
    // Loaded once at start, read by the inventory (issue 3).
    VendorRegistry vendors_;
    AssetRegister asset_register_;
};

}  // namespace clinicwatch
