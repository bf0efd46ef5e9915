// The pipeline every run uses: PacketSource -> capture thread -> FrameRing -> analysis thread
// (decode once, dispatch to analyzers) -> Store. Live capture and replay differ only in the
// source and in what happens when the ring is full.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <exception>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "analyzers/asset_register.hpp"
#include "analyzers/dispatcher.hpp"
#include "analyzers/host_table.hpp"
#include "analyzers/ipv6_lan.hpp"
#include "analyzers/lan_hygiene.hpp"
#include "analyzers/loop_detector.hpp"
#include "capture/capture_thread.hpp"
#include "capture/packet_source.hpp"
#include "daemon/config.hpp"
#include "daemon/prepared_config.hpp"
#include "daemon/store/store.hpp"
#include "daemon/store/store_writer.hpp"

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
    // CPU time of each thread: the busier one bounds a replay's speed.
    double analysis_cpu_seconds = 0, capture_cpu_seconds = 0;
    std::exception_ptr capture_error;  // set when the source failed (corrupt file ...)
    std::string store_error;           // set when the last write to the database failed
};

struct PipelineOptions {
    RingFullPolicy ring_full = RingFullPolicy::wait;
    std::size_t slot_bytes = 2048;
    std::function<void(const PipelineProgress&)> on_progress;  // called about 4 times a second
    // `run` at start-up: the constructor gives up (StartUpStopped) once this becomes true, so a
    // SIGTERM while the learned state is restored ends the process soon.
    const std::atomic<bool>* start_up_stop = nullptr;
};

// The Pipeline's constructor gave up: PipelineOptions::start_up_stop became true.
class StartUpStopped : public std::runtime_error {
  public:
    StartUpStopped() : std::runtime_error("stopped during start-up") {}
};

// The oldest minute kept: retention_days back from packet time, capped by the wall clock.
Timestamp retention_cutoff(Timestamp packet_now, Timestamp wall_now, int retention_days);

class OsFingerprint;

class Pipeline {
  public:
    // Throws ConfigError when the configuration's rules or policy are invalid.
    Pipeline(const Config& config, Store& store, PipelineOptions options);
    Pipeline(PreparedConfig prepared, Store& store, PipelineOptions options);
    ~Pipeline();

    // Runs until the source ends, fails, or `stop` becomes true; then drains the ring, closes
    // every analyzer and writes what is queued. Everything read before an error is stored.
    // Findings go to the store writer thread (started and stopped here): once per pipeline.
    PipelineResult run(PacketSource& source, const std::atomic<bool>& stop);

    HostTable& hosts() { return hosts_; }
    Dispatcher& dispatcher() { return dispatcher_; }

    // Thread-safe: the analysis thread applies the new configuration between packets. It was
    // built and validated in full beforehand (prepare_config), so applying it cannot fail. The
    // HostTable and the store are kept, and so is every analyzer whose settings and rules did
    // not change (open incidents, the learned gateway and counters go on); the others close
    // what they have open and are rebuilt. Capture settings (interface, snaplen) and
    // limits.max_hosts need a restart.
    void request_reload(PreparedConfig prepared);

    // Thread-safe: increases while the analysis thread is alive and not stuck (watchdog).
    std::uint64_t heartbeat() const { return heartbeat_.load(std::memory_order_relaxed); }

  private:
    // Resident memory against limits.memory_megabytes: a sensor-limit alert (once an hour at
    // most) when above.
    void check_memory(std::chrono::steady_clock::time_point now);
    std::chrono::steady_clock::time_point next_memory_check_{};
    // The analyzers in the order packets visit them (sensor-limits last: it reads the others).
    // The loop units (analyzers/loop_detector.hpp) run in their own order, one after another.
    static constexpr const char* kAnalyzerOrder[] = {"traffic-stats",
                                                     "ipv6-routers",
                                                     "inventory",
                                                     "frame-repeats",
                                                     "broadcast-rate",
                                                     "loop-storm",
                                                     "arp-storms",
                                                     "stp-changes",
                                                     "duplicate-capture",
                                                     "os-fingerprint",
                                                     "legacy-protocols",
                                                     "cleartext-login",
                                                     "remote-access-sessions",
                                                     "legacy-handshakes",
                                                     "egress",
                                                     "lan-hygiene",
                                                     "dhcp-flood",
                                                     "service-health",
                                                     "topology",
                                                     "sensor-limits"};
    std::unique_ptr<Analyzer> build_analyzer(std::string_view name);
    std::unique_ptr<Analyzer> build_lan_hygiene();

    void restore_learned_state();
    void give_up_if_stopping() const;
    void apply_pending_reload();
    void collect_tables(std::vector<TableUse>& out) const;
    void report_capture_gaps(PacketSource& source);

    PreparedConfig prepared_;
    const Config& config_;  // prepared_.config
    Store& store_;
    PipelineOptions options_;
    HostTable hosts_;
    Dispatcher dispatcher_;
    const CaptureThread* capture_ = nullptr;  // set while run() is active
    std::mutex reload_mutex_;
    std::optional<PreparedConfig> pending_reload_;
    std::atomic<bool> reload_pending_{false};
    std::atomic<std::uint64_t> heartbeat_{0};
    StoreWriter writer_;  // every analyzer's FindingSink; the only user of the database
    std::optional<Timestamp> first_packet_ever_;
    // Learned by earlier runs: devices' first-seen times, the gateway's MAC (for its address).
    std::unordered_map<std::uint64_t, Timestamp> known_devices_;
    std::optional<std::pair<IpAddress, MacAddress>> learned_gateway_;
    std::map<std::string, nlohmann::json> randomized_summaries_;  // date -> evidence
    // Each device's next hop to the internet (no gateway configured), stored as meta
    // "next_hops" and handed to every lan-hygiene built (at start and on reload).
    std::vector<LearnedNextHop> next_hops_;
    std::vector<BoundaryFlowSummary> stored_day_rows_;  // for the first egress build
    std::vector<std::string> stored_day_alerts_;        // egress alert keys, the same
    std::string service_baseline_;  // service health's learned baseline (JSON), latest
    // IPv6 routers and on-link prefixes learned from RAs (issue 20): read by the inventory and
    // egress, written by the ipv6-routers unit; kept across reloads, stored as meta "ipv6_lan".
    Ipv6Lan ipv6_lan_;
    // The loop units built last (they are linked to each other; rebuilt together on reload).
    LoopDetector loop_units_;
    // The OS fingerprint built last: legacy-protocols reads the messages it parses (both are
    // rebuilt together on reload).
    OsFingerprint* os_fingerprint_ = nullptr;
};

}  // namespace clinicwatch
