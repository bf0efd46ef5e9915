#include "daemon/pipeline.hpp"

#include <spdlog/spdlog.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>
#include <thread>

#include "analyzers/inventory.hpp"
#include "analyzers/os_fingerprint.hpp"
#include "analyzers/traffic_stats.hpp"

namespace clinicwatch {

namespace {

// The rules folder: the configured one, else the installed one, else the source tree's (so a
// build runs from its folder). Bad rules stop the start with file:line (exit 3); no rules
// folder at all only disables OS fingerprinting, with a warning.
std::optional<OsRules> load_os_rules(const OsFingerprintConfig& c) {
    if (!c.enabled) return std::nullopt;
    std::vector<std::string> candidates;
    if (!c.rules_dir.empty()) candidates.push_back(c.rules_dir);
    else candidates = {std::string(CLINICWATCH_DATA_DIR) + "/rules", CLINICWATCH_SOURCE_RULES_DIR};
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
    hosts_.set_eviction_handler([this](const Host& h) { store_.host_evicted(h); });
    install_analyzers();
}

Pipeline::~Pipeline() = default;

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
    dispatcher_.add(std::make_unique<Inventory>(hosts_, inventory));
    if (auto rules = load_os_rules(config_.os_fingerprint)) {
        OsFingerprintSettings os;
        os.internal_networks = config_.network.internal_networks;
        os.max_tracked_hosts = static_cast<std::size_t>(config_.limits.max_hosts);
        dispatcher_.add(std::make_unique<OsFingerprint>(hosts_, store_, std::move(*rules), os));
    }
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
        options_.on_progress(p);
        last_progress = now;
        packets_at_last_progress = result.packets;
    };

    auto housekeeping = [&] {
        auto now = Clock::now();
        if (store_.flush_due()) store_.flush(hosts_);
        if (now - last_progress >= std::chrono::milliseconds(250)) report_progress(now);
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
    result.host_evictions = hosts_.evictions();
    result.capture_error = capture.error();
    store_.flush(hosts_);
    result.hosts = hosts_.size();
    result.elapsed_seconds = std::chrono::duration<double>(Clock::now() - started).count();
    report_progress(Clock::now());
    return result;
}

}  // namespace clinicwatch
