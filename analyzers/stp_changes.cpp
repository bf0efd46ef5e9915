#include "analyzers/stp_changes.hpp"

#include "analyzers/packet_context.hpp"

#include <algorithm>

namespace clinicwatch {

StpChanges::StpChanges(FindingSink& sink, const LoopDetectorSettings& s,
                       std::function<bool()> during_incident)
    : sink_(sink),
      update_interval_(s.update_interval),
      quiet_to_end_(s.stp_quiet_to_end),
      max_bridges_(s.max_bridges),
      during_incident_(std::move(during_incident)) {}

void StpChanges::on_packet(const Packet& p, PacketContext& context) {
    clock_.advance(p.ts, [this](Timestamp second) { close_second(second); });
    if (p.llc && stp::is_bpdu_frame(p)) {
        if (const stp::Bpdu* b = context.stp()) on_bpdu(p, *b);  // parsed once (topology too)
    }
}

void StpChanges::on_bpdu(const Packet& p, const stp::Bpdu& b) {
    if (!b.topology_change()) return;
    ++topology_changes_;
    // TCNs carry no bridge id: the sending port's MAC stands for the bridge.
    stp::BridgeId id = b.is_tcn() ? stp::BridgeId{0, p.src_mac} : b.sender();
    std::uint64_t key =
        (std::uint64_t{id.priority} << 48) ^ id.mac.as_u64() ^ (std::uint64_t{p.vlan} << 36);
    auto it = bridges_.find(key);
    if (it == bridges_.end()) {
        if (bridges_.size() >= max_bridges_) {
            // Drop a bridge whose episode is over; if every one is busy, skip this BPDU.
            auto victim = std::find_if(bridges_.begin(), bridges_.end(),
                                       [](const auto& kv) { return !kv.second.in_episode; });
            ++bridge_drops_;
            if (victim == bridges_.end()) return;
            bridges_.erase(victim);
        }
        it = bridges_.emplace(key, Bridge{}).first;
        it->second.bridge = id;
    }
    Bridge& s = it->second;
    s.src_mac = p.src_mac;
    s.vlan = p.vlan;
    s.version = b.version;
    s.tcn = s.tcn || b.is_tcn();
    if (!s.in_episode) {
        s = Bridge{id, p.src_mac, p.vlan};
        s.version = b.version;
        s.tcn = b.is_tcn();
        s.in_episode = true;
        s.episode_start = p.ts;
    }
    ++s.tc_bpdus;
    s.last_tc = p.ts;
    if (s.last_emit == 0 || p.ts - s.last_emit >= 2 * update_interval_) emit(s, false);
}

void StpChanges::close_second(Timestamp second) {
    // Topology-change episodes that have gone quiet.
    const Timestamp next = second + kMicrosPerSecond;
    for (auto& [key, b] : bridges_)
        if (b.in_episode && next - b.last_tc >= quiet_to_end_) {
            b.in_episode = false;
            emit(b, true);
        }
}

void StpChanges::emit(Bridge& b, bool ended) {
    static const char* kVersions[] = {"STP", "?", "RSTP", "MSTP"};
    const char* version = b.version <= 3 ? kVersions[b.version] : "?";
    AlertUpdate a;
    a.kind = "stp-topology-change";
    a.key = a.kind + ":" + b.bridge.to_string() + ":" + std::to_string(b.vlan) + ":" +
            std::to_string(b.episode_start);
    a.severity = Severity::medium;
    a.subject_mac = b.src_mac;
    a.subject = "bridge " + b.bridge.to_string();
    a.summary = std::string("Spanning tree topology change announced by bridge ") +
                b.bridge.to_string() + " (" + version + ", " + std::to_string(b.tc_bpdus) +
                (b.tcn ? " BPDUs incl. TCN)" : " BPDUs with TC)");
    a.first_seen = b.episode_start;
    a.last_seen = b.last_tc;
    a.count = b.tc_bpdus - b.emitted_tc;
    b.emitted_tc = b.tc_bpdus;
    a.ended = ended;
    a.evidence = {{"bridge", b.bridge.to_string()},
                  {"src_mac", b.src_mac.to_string()},
                  {"vlan", b.vlan},
                  {"protocol", version},
                  {"tc_bpdus", b.tc_bpdus},
                  {"tcn", b.tcn},
                  {"first_tc_us", b.episode_start},
                  {"last_tc_us", b.last_tc},
                  {"during_loop_or_storm", during_incident_ && during_incident_()}};
    b.last_emit = b.last_tc;
    sink_.alert(std::move(a));
}

void StpChanges::on_tick(Timestamp now) {
    clock_.advance(now, [this](Timestamp second) { close_second(second); });
}

void StpChanges::on_finish(Timestamp) {
    clock_.finish([this](Timestamp second) { close_second(second); });
    for (auto& [key, b] : bridges_)
        if (b.in_episode) {
            b.in_episode = false;
            emit(b, true);
        }
}

void StpChanges::table_use(std::vector<TableUse>& out) const {
    out.push_back({"loop-bridges", "spanning-tree bridges", max_bridges_, bridge_drops_});
}

}  // namespace clinicwatch
