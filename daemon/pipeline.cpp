#include "daemon/pipeline.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>
#include <thread>

#include <unistd.h>

#include <SQLiteCpp/SQLiteCpp.h>

#include "analyzers/dhcp_flood.hpp"
#include "analyzers/egress.hpp"
#include "analyzers/inventory.hpp"
#include "analyzers/loop_detector.hpp"
#include "analyzers/os_fingerprint.hpp"

#include "analyzers/lan_hygiene.hpp"
#include "analyzers/sensor_limits.hpp"
#include "analyzers/traffic_stats.hpp"
#include "daemon/egress_rules.hpp"
#include "daemon/loop_rules.hpp"

namespace clinicwatch {

namespace {

// The rules folder: the configured one, else the installed one, else the source tree's (so a
// build runs from its folder). Bad rules stop the start with file:line (exit 3); no rules
// folder at all only disables OS fingerprinting, with a warning.
std::optional<OsRules> load_os_rules(const OsFingerprintConfig& c) {
    if (!c.enabled) return std::nullopt;
    std::vector<std::string> candidates;
    if (!c.rules_dir.empty())
        candidates.push_back(c.rules_dir);
    else
        candidates = {std::string(CLINICWATCH_DATA_DIR) + "/rules", CLINICWATCH_SOURCE_RULES_DIR};
    for (const auto& dir : candidates) {
        std::string fp = dir + "/os-fingerprints.yaml", eol = dir + "/os-eol.yaml";
        if (!std::filesystem::exists(fp)) continue;
        try {
            OsRules rules = OsRules::load(fp, eol);
            if (!c.p0f_database.empty() && std::filesystem::exists(c.p0f_database)) {
                std::ifstream in(c.p0f_database);
                std::stringstream text;
                text << in.rdbuf();
                std::size_t n = rules.add_p0f(text.str(), c.p0f_database);
                spdlog::debug("os fingerprint: {} TCP signatures from {}", n, c.p0f_database);
                for (const auto& w : rules.warnings) spdlog::debug("p0f: {}", w);
            }
            return rules;
        } catch (const RulesError& e) {
            throw ConfigError(e.problems());
        }
    }
    if (!c.rules_dir.empty())
        throw ConfigError({"os_fingerprint.rules_dir: no os-fingerprints.yaml in " + c.rules_dir});
    spdlog::warn("OS fingerprinting is off: no rules folder found (looked in {})",
                 std::string(CLINICWATCH_DATA_DIR) + "/rules");
    return std::nullopt;
}

}  // namespace

Pipeline::Pipeline(const Config& config, Store& store, PipelineOptions options)
    : config_(config),
      store_(store),
      options_(std::move(options)),
      hosts_(static_cast<std::size_t>(config.limits.max_hosts)),
      dispatcher_(hosts_) {
    hosts_.set_eviction_handler([this](const Host& h) {
        // A MAC flood's hosts are counted by the mac-flood alert (and sensor-limit); storing
        // each would grow the assets table by a row per forged MAC.
        if (h.quiet_newcomer()) return;
        store_.host_evicted(h);
    });
    install_analyzers();
}

Pipeline::~Pipeline() = default;

void Pipeline::request_reload(Config config) {
    std::lock_guard lock(reload_mutex_);
    pending_reload_ = std::move(config);
    reload_pending_.store(true, std::memory_order_release);
}

void Pipeline::apply_pending_reload() {
    std::optional<Config> next;
    {
        std::lock_guard lock(reload_mutex_);
        next.swap(pending_reload_);
        reload_pending_.store(false, std::memory_order_relaxed);
    }
    if (!next) return;
    if (next->capture.interface != config_.capture.interface ||
        next->capture.snaplen != config_.capture.snaplen ||
        next->capture.filter != config_.capture.filter)
        spdlog::warn("reload: capture settings changed; they take effect after a restart");
    dispatcher_.finish();
    dispatcher_.clear();
    next->capture = config_.capture;
    config_ = std::move(*next);
    // Every device is looked up again in the (possibly edited) register.
    hosts_.for_each([](Host& h) { h.register_checked = false; });
    install_analyzers();
    spdlog::info("reload: configuration from {} applied", config_.source);
}

void Pipeline::report_capture_gaps(PacketSource& source) {
    for (const CaptureGap& gap : source.take_gaps()) {
        AlertUpdate a;
        a.kind = "capture-interrupted";
        a.key = "capture-interrupted:" + std::to_string(gap.start_wall_us);
        a.severity = Severity::medium;
        a.subject = source.describe();
        a.first_seen = gap.start_wall_us;
        a.last_seen = gap.end_wall_us ? gap.end_wall_us : gap.start_wall_us;
        a.count = gap.end_wall_us ? 0 : 1;
        a.ended = gap.end_wall_us != 0;
        a.summary = gap.end_wall_us ? "capture resumed after the interface came back"
                                    : "capture stopped: " + gap.reason;
        a.evidence = {{"reason", gap.reason}, {"start_wall_us", gap.start_wall_us}};
        if (gap.end_wall_us) a.evidence["end_wall_us"] = gap.end_wall_us;
        if (gap.end_wall_us)
            spdlog::info("{}: capture resumed", source.describe());
        else
            spdlog::warn("{}: capture stopped ({}); retrying with backoff", source.describe(),
                         gap.reason);
        store_.alert(std::move(a));
    }
}

bool Pipeline::flush_store() {
    try {
        store_.flush(hosts_);
        if (!store_error_.empty()) {
            spdlog::info("database writes resumed ({} findings were held in memory)",
                         held_findings_);
            store_error_.clear();
        }
        return true;
    } catch (const StoreError& e) {
        // Disk full, or the file locked or gone: keep analysing, hold findings in memory (the
        // store bounds them), log now and then, and try again at the next flush.
        auto now = std::chrono::steady_clock::now();
        if (store_error_.empty() || now - last_store_error_log_ > std::chrono::seconds(60)) {
            spdlog::error(
                "{}; capture and analysis go on, findings are held in memory until "
                "writing works again",
                e.what());
            last_store_error_log_ = now;
        }
        store_error_ = e.what();
        ++store_write_errors_;
        held_findings_ = store_.queued();
        return false;
    }
}

void Pipeline::check_memory(std::chrono::steady_clock::time_point now) {
    next_memory_check_ = now + std::chrono::seconds(10);
#if defined(__SANITIZE_ADDRESS__)
    // Under AddressSanitizer (the test build) resident memory is mostly shadow memory and
    // quarantine: it says nothing about the sensor's budget.
    return;
#endif
    std::ifstream statm("/proc/self/statm");
    std::uint64_t pages = 0, resident = 0;
    if (!(statm >> pages >> resident)) return;
    std::uint64_t megabytes = resident * static_cast<std::uint64_t>(sysconf(_SC_PAGESIZE)) >> 20;
    auto budget = static_cast<std::uint64_t>(config_.limits.memory_megabytes);
    if (megabytes <= budget) return;
    next_memory_check_ = now + std::chrono::hours(1);
    spdlog::warn("memory: {} MB resident, above limits.memory_megabytes ({} MB)", megabytes,
                 budget);
    AlertUpdate a;
    a.kind = "sensor-limit";
    a.key = "sensor-limit:memory";
    a.severity = Severity::medium;
    a.subject = "sensor: memory";
    a.summary = "the sensor uses " + std::to_string(megabytes) +
                " MB of memory, above its budget of " + std::to_string(budget) + " MB";
    a.first_seen = a.last_seen = dispatcher_.now();
    a.evidence = {{"table", "memory"}, {"resident_mb", megabytes}, {"budget_mb", budget}};
    store_.alert(std::move(a));
}

void Pipeline::install_analyzers() {
    dispatcher_.add(std::make_unique<TrafficStats>(store_, [this] {
        DropCounters d;
        if (capture_) {
            const auto& c = capture_->counters();
            d.capture_drops = c.kernel_drops.load(std::memory_order_relaxed) +
                              c.interface_drops.load(std::memory_order_relaxed);
            d.ring_drops = c.ring_drops.load(std::memory_order_relaxed);
        }
        return d;
    }));
    InventorySettings inventory;
    inventory.internal_networks = config_.network.internal_networks;
    inventory.gateway_mac = config_.network.gateway_mac;
    std::size_t vendor_entries = vendors_.load_dir(config_.inventory.vendor_data_dir);
    if (vendor_entries == 0)
        spdlog::warn(
            "no IEEE vendor data in {} (install the ieee-data package, or set "
            "inventory.vendor_data_dir): vendors will be blank",
            config_.inventory.vendor_data_dir);
    asset_register_ = AssetRegister(config_.asset_register);
    inventory.vendors = &vendors_;
    inventory.asset_register = &asset_register_;
    dispatcher_.add(std::make_unique<Inventory>(hosts_, inventory));
    dispatcher_.add(
        std::make_unique<LoopDetector>(store_, loop_detector_settings(config_.loop), &hosts_));
    if (auto rules = load_os_rules(config_.os_fingerprint)) {
        OsFingerprintSettings os;
        os.internal_networks = config_.network.internal_networks;
        os.max_tracked_hosts = static_cast<std::size_t>(config_.limits.max_hosts);
        os.judge_support_no_earlier_than = std::chrono::duration_cast<std::chrono::microseconds>(
                                               std::chrono::system_clock::now().time_since_epoch())
                                               .count();
        dispatcher_.add(std::make_unique<OsFingerprint>(hosts_, store_, std::move(*rules), os));
    }
    EgressSettings egress;
    egress.internal_networks = config_.network.internal_networks;
    egress.gateway_mac = config_.network.gateway_mac;
    egress.policy = config_.egress.policy;
    egress.rules = load_egress_rules(resolve_rules_dir(config_.egress.rules_dir));
    check_egress_policy(egress.policy, egress.rules);
    // A device's role comes from the register; unregistered devices have no role (the
    // policy's unknown_role applies).
    dispatcher_.add(std::make_unique<Egress>(
        store_, std::move(egress), [this](const MacAddress& mac) -> std::string {
            const RegisterEntry* entry = asset_register_.find(mac);
            return entry ? entry->role : std::string();
        }));
    install_lan_hygiene();
    // Last, so it sees every table above: reports any bounded table that had to drop entries.
    // The health metrics read the same list (collect_tables_, called from report_progress).
    collect_tables_ = [this](std::vector<TableUse>& out) {
        // Devices evicted to make room, and frames from new MACs kept out of the full table.
        out.push_back(
            {"hosts", "devices", hosts_.capacity(), hosts_.evictions() + hosts_.refused()});
        out.push_back({"device-lists", "addresses, names and evidence per device",
                       Host::kMaxAddresses, hosts_.list_overflows()});
        out.push_back({"evicted-devices", "devices dropped from memory, waiting to be written",
                       Store::kMaxEvictedQueued, store_.evicted_lost()});
        out.push_back({"held-findings",
                       "findings held in memory while the database cannot be written",
                       Store::kMaxQueuedAlerts, store_.findings_lost()});
        if (capture_) {
            const auto& c = capture_->counters();
            // Frames lost before analysis: the capture ring was full, or the kernel dropped.
            out.push_back({"capture-buffer", "frames waiting for analysis",
                           static_cast<std::uint64_t>(config_.capture.ring_slots),
                           c.ring_drops.load(std::memory_order_relaxed) +
                               c.kernel_drops.load(std::memory_order_relaxed) +
                               c.interface_drops.load(std::memory_order_relaxed)});
        }
        for (const auto& analyzer : dispatcher_.analyzers()) analyzer->table_use(out);
    };
    dispatcher_.add(std::make_unique<SensorLimits>(store_, collect_tables_));
}

void Pipeline::install_lan_hygiene() {
    const InventoryConfig& c = config_.inventory;
    LanHygieneSettings s;
    s.learning_period = static_cast<Timestamp>(c.learning_days) * 86400 * kMicrosPerSecond;
    if (auto first = store_.meta("first_packet_us")) {
        try {
            s.first_packet_ever = std::stoll(*first);
        } catch (const std::exception&) {
            spdlog::warn("ignoring unreadable meta first_packet_us '{}'", *first);
        }
    }
    s.record_first_packet = [this](Timestamp ts) {
        store_.set_meta("first_packet_us", std::to_string(ts));
    };
    // Devices from earlier runs keep their first-seen time across restarts.
    SQLite::Statement known(store_.db(),
                            "SELECT mac, min(first_seen) FROM assets GROUP BY mac LIMIT ?");
    known.bind(1, config_.limits.max_hosts);
    while (known.executeStep())
        if (auto mac = MacAddress::parse(known.getColumn(0).getString()))
            s.known_devices.emplace(mac->as_u64(), known.getColumn(1).getInt64());
    s.gateway_ip = config_.network.gateway_ip;
    s.gateway_mac = config_.network.gateway_mac;
    s.internal_networks = config_.network.internal_networks;
    s.dhcp_servers = c.dhcp_servers;
    s.shared_addresses = c.shared_addresses;
    s.alert_each_randomized = c.alert_each_randomized;
    s.max_new_macs_per_minute = static_cast<std::uint64_t>(c.max_new_macs_per_minute);
    s.ip_conflict_window = static_cast<Timestamp>(c.ip_conflict_window_seconds) * kMicrosPerSecond;
    dispatcher_.add(std::make_unique<LanHygiene>(hosts_, store_, std::move(s)));
    DhcpFloodSettings dhcp;
    dhcp.max_requests_per_minute = static_cast<std::uint64_t>(c.max_dhcp_requests_per_minute);
    dispatcher_.add(std::make_unique<DhcpFlood>(store_, dhcp));
}

Timestamp retention_cutoff(Timestamp packet_now, Timestamp wall_now, int retention_days) {
    // Packet time, so a replay of an old capture keeps its own minutes (wall time would delete
    // them as soon as they are written); but never past the wall clock, so one frame with a
    // bogus future timestamp cannot wipe the history.
    Timestamp now = wall_now > 0 ? std::min(packet_now, wall_now) : packet_now;
    return now - static_cast<Timestamp>(retention_days) * 86400 * kMicrosPerSecond;
}

PipelineResult Pipeline::run(PacketSource& source, const std::atomic<bool>& stop) {
    using Clock = std::chrono::steady_clock;
    const auto started = Clock::now();
    FrameRing ring(static_cast<std::size_t>(config_.capture.ring_slots), options_.slot_bytes);
    CaptureThread capture(source, ring, options_.ring_full);
    capture_ = &capture;
    capture.start();

    PipelineResult result;
    Packet packet;
    auto last_progress = started;
    std::uint64_t packets_at_last_progress = 0;
    std::uint64_t idle_spins = 0;

    auto report_progress = [&](Clock::time_point now) {
        if (!options_.on_progress) return;
        double dt = std::chrono::duration<double>(now - last_progress).count();
        PipelineProgress p;
        p.packets = result.packets;
        p.packets_per_second = dt > 0 ? (result.packets - packets_at_last_progress) / dt : 0;
        p.fraction_done = capture.progress();
        p.ring_drops = capture.counters().ring_drops.load(std::memory_order_relaxed);
        p.capture_drops = capture.counters().kernel_drops.load(std::memory_order_relaxed);
        p.hosts = hosts_.size();
        p.captured_packets = capture.counters().packets.load(std::memory_order_relaxed);
        p.captured_bytes = capture.counters().bytes.load(std::memory_order_relaxed);
        p.interface_drops = capture.counters().interface_drops.load(std::memory_order_relaxed);
        p.bytes = result.bytes;
        p.undecodable = dispatcher_.undecodable();
        p.store_queued = store_.queued();
        p.store_write_errors = store_write_errors_;
        if (collect_tables_) collect_tables_(p.tables);
        options_.on_progress(p);
        last_progress = now;
        packets_at_last_progress = result.packets;
    };

    // Retention of minute statistics: checked once per hour of packet time, and at the end.
    Timestamp last_retention = 0;
    auto retention = [&](bool force) {
        Timestamp packet_now = dispatcher_.now();
        if (packet_now == 0) return;
        if (!force && last_retention != 0 && packet_now - last_retention < 3600 * kMicrosPerSecond)
            return;
        last_retention = packet_now;
        auto wall = std::chrono::duration_cast<std::chrono::microseconds>(
                        std::chrono::system_clock::now().time_since_epoch())
                        .count();
        try {
            std::size_t n = store_.delete_minutes_before(
                retention_cutoff(packet_now, wall, config_.store.retention_days));
            if (n) spdlog::info("retention: deleted {} minute statistics rows", n);
        } catch (const std::exception& e) {
            spdlog::warn("retention: {}", e.what());  // tried again in an hour
        }
    };

    auto housekeeping = [&] {
        heartbeat_.fetch_add(1, std::memory_order_relaxed);
        if (reload_pending_.load(std::memory_order_acquire)) apply_pending_reload();
        report_capture_gaps(source);
        auto now = Clock::now();
        if (store_.flush_due() && flush_store()) retention(false);
        if (now - last_progress >= std::chrono::milliseconds(250)) report_progress(now);
        if (now >= next_memory_check_) check_memory(now);
    };

    auto process = [&](const FrameSlot* slot) {
        decode_packet(static_cast<LinkType>(slot->link_type), slot->ts_us, slot->wire_length,
                      Bytes(slot->data(), slot->captured_length), packet);
        if (result.packets == 0) result.first_packet = packet.ts;
        result.last_packet = packet.ts;
        ++result.packets;
        result.bytes += packet.wire_length;
        dispatcher_.on_packet(packet);
        ring.release();
    };

    for (;;) {
        if (const FrameSlot* slot = ring.peek()) {
            idle_spins = 0;
            process(slot);
            if ((result.packets & 0xfff) == 0) housekeeping();
            continue;
        }
        // Ring empty. Finished only when the capture thread is done and nothing is left.
        if (capture.finished() && !ring.peek()) break;
        if (stop.load(std::memory_order_relaxed)) {
            capture.stop();  // joins; what it had read is still in the ring: drain it
            while (const FrameSlot* slot = ring.peek()) process(slot);
            break;
        }
        // Spin briefly (frames usually arrive in bursts), then sleep so an idle LAN costs
        // no CPU.
        if (++idle_spins < 64) {
            std::this_thread::yield();
        } else {
            std::this_thread::sleep_for(std::chrono::milliseconds(1));
            housekeeping();
        }
    }
    capture.stop();
    capture_ = nullptr;

    dispatcher_.finish();
    const auto& c = capture.counters();
    result.undecodable = dispatcher_.undecodable();
    result.ring_drops = c.ring_drops.load();
    result.capture_drops = c.kernel_drops.load() + c.interface_drops.load();
    result.cut_to_slot = c.cut_to_slot.load();
    result.capture_error = capture.error();
    // The last flush gets a few tries (a full disk may be cleared meanwhile); what still fails
    // is reported, never silently dropped.
    for (int attempt = 0; attempt < 3 && !flush_store(); ++attempt)
        std::this_thread::sleep_for(std::chrono::seconds(1));
    result.store_error = store_error_;
    if (store_error_.empty()) retention(true);
    result.hosts = hosts_.size();
    result.elapsed_seconds = std::chrono::duration<double>(Clock::now() - started).count();
    report_progress(Clock::now());
    return result;
}

}  // namespace clinicwatch
