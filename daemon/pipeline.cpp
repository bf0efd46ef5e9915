#include "daemon/pipeline.hpp"

#include <spdlog/spdlog.h>

#include <chrono>
#include <thread>

#include <SQLiteCpp/SQLiteCpp.h>

#include "analyzers/inventory.hpp"
#include "analyzers/lan_hygiene.hpp"
#include "analyzers/traffic_stats.hpp"

namespace clinicwatch {

Pipeline::Pipeline(const Config& config, Store& store, PipelineOptions options)
    : config_(config),
      store_(store),
      options_(std::move(options)),
      hosts_(static_cast<std::size_t>(config.limits.max_hosts)),
      dispatcher_(hosts_) {
    hosts_.set_eviction_handler([this](const Host& h) {
        // A MAC flood's hosts (a frame or two, no address, no name) are counted by the
        // mac-flood alert; storing each would grow the assets table by a row per forged MAC.
        if (h.frames <= 2 && h.addresses.empty() && h.names.empty() && !h.registered) return;
        store_.host_evicted(h);
    });
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
    std::size_t vendor_entries = vendors_.load_dir(config_.inventory.vendor_data_dir);
    if (vendor_entries == 0)
        spdlog::warn("no IEEE vendor data in {} (install the ieee-data package, or set "
                     "inventory.vendor_data_dir): vendors will be blank",
                     config_.inventory.vendor_data_dir);
    asset_register_ = AssetRegister(config_.asset_register);
    inventory.vendors = &vendors_;
    inventory.asset_register = &asset_register_;
    dispatcher_.add(std::make_unique<Inventory>(hosts_, inventory));
    install_lan_hygiene();
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
