// The pipeline every run uses: PacketSource -> capture thread -> FrameRing -> analysis thread
// (decode once, dispatch to analyzers) -> Store. Live capture and replay differ only in the
// source and in what happens when the ring is full.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <exception>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

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
    // For the health metrics (daemon/export/metrics.hpp): the rest of the counters.
    std::uint64_t captured_packets = 0, captured_bytes = 0, interface_drops = 0;
    std::uint64_t bytes = 0, undecodable = 0;
    std::uint64_t store_queued = 0, store_write_errors = 0;
    std::vector<TableUse> tables;  // every bounded table (as the sensor-limit alert sees them)
};

struct PipelineResult {
    std::uint64_t packets = 0, bytes = 0, undecodable = 0;
    std::uint64_t ring_drops = 0, capture_drops = 0, cut_to_slot = 0;
    std::size_t hosts = 0;
    Timestamp first_packet = 0, last_packet = 0;
    double elapsed_seconds = 0;
    std::exception_ptr capture_error;  // set when the source failed (corrupt file ...)
    std::string store_error;           // set when the last write to the database failed
};

struct PipelineOptions {
    RingFullPolicy ring_full = RingFullPolicy::wait;
    std::size_t slot_bytes = 2048;
    std::function<void(const PipelineProgress&)> on_progress;  // called about 4 times a second
};

// The oldest minute kept: retention_days back from packet time, capped by the wall clock.
Timestamp retention_cutoff(Timestamp packet_now, Timestamp wall_now, int retention_days);

class Pipeline {
  public:
    Pipeline(const Config& config, Store& store, PipelineOptions options);
    ~Pipeline();

    // Runs until the source ends, fails, or `stop` becomes true; then drains the ring, closes
    // every analyzer and flushes the store. Everything read before an error is stored.
    PipelineResult run(PacketSource& source, const std::atomic<bool>& stop);

    HostTable& hosts() { return hosts_; }
    Dispatcher& dispatcher() { return dispatcher_; }

    // Thread-safe: the analysis thread applies the new configuration between packets. The
    // HostTable and the store are kept; analyzers close what they have open and are rebuilt
    // with the new settings. Capture settings (interface, snaplen) need a restart.
    void request_reload(Config config);

    // Thread-safe: increases while the analysis thread is alive and not stuck (watchdog).
    std::uint64_t heartbeat() const { return heartbeat_.load(std::memory_order_relaxed); }

  private:
    // Resident memory against limits.memory_megabytes: a sensor-limit alert (once an hour at
    // most) when above.
    void check_memory(std::chrono::steady_clock::time_point now);
    std::chrono::steady_clock::time_point next_memory_check_{};
    void install_analyzers();
    void install_lan_hygiene();

    void apply_pending_reload();
    bool flush_store();
    std::function<void(std::vector<TableUse>&)> collect_tables_;  // sensor-limit and metrics
    std::uint64_t store_write_errors_ = 0;
    void report_capture_gaps(PacketSource& source);

    Config config_;
    Store& store_;
    PipelineOptions options_;
    HostTable hosts_;
    Dispatcher dispatcher_;
    const CaptureThread* capture_ = nullptr;  // set while run() is active
    std::mutex reload_mutex_;
    std::optional<Config> pending_reload_;
    std::atomic<bool> reload_pending_{false};
    std::atomic<std::uint64_t> heartbeat_{0};
    std::string store_error_;
    std::size_t held_findings_ = 0;
    std::chrono::steady_clock::time_point last_store_error_log_{};
    // Loaded once at start, read by the inventory (issue 3).
    VendorRegistry vendors_;
    AssetRegister asset_register_;
};

}  // namespace clinicwatch
