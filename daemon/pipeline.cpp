#include "daemon/pipeline.hpp"

#include <spdlog/spdlog.h>

#include <chrono>
#include <thread>

#include "analyzers/inventory.hpp"
#include "analyzers/traffic_stats.hpp"

namespace clinicwatch {

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
        held_findings_ = store_.queued();
        return false;
    }
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
    dispatcher_.add(std::make_unique<Inventory>(hosts_, inventory));
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
        heartbeat_.fetch_add(1, std::memory_order_relaxed);
        if (reload_pending_.load(std::memory_order_acquire)) apply_pending_reload();
        report_capture_gaps(source);
        auto now = Clock::now();
        if (store_.flush_due()) flush_store();
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
    // The last flush gets a few tries (a full disk may be cleared meanwhile); what still fails
    // is reported, never silently dropped.
    for (int attempt = 0; attempt < 3 && !flush_store(); ++attempt)
        std::this_thread::sleep_for(std::chrono::seconds(1));
    result.store_error = store_error_;
    result.hosts = hosts_.size();
    result.elapsed_seconds = std::chrono::duration<double>(Clock::now() - started).count();
    report_progress(Clock::now());
    return result;
}

}  // namespace clinicwatch
