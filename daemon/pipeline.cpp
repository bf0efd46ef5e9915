#include "daemon/pipeline.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <sstream>
#include <thread>

#include <unistd.h>

#include <SQLiteCpp/SQLiteCpp.h>

#include "analyzers/cleartext_login.hpp"
#include "analyzers/dhcp_flood.hpp"
#include "analyzers/egress.hpp"
#include "analyzers/inventory.hpp"
#include "analyzers/ipv6_routers.hpp"
#include "analyzers/legacy_handshakes.hpp"
#include "analyzers/legacy_protocols.hpp"
#include "analyzers/loop_detector.hpp"
#include "analyzers/os_fingerprint.hpp"
#include "analyzers/remote_access.hpp"

#include "analyzers/lan_hygiene.hpp"
#include "analyzers/sensor_limits.hpp"
#include "analyzers/service_health.hpp"
#include "analyzers/topology.hpp"
#include "analyzers/traffic_stats.hpp"
#include "daemon/sanitized_build.hpp"

namespace clinicwatch {

namespace {

// Meta "next_hops": [[device, hop, earlier, last], ...] (MACs as text, earlier "" when none).
std::string next_hops_text(const std::vector<LearnedNextHop>& hops) {
    auto out = nlohmann::json::array();
    for (const auto& n : hops)
        out.push_back({n.device.to_string(), n.hop.to_string(),
                       n.earlier.is_zero() ? std::string() : n.earlier.to_string(), n.last});
    return out.dump();
}

std::vector<LearnedNextHop> next_hops_from(const std::string& text) {
    std::vector<LearnedNextHop> out;
    auto j = nlohmann::json::parse(text, nullptr, false);
    if (!j.is_array()) return out;
    for (const auto& e : j) {
        if (!e.is_array() || e.size() != 4 || !e[0].is_string() || !e[1].is_string() ||
            !e[2].is_string() || !e[3].is_number_integer())
            continue;
        auto device = MacAddress::parse(e[0].get<std::string>());
        auto hop = MacAddress::parse(e[1].get<std::string>());
        if (!device || !hop) continue;
        LearnedNextHop n{*device, *hop, {}, e[3].get<Timestamp>()};
        if (auto earlier = MacAddress::parse(e[2].get<std::string>())) n.earlier = *earlier;
        out.push_back(n);
    }
    return out;
}

StoreWriterLimits writer_limits(const Config& c) {
    StoreWriterLimits l;
    l.max_entries = static_cast<std::size_t>(c.store.max_queued_findings);
    l.max_bytes = static_cast<std::size_t>(c.store.max_queued_megabytes) << 20;
    l.write_interval = std::chrono::milliseconds(c.store.flush_interval_ms);
    return l;
}

}  // namespace

Pipeline::Pipeline(const Config& config, Store& store, PipelineOptions options)
    : Pipeline(prepare_config(config), store, std::move(options)) {}

Pipeline::Pipeline(PreparedConfig prepared, Store& store, PipelineOptions options)
    : prepared_(std::move(prepared)),
      config_(prepared_.config),
      store_(store),
      options_(std::move(options)),
      hosts_(static_cast<std::size_t>(config_.limits.max_hosts)),
      dispatcher_(hosts_),
      writer_(store, writer_limits(config_)) {
    restore_learned_state();
    give_up_if_stopping();
    hosts_.set_eviction_handler([this](const Host& h) {
        // A MAC flood's hosts are counted by the mac-flood alert (and sensor-limit); storing
        // each would grow the assets table by a row per forged MAC.
        if (h.quiet_newcomer()) return;
        writer_.host_evicted(h);
    });
    for (const char* name : kAnalyzerOrder)
        if (auto analyzer = build_analyzer(name)) dispatcher_.add(std::move(analyzer));
    give_up_if_stopping();
    options_.start_up_stop = nullptr;  // start-up is over
}

Pipeline::~Pipeline() = default;

void Pipeline::give_up_if_stopping() const {
    if (options_.start_up_stop && options_.start_up_stop->load(std::memory_order_relaxed))
        throw StartUpStopped();
}

void Pipeline::restore_learned_state() {
    // What earlier runs learned: a restart must not erase the inventory. The most recently seen
    // devices come back first, up to the table's capacity.
    std::size_t restored = 0;
    for (Host& h : store_.load_hosts(static_cast<std::size_t>(config_.limits.max_hosts))) {
        // Judged (alerted, or known from the learning period) by the run that stored it.
        h.unregistered_alerted = true;
        if (hosts_.restore(std::move(h))) ++restored;
    }
    give_up_if_stopping();
    SQLite::Statement known(store_.db(),
                            "SELECT mac, min(first_seen) FROM assets GROUP BY mac LIMIT ?");
    known.bind(1, config_.limits.max_hosts);
    while (known.executeStep())
        if (auto mac = MacAddress::parse(known.getColumn(0).getString()))
            known_devices_.emplace(mac->as_u64(), known.getColumn(1).getInt64());
    if (auto stored = store_.meta("learned_gateway")) {
        auto space = stored->find(' ');
        if (space != std::string::npos) {
            auto ip = IpAddress::parse(stored->substr(0, space));
            auto mac = MacAddress::parse(stored->substr(space + 1));
            if (ip && mac) learned_gateway_ = {*ip, *mac};
        }
    }
    if (auto stored = store_.meta("next_hops")) next_hops_ = next_hops_from(*stored);
    stored_day_rows_ = store_.load_recent_boundary_flows(2);
    stored_day_alerts_ =
        store_.load_recent_alert_keys(Egress::alert_kinds(), 2 * 86400 * kMicrosPerSecond);
    // The last days' randomised-MAC summaries, continued rather than restarted.
    SQLite::Statement summaries(
        store_.db(),
        "SELECT evidence FROM alerts WHERE key LIKE "
        "'unregistered-device:randomized:%' ORDER BY last_seen DESC LIMIT 2");
    while (summaries.executeStep()) {
        auto e = nlohmann::json::parse(summaries.getColumn(0).getString(), nullptr, false);
        if (!e.is_object() || !e.contains("date") || !e["date"].is_string()) continue;
        std::string date = e["date"].get<std::string>();
        randomized_summaries_[date] = std::move(e);
    }
    if (auto stored = store_.meta("ipv6_lan")) {
        try {
            ipv6_lan_.restore(nlohmann::json::parse(*stored));
        } catch (const std::exception&) {
            spdlog::warn("ignoring unreadable meta ipv6_lan");
        }
    }
    // Service health's baseline (issue 22): what each server usually answers at each hour.
    if (auto stored = store_.meta("service_baseline")) service_baseline_ = *stored;
    if (auto first = store_.meta("first_packet_us")) {
        try {
            first_packet_ever_ = std::stoll(*first);
        } catch (const std::exception&) {
            spdlog::warn("ignoring unreadable meta first_packet_us '{}'", *first);
        }
    }
    if (restored) spdlog::info("{} devices known from earlier runs", restored);
}

void Pipeline::request_reload(PreparedConfig prepared) {
    std::lock_guard lock(reload_mutex_);
    pending_reload_ = std::move(prepared);
    reload_pending_.store(true, std::memory_order_release);
}

void Pipeline::apply_pending_reload() {
    std::optional<PreparedConfig> next;
    {
        std::lock_guard lock(reload_mutex_);
        next.swap(pending_reload_);
        reload_pending_.store(false, std::memory_order_relaxed);
    }
    if (!next) return;
    // Everything in `next` was built and validated before it was handed over: nothing below
    // reads a file that could be bad, so the swap cannot leave a half-applied configuration.
    const Config& c = next->config;
    if (c.capture.interface != config_.capture.interface ||
        c.capture.snaplen != config_.capture.snaplen || c.capture.filter != config_.capture.filter)
        spdlog::warn("reload: capture settings changed; they take effect after a restart");
    if (c.limits.max_hosts != config_.limits.max_hosts)
        spdlog::warn("reload: limits.max_hosts takes effect after a restart");
    // Analyzers whose settings and rules did not change keep running, with their open
    // incidents, learned routers and counters; the others close what they have open and are
    // built again.
    std::vector<std::string> rebuilt;
    std::map<std::string, std::unique_ptr<Analyzer>> kept;
    std::unique_ptr<Analyzer> earlier_egress;  // its day's counts go on in the new one
    for (auto& analyzer : dispatcher_.take_all()) {
        std::string name(analyzer->name());
        if (prepared_.settings_of(name) == next->settings_of(name)) {
            kept.emplace(name, std::move(analyzer));
        } else {
            analyzer->on_finish(dispatcher_.now());
            if (auto* hygiene = dynamic_cast<LanHygiene*>(analyzer.get())) {
                for (auto& [date, evidence] : hygiene->randomized_summary())
                    randomized_summaries_[date] = evidence;
                next_hops_ = hygiene->next_hops();
            }
            if (name == "egress") earlier_egress = std::move(analyzer);
            rebuilt.push_back(name);
        }
    }
    bool vendors_changed = c.inventory.vendor_data_dir != config_.inventory.vendor_data_dir;
    next->config.capture = config_.capture;
    next->config.limits.max_hosts = config_.limits.max_hosts;
    prepared_.config = std::move(next->config);
    prepared_.os_rules = std::move(next->os_rules);
    prepared_.egress_rules = std::move(next->egress_rules);
    prepared_.loop = std::move(next->loop);
    // Assigned in place: the inventory and egress read the register through this object.
    prepared_.asset_register = std::move(next->asset_register);
    prepared_.os_rules_hash = next->os_rules_hash;
    prepared_.egress_rules_hash = next->egress_rules_hash;
    prepared_.loop_rules_hash = next->loop_rules_hash;
    if (vendors_changed) {
        // Assigned in place: the inventory reads the registry through this object.
        prepared_.vendors = std::move(next->vendors);
        hosts_.for_each([](Host& h) { h.vendor.clear(); });
    }
    for (const char* name : kAnalyzerOrder) {
        auto it = kept.find(name);
        if (it != kept.end())
            dispatcher_.add(std::move(it->second));
        else if (auto analyzer = build_analyzer(name)) {
            if (earlier_egress)
                if (auto* egress = dynamic_cast<Egress*>(analyzer.get()))
                    egress->continue_from(static_cast<Egress&>(*earlier_egress));
            dispatcher_.add(std::move(analyzer));
        }
    }
    // Every device is looked up again in the (possibly edited) register.
    hosts_.for_each([](Host& h) { h.register_checked = false; });
    std::string list;
    for (const auto& r : rebuilt) list += (list.empty() ? "" : ", ") + r;
    spdlog::info("reload: configuration from {} applied ({})", config_.source,
                 list.empty() ? "register and mail settings only" : "rebuilt: " + list);
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
        writer_.alert(std::move(a));
    }
}

void Pipeline::check_memory(std::chrono::steady_clock::time_point now) {
    next_memory_check_ = now + std::chrono::seconds(10);
#if defined(CLINICWATCH_ASAN_BUILD)
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
    writer_.alert(std::move(a));
}

std::unique_ptr<Analyzer> Pipeline::build_analyzer(std::string_view name) {
    if (name == "traffic-stats")
        return std::make_unique<TrafficStats>(writer_, [this] {
            DropCounters d;
            if (capture_) {
                const auto& c = capture_->counters();
                d.capture_drops = c.kernel_drops.load(std::memory_order_relaxed) +
                                  c.interface_drops.load(std::memory_order_relaxed);
                d.ring_drops = c.ring_drops.load(std::memory_order_relaxed);
            }
            return d;
        });
    if (name == "inventory") {
        InventorySettings inventory;
        inventory.internal_networks = config_.network.internal_networks;
        inventory.gateway_mac = config_.network.gateway_mac;
        inventory.ipv6_lan = &ipv6_lan_;
        inventory.vendors = &prepared_.vendors;
        inventory.asset_register = &prepared_.asset_register;
        return std::make_unique<Inventory>(hosts_, inventory);
    }
    if (LoopDetector::is_unit(name))
        return loop_units_.build(name, writer_, prepared_.loop, &hosts_);
    if (name == "os-fingerprint") {
        os_fingerprint_ = nullptr;
        if (!prepared_.os_rules) return nullptr;
        OsFingerprintSettings os;
        os.internal_networks = config_.network.internal_networks;
        os.max_tracked_hosts = static_cast<std::size_t>(config_.limits.max_hosts);
        os.judge_support_no_earlier_than = std::chrono::duration_cast<std::chrono::microseconds>(
                                               std::chrono::system_clock::now().time_since_epoch())
                                               .count();
        auto analyzer = std::make_unique<OsFingerprint>(hosts_, writer_, *prepared_.os_rules, os);
        os_fingerprint_ = analyzer.get();
        return analyzer;
    }
    if (name == "legacy-protocols") {
        // SMBv1, TLS 1.0/1.1 and Internet Explorer, from the messages the OS fingerprint parses.
        if (!prepared_.os_rules || !os_fingerprint_) return nullptr;
        LegacyProtocolsSettings legacy = legacy_protocols_settings(*prepared_.os_rules);
        legacy.internal_networks = config_.network.internal_networks;
        legacy.max_tracked_hosts = static_cast<std::size_t>(config_.limits.max_hosts);
        auto analyzer = std::make_unique<LegacyProtocols>(hosts_, writer_, std::move(legacy));
        os_fingerprint_->publish_to(analyzer.get());
        return analyzer;
    }
    if (name == "cleartext-login") {
        if (!prepared_.os_rules) return nullptr;
        return std::make_unique<CleartextLogin>(hosts_, writer_,
                                                prepared_.os_rules->cleartext_logins,
                                                config_.network.internal_networks);
    }
    if (name == "legacy-handshakes")
        // SSH-1 and NTLMv1 wherever a handshake shows them (issue 19).
        return std::make_unique<LegacyHandshakes>(writer_, config_.network.internal_networks);
    if (name == "remote-access-sessions")
        // Remote-access protocols recognised by their handshake on any port (rules' handshakes).
        return std::make_unique<RemoteAccessSessions>(writer_, config_.network.internal_networks,
                                                      prepared_.egress_rules);
    if (name == "egress") {
        EgressSettings egress;
        egress.internal_networks = config_.network.internal_networks;
        egress.gateway_mac = config_.network.gateway_mac;
        egress.ipv6_lan = &ipv6_lan_;
        egress.policy = config_.egress.policy;
        egress.rules = prepared_.egress_rules;
        // A device's role comes from the register; unregistered devices have no role (the
        // policy's unknown_role applies).
        auto analyzer = std::make_unique<Egress>(
            writer_, std::move(egress), [this](const MacAddress& mac) -> std::string {
                const RegisterEntry* entry = prepared_.asset_register.find(mac);
                return entry ? entry->role : std::string();
            });
        // At start; a rebuild on reload continues from the analyzer it replaces instead
        // (apply_pending_reload), which also holds the rows not yet written.
        analyzer->restore_day_rows(stored_day_rows_);
        stored_day_rows_.clear();
        stored_day_rows_.shrink_to_fit();
        analyzer->restore_day_alerts(stored_day_alerts_);
        stored_day_alerts_.clear();
        stored_day_alerts_.shrink_to_fit();
        return analyzer;
    }
    if (name == "lan-hygiene") return build_lan_hygiene();
    if (name == "ipv6-routers") {
        Ipv6RoutersSettings v6;
        v6.routers = config_.network.ipv6_routers;
        v6.expected_prefixes = config_.network.ipv6_prefixes;
        v6.asset_register = &prepared_.asset_register;
        v6.gateway_mac = [this]() -> std::optional<MacAddress> {
            if (config_.network.gateway_mac) return config_.network.gateway_mac;
            if (learned_gateway_ && config_.network.gateway_ip &&
                learned_gateway_->first == *config_.network.gateway_ip)
                return learned_gateway_->second;
            return std::nullopt;
        };
        v6.record = [this](const std::string& state) { writer_.meta("ipv6_lan", state); };
        return std::make_unique<Ipv6Routers>(ipv6_lan_, writer_, std::move(v6));
    }
    if (name == "dhcp-flood") {
        DhcpFloodSettings dhcp;
        dhcp.max_requests_per_minute =
            static_cast<std::uint64_t>(config_.inventory.max_dhcp_requests_per_minute);
        return std::make_unique<DhcpFlood>(writer_, dhcp);
    }
    if (name == "service-health") {
        // Per server and minute, from the clients' side; outages as alerts (issue 22).
        ServiceHealthSettings health;
        health.internal_networks = config_.network.internal_networks;
        health.gateway_ip = config_.network.gateway_ip;
        // Kept in the store and here, so a restart or a rebuild on reload starts from it.
        health.record_baseline = [this](const std::string& state) {
            service_baseline_ = state;
            writer_.meta("service_baseline", state);
        };
        auto analyzer = std::make_unique<ServiceHealth>(writer_, std::move(health));
        if (!service_baseline_.empty())
            analyzer->restore_baseline(nlohmann::json::parse(service_baseline_, nullptr, false));
        return analyzer;
    }
    if (name == "topology") {
        // The network map's model and the mixed-segment findings (issue 18).
        TopologySettings t;
        t.internal_networks = config_.network.internal_networks;
        for (const auto& seg : config_.topology.segments)
            t.segments.push_back({seg.name, seg.network, seg.closed});
        t.intended_multi_homed = config_.topology.intended_multi_homed;
        return std::make_unique<Topology>(writer_, std::move(t), &hosts_);
    }
    if (name == "sensor-limits")
        // Last, so it sees every table above: reports any bounded table that had to drop
        // entries.
        return std::make_unique<SensorLimits>(
            writer_, [this](std::vector<TableUse>& out) { collect_tables(out); });
    return nullptr;
}

// Every bounded table and what it had to drop: read by the sensor-limit alert and the health
// metrics.
void Pipeline::collect_tables(std::vector<TableUse>& out) const {
    // Devices evicted to make room, and frames from new MACs kept out of the full table.
    out.push_back({"hosts", "devices", hosts_.capacity(), hosts_.evictions() + hosts_.refused()});
    out.push_back({"device-lists", "addresses, names and evidence per device", Host::kMaxAddresses,
                   hosts_.list_overflows()});
    // Findings (and devices leaving memory) that found the writer's queue full.
    out.push_back({"held-findings", "findings held in memory while the database cannot be written",
                   writer_.capacity(), writer_.dropped()});
    if (capture_) {
        const auto& c = capture_->counters();
        // Frames lost before analysis: the capture ring was full, or the kernel dropped.
        out.push_back({"capture-buffer", "frames waiting for analysis",
                       static_cast<std::uint64_t>(config_.capture.ring_slots),
                       c.ring_drops.load(std::memory_order_relaxed) +
                           c.kernel_drops.load(std::memory_order_relaxed) +
                           c.interface_drops.load(std::memory_order_relaxed)});
    }
    dispatcher_.table_use(out);
}

std::unique_ptr<Analyzer> Pipeline::build_lan_hygiene() {
    const InventoryConfig& c = config_.inventory;
    LanHygieneSettings s;
    s.learning_period = static_cast<Timestamp>(c.learning_days) * 86400 * kMicrosPerSecond;
    s.first_packet_ever = first_packet_ever_;
    s.record_first_packet = [this](Timestamp ts) {
        first_packet_ever_ = ts;
        writer_.meta("first_packet_us", std::to_string(ts));
    };
    // Devices from earlier runs keep their first-seen time across restarts.
    s.known_devices = known_devices_;
    // So do the devices' next hops (no gateway configured): a spoofer's MAC after a restart or
    // reload is a move away from the router, not the device's first hop.
    s.next_hops = next_hops_;
    s.record_next_hops = [this](const std::vector<LearnedNextHop>& hops) {
        next_hops_ = hops;
        writer_.meta("next_hops", next_hops_text(hops));
    };
    s.randomized_summaries = randomized_summaries_;
    s.gateway_ip = config_.network.gateway_ip;
    s.gateway_mac = config_.network.gateway_mac;
    // A gateway MAC learned by an earlier run (or before a reload) for the same gateway address
    // is kept: a router swapped while the sensor was off is still reported.
    if (s.gateway_ip && !s.gateway_mac && learned_gateway_ &&
        learned_gateway_->first == *s.gateway_ip) {
        s.gateway_mac = learned_gateway_->second;
        s.gateway_mac_from = "learned earlier";
    }
    s.record_gateway = [this, ip = s.gateway_ip](const MacAddress& mac) {
        if (!ip) return;
        learned_gateway_ = {*ip, mac};
        writer_.meta("learned_gateway", ip->to_string() + " " + mac.to_string());
    };
    s.internal_networks = config_.network.internal_networks;
    s.dhcp_servers = c.dhcp_servers;
    s.shared_addresses = c.shared_addresses;
    s.alert_each_randomized = c.alert_each_randomized;
    s.max_new_macs_per_minute = static_cast<std::uint64_t>(c.max_new_macs_per_minute);
    s.ip_conflict_window = static_cast<Timestamp>(c.ip_conflict_window_seconds) * kMicrosPerSecond;
    return std::make_unique<LanHygiene>(hosts_, writer_, std::move(s));
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
    const double cpu_at_start = thread_cpu_seconds();
    // A live capture's ring absorbs bursts the analysis falls behind on (a full ring drops). A
    // replay's reader waits instead, so slots beyond a few thousand frames buy nothing there, and
    // a ring larger than the cache makes the analysis thread read every frame from memory: on
    // the 2M-packet benchmark 1,024 slots (2 MB) took a third less CPU and 15 MB less RSS than
    // the live default of 8,192 (17 MB).
    auto slots = static_cast<std::size_t>(config_.capture.ring_slots);
    if (options_.ring_full == RingFullPolicy::wait) slots = std::min<std::size_t>(slots, 1024);
    FrameRing ring(slots, options_.slot_bytes);
    CaptureThread capture(source, ring, options_.ring_full);
    capture_ = &capture;
    writer_.start();
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
        p.store_queued = writer_.queued();
        p.store_write_errors = writer_.write_errors();
        collect_tables(p.tables);
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
        writer_.delete_minutes_before(
            retention_cutoff(packet_now, wall, config_.store.retention_days));
    };

    auto housekeeping = [&] {
        heartbeat_.fetch_add(1, std::memory_order_relaxed);
        if (reload_pending_.load(std::memory_order_acquire)) apply_pending_reload();
        report_capture_gaps(source);
        auto now = Clock::now();
        if (writer_.collect_due(now)) {
            writer_.collect(hosts_);
            retention(false);
        }
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

    // Stop: end the capture (joins its thread); what it had read is still in the ring (at most
    // ring_slots frames): drain it. Checked while frames keep coming too, not only when the
    // ring runs empty: under load (a slow build, a busy machine) analysis may never catch up
    // with the traffic, and SIGTERM must still end the run within seconds.
    // The drain gets a second: on a machine too busy to analyse even that, the rest is
    // counted as ring drops, so that stopping stays bounded (systemd, a reboot).
    std::uint64_t not_drained = 0;
    auto stop_and_drain = [&] {
        capture.stop();
        const auto drain_until = Clock::now() + std::chrono::seconds(1);
        std::uint64_t n = 0;
        while (const FrameSlot* slot = ring.peek()) {
            if ((++n & 0xff) == 0 && Clock::now() > drain_until) {
                while (ring.peek()) {
                    ring.release();
                    ++not_drained;
                }
                spdlog::warn("stopping: {} frames left in the ring were not analysed in time",
                             not_drained);
                break;
            }
            process(slot);
        }
    };
    for (;;) {
        if (const FrameSlot* slot = ring.peek()) {
            idle_spins = 0;
            process(slot);
            if ((result.packets & 0xff) == 0 && stop.load(std::memory_order_relaxed)) {
                stop_and_drain();
                break;
            }
            if ((result.packets & 0xfff) == 0) housekeeping();
            continue;
        }
        // Ring empty. Finished only when the capture thread is done and nothing is left.
        if (capture.finished() && !ring.peek()) break;
        if (stop.load(std::memory_order_relaxed)) {
            stop_and_drain();
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
    result.ring_drops = c.ring_drops.load() + not_drained;
    result.capture_drops = c.kernel_drops.load() + c.interface_drops.load();
    result.cut_to_slot = c.cut_to_slot.load();
    result.capture_error = capture.error();
    result.capture_cpu_seconds = capture.cpu_seconds();
    result.analysis_cpu_seconds = thread_cpu_seconds() - cpu_at_start;
    // What is left is handed to the writer, which gets a bounded time to write it (a full disk
    // may be cleared meanwhile); what still fails is reported, never silently dropped.
    writer_.collect(hosts_, true);
    retention(true);
    result.store_error = writer_.stop(Clock::now() + std::chrono::seconds(3));
    result.hosts = hosts_.size();
    result.elapsed_seconds = std::chrono::duration<double>(Clock::now() - started).count();
    report_progress(Clock::now());
    return result;
}

}  // namespace clinicwatch
