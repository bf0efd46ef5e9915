#include "analyzers/loop_storm.hpp"

#include <algorithm>
#include <cstdio>
#include <cstring>

#include "analyzers/stp_changes.hpp"
#include "capture/protocols/stp.hpp"

namespace clinicwatch {

namespace {

constexpr std::uint32_t kLoopDetectFrameRepeats = 4;  // switches send them every 1-2 s

std::string hex(const std::uint8_t* p, std::size_t n) {
    static const char* kDigits = "0123456789abcdef";
    std::string out;
    out.reserve(n * 3);
    for (std::size_t i = 0; i < n; ++i) {
        if (i) out += ' ';
        out += kDigits[p[i] >> 4];
        out += kDigits[p[i] & 0x0f];
    }
    return out;
}

std::string ethertype_text(std::uint16_t t) {
    char buf[8];
    std::snprintf(buf, sizeof buf, "0x%04x", t);
    return buf;
}

std::string_view udp_port_name(std::uint16_t port) {
    switch (port) {
        case 67:
        case 68:
            return "DHCP";
        case 137:
            return "NBNS";
        case 138:
            return "NetBIOS datagram";
        case 1900:
            return "SSDP";
        case 3702:
            return "WS-Discovery";
        case 5353:
            return "mDNS";
        case 5355:
            return "LLMNR";
        default:
            return "";
    }
}

// A short description of what a circulating frame is, for the person reading the alert.
std::string describe(const Packet& p) {
    if (p.arp) return p.arp->opcode == 1 ? "ARP request" : "ARP reply";
    if (stp::is_bpdu_frame(p)) return "STP BPDU";
    if (p.llc)
        return "LLC " + ethertype_text(static_cast<std::uint16_t>(p.llc->dsap << 8 | p.llc->ssap));
    if (p.icmp && p.icmp->v6) {
        switch (p.icmp->type) {
            case 133:
                return "IPv6 router solicitation (NDP)";
            case 134:
                return "IPv6 router advertisement (NDP)";
            case 135:
                return "IPv6 neighbour solicitation (NDP)";
            case 136:
                return "IPv6 neighbour advertisement (NDP)";
            case 143:
                return "MLDv2 report";
            default:
                break;
        }
    }
    if (p.ip) {
        std::string family = p.ip->src.is_v4() ? "IPv4" : "IPv6";
        if (p.udp) {
            std::string text = family + "/UDP " + std::to_string(p.udp->dst_port);
            auto name = udp_port_name(p.udp->dst_port);
            if (name.empty()) name = udp_port_name(p.udp->src_port);
            if (!name.empty()) text += " (" + std::string(name) + ")";
            return text;
        }
        if (p.tcp) return family + "/TCP " + std::to_string(p.tcp->dst_port);
        if (p.icmp) return p.icmp->v6 ? "ICMPv6" : "ICMP";
        return family + " protocol " + std::to_string(p.ip->protocol);
    }
    return "EtherType " + ethertype_text(p.ethertype);
}

}  // namespace

LoopOrStorm::LoopOrStorm(FindingSink& sink, LoopDetectorSettings settings,
                         const FrameRepeats& repeats, const BroadcastRate& rate)
    : sink_(sink), settings_(std::move(settings)), repeats_(repeats), rate_(rate) {
    hot_.reserve(kMaxHotFrames);
}

void LoopOrStorm::on_packet(const Packet& p, PacketContext& /*context*/) {
    advance(p.ts);
    sec_last_ts_ = p.ts;
    circulating_packet_ = nullptr;
    const FrameRepeats::Seen* seen = repeats_.seen(p);
    if (!seen || !seen->hashed) return;
    FrameRepeats::Entry* e = seen->entry;
    const std::uint64_t sig = seen->sig;
    bool hot = e->hot >= 0 && static_cast<std::size_t>(e->hot) < hot_.size() &&
               hot_[static_cast<std::size_t>(e->hot)].sig == sig &&
               p.ts - hot_[static_cast<std::size_t>(e->hot)].last_seen <= settings_.window;
    std::uint32_t threshold = settings_.repeat_threshold;
    const LoopDetectFrameRule* rule = nullptr;
    if (!settings_.loop_detect_frames.empty()) {
        for (const auto& r : settings_.loop_detect_frames) {
            if (r.ethertype == p.ethertype && (!r.dst_mac || *r.dst_mac == p.dst_mac)) {
                rule = &r;
                threshold = std::min(threshold, kLoopDetectFrameRepeats);
                break;
            }
        }
        if (rule) note_loop_detect_frame(p, *rule);
    }
    if (hot || e->count >= threshold) {
        on_repeat(p, *e, sig);
        circulating_packet_ = &p;
        circulating_ts_ = p.ts;
    }
}

void LoopOrStorm::on_repeat(const Packet& p, FrameRepeats::Entry& e, std::uint64_t sig) {
    std::uint64_t added = 1;
    bool valid = e.hot >= 0 && static_cast<std::size_t>(e.hot) < hot_.size() &&
                 hot_[static_cast<std::size_t>(e.hot)].sig == sig;
    if (!valid) {
        // The frame has just crossed the threshold: the copies before it count too.
        added = e.count;
        e.hot = -1;
        for (std::size_t i = 0; i < hot_.size(); ++i)
            if (hot_[i].sig == sig) e.hot = static_cast<std::int32_t>(i);
        if (e.hot < 0 && hot_.size() < kMaxHotFrames) {
            HotFrame h;
            h.sig = sig;
            h.src = p.src_mac;
            h.dst = p.dst_mac;
            h.ethertype = p.ethertype;
            h.vlan = p.vlan;
            h.protocol = describe(p);
            h.length = p.wire_length;
            h.preview_length = static_cast<std::uint8_t>(std::min<std::size_t>(32, p.frame.size()));
            std::memcpy(h.preview.data(), p.frame.data(), h.preview_length);
            h.first_seen = e.window_start;
            h.last_seen = p.ts;
            hot_.push_back(std::move(h));
            e.hot = static_cast<std::int32_t>(hot_.size() - 1);
        }
    }
    if (e.hot >= 0) {
        HotFrame& h = hot_[static_cast<std::size_t>(e.hot)];
        if (p.ts - h.last_seen > settings_.window) h.first_seen = e.window_start;  // a new run
        h.copies += added;
        h.last_seen = p.ts;
        h.window_count = e.count;
    }
    sec_repeated_ += added;
    last_repeat_ = p.ts;
    if (incident_.open) {
        incident_.repeated_frames += added;
        if (incident_.loop) {
            incident_.last_active = p.ts;
            return;
        }
    }
    maybe_open_loop(p.ts);
}

void LoopOrStorm::maybe_open_loop(Timestamp ts) {
    std::uint32_t active = 0, max_count = 0;
    Timestamp start = ts;
    for (const auto& h : hot_) {
        if (ts - h.last_seen > settings_.window) continue;
        ++active;
        max_count = std::max(max_count, h.window_count);
        start = std::min(start, h.first_seen);
    }
    bool loop = active >= settings_.min_circulating_frames ||
                max_count >= settings_.single_frame_loop ||
                (active > 0 && hot_.size() == kMaxHotFrames);
    if (!loop) return;
    if (!incident_.open) {
        open_incident(start);
        // Copies counted before the incident opened belong to it.
        for (const auto& h : hot_)
            if (ts - h.last_seen <= settings_.window) incident_.repeated_frames += h.copies;
    }
    incident_.loop = true;
    incident_.last_active = ts;
    emit_incident(ts, false);
}

void LoopOrStorm::note_loop_detect_frame(const Packet& p, const LoopDetectFrameRule& rule) {
    if (!incident_.open) return;
    std::string who = rule.vendor + " loop-detection frame from " + p.src_mac.to_string();
    for (auto& [name, n] : incident_.loop_detect_frames) {
        if (name == who) {
            ++n;
            return;
        }
    }
    if (incident_.loop_detect_frames.size() < 8) incident_.loop_detect_frames.emplace_back(who, 1);
}

void LoopOrStorm::advance(Timestamp ts) {
    if (!clock_.advance(ts, [this](Timestamp second) { close_second(second); })) return;
    const Timestamp s = clock_.second();
    if (incident_.open) {
        if (s - incident_.last_active >= settings_.quiet_to_end) {
            end_incident(s);
        } else if (s - incident_.last_emit >= settings_.update_interval) {
            emit_incident(s, false);
        }
    }
    // Forget frames that circulated briefly without becoming a loop.
    if (!incident_.open && !hot_.empty()) {
        std::erase_if(hot_,
                      [&](const HotFrame& h) { return s - h.last_seen > 2 * settings_.window; });
    }
}

void LoopOrStorm::close_second(Timestamp second) {
    // The shared per-second totals: FrameRepeats counted every frame once.
    const FrameRepeats::Second counts = repeats_.closed(second);
    const std::uint64_t sec_frames = counts.frames, sec_bcast = counts.group_frames;
    sec_last_ts_ = counts.last_ts;
    // Whether this second was a storm: BroadcastRate judged it (it runs before this unit).
    const BroadcastRate::Verdict rate = rate_.judged(second);
    const bool over = rate.over;
    const double threshold = rate.threshold;
    if (over && !incident_.open && rate.run_seconds >= settings_.storm_seconds) {
        open_incident(rate.run_start);
        incident_.storm = true;
        incident_.last_active = sec_last_ts_;
        // The seconds that led up to it belong to it (this one is added below).
        incident_.frames = rate.run_frames - sec_frames;
        incident_.broadcast_frames = rate.run_group_frames - sec_bcast;
        incident_.peak_fps = rate.run_peak;
    }
    if (incident_.open) {
        incident_.frames += sec_frames;
        incident_.broadcast_frames += sec_bcast;
        incident_.peak_fps = std::max(incident_.peak_fps, sec_bcast);
        incident_.peak_repeated_fps = std::max(incident_.peak_repeated_fps, sec_repeated_);
        incident_.peak_threshold = threshold;
        if (over) {
            incident_.storm = true;
            incident_.last_active = std::max(incident_.last_active, sec_last_ts_);
        }
        if (incident_.last_emit == 0) emit_incident(second + kMicrosPerSecond, false);
    }
    sec_repeated_ = 0;
}

void LoopOrStorm::open_incident(Timestamp start) {
    incident_ = Incident{};
    incident_.open = true;
    incident_.start = start;
    incident_.last_active = start;
    ++incidents_;
}

void LoopOrStorm::end_incident(Timestamp now) {
    emit_incident(now, true);
    incident_ = Incident{};
    hot_.clear();
}

nlohmann::json LoopOrStorm::incident_evidence(Timestamp now, bool ended) const {
    const Incident& in = incident_;
    Timestamp end = in.last_active;
    nlohmann::json ev = {
        {"start_us", in.start},
        {"end_us", ended ? nlohmann::json(end) : nlohmann::json()},
        {"last_active_us", end},
        {"duration_s", static_cast<double>(end - in.start) / kMicrosPerSecond},
        {"ongoing", !ended},
        {"peak_broadcast_frames_per_second", in.peak_fps},
        {"peak_repeated_frames_per_second", in.peak_repeated_fps},
        {"repeated_frames", in.repeated_frames},
        {"broadcast_frames", in.broadcast_frames},
        {"frames", in.frames},
        {"baseline_broadcast_frames_per_second", rate_.baseline()},
        {"storm_threshold_frames_per_second", in.peak_threshold},
        {"broadcast_rate_over_threshold", in.storm},
        {"frames_repeating", in.loop},
    };
    if (in.frames > 0)
        ev["broadcast_share"] =
            static_cast<double>(in.broadcast_frames) / static_cast<double>(in.frames);
    std::vector<const HotFrame*> top;
    for (const auto& h : hot_) top.push_back(&h);
    std::sort(top.begin(), top.end(),
              [](const HotFrame* a, const HotFrame* b) { return a->copies > b->copies; });
    auto frames = nlohmann::json::array();
    for (std::size_t i = 0; i < top.size() && i < 8; ++i) {
        const HotFrame& h = *top[i];
        frames.push_back({{"src_mac", h.src.to_string()},
                          {"dst_mac", h.dst.to_string()},
                          {"vlan", h.vlan},
                          {"ethertype", ethertype_text(h.ethertype)},
                          {"protocol", h.protocol},
                          {"length", h.length},
                          {"copies", h.copies},
                          {"first_seen_us", h.first_seen},
                          {"last_seen_us", h.last_seen},
                          {"preview_hex", hex(h.preview.data(), h.preview_length)}});
    }
    ev["top_repeated_frames"] = std::move(frames);
    auto bridges = nlohmann::json::array();
    // Bridges announcing a topology change around the incident (a TC lasts up to 35 s).
    if (bridges_)
        for (const auto& [key, b] : bridges_->bridges()) {
            if (b.tc_bpdus == 0 || b.last_tc < in.start - settings_.stp_quiet_to_end) continue;
            if (b.episode_start > now) continue;
            bridges.push_back({{"bridge", b.bridge.to_string()},
                               {"src_mac", b.src_mac.to_string()},
                               {"vlan", b.vlan},
                               {"tc_bpdus", b.tc_bpdus},
                               {"first_tc_us", b.episode_start},
                               {"last_tc_us", b.last_tc}});
        }
    ev["stp_topology_changes"] = std::move(bridges);
    auto ldf = nlohmann::json::array();
    for (const auto& [who, n] : in.loop_detect_frames)
        ldf.push_back({{"frame", who}, {"count", n}});
    ev["switch_loop_detection_frames"] = std::move(ldf);
    ev["signature_table"] = {{"capacity", repeats_.table_capacity()},
                             {"used", repeats_.table_size()},
                             {"evictions", repeats_.table_evictions()}};
    return ev;
}

void LoopOrStorm::emit_incident(Timestamp now, bool ended) {
    Incident& in = incident_;
    const bool loop = in.loop;
    AlertUpdate a;
    a.kind = loop ? "l2-loop" : "broadcast-storm";
    a.key = a.kind + ":LAN:" + std::to_string(in.start);
    a.severity = Severity::critical;
    a.subject = "LAN";
    a.first_seen = in.start;
    a.last_seen = ended ? in.last_active : std::max(in.last_active, std::min(now, sec_last_ts_));
    if (a.last_seen < a.first_seen) a.last_seen = a.first_seen;
    a.ended = ended;
    a.evidence = incident_evidence(now, ended);
    const double seconds = static_cast<double>(in.last_active - in.start) / kMicrosPerSecond;
    char text[256];
    if (loop) {
        std::snprintf(text, sizeof text,
                      "Layer-2 loop: %zu broadcast/multicast frames circulating, peak %llu "
                      "repeated frames/s, %s %.0f s",
                      hot_.size(), static_cast<unsigned long long>(in.peak_repeated_fps),
                      ended ? "lasted" : "going on for", seconds);
        a.count = in.repeated_frames - in.emitted_repeated;
        in.emitted_repeated = in.repeated_frames;
    } else {
        std::snprintf(text, sizeof text,
                      "Broadcast storm: peak %llu broadcast/multicast frames/s (normal about "
                      "%.0f), %s %.0f s",
                      static_cast<unsigned long long>(in.peak_fps), rate_.baseline(),
                      ended ? "lasted" : "going on for", seconds);
        a.count = in.storm_alerted ? 0 : 1;
    }
    a.summary = text;
    if (loop && in.storm_alerted && !in.storm_closed) {
        // It began as a storm and turned out to be a loop: close the storm alert, pointing on.
        AlertUpdate s = a;
        s.kind = "broadcast-storm";
        s.key = s.kind + ":LAN:" + std::to_string(in.start);
        s.summary = "Broadcast storm, found to be a layer-2 loop (see the l2-loop alert)";
        s.count = 0;
        s.ended = true;
        sink_.alert(std::move(s));
        in.storm_closed = true;
    }
    if (!loop) in.storm_alerted = true;
    in.last_emit = now;
    sink_.alert(std::move(a));
}

void LoopOrStorm::on_tick(Timestamp now) {
    advance(now);
}

void LoopOrStorm::on_finish(Timestamp now) {
    clock_.finish([this](Timestamp second) { close_second(second); });
    // The capture stopped: whatever was going on ends here as far as we can tell.
    if (incident_.open) end_incident(now);
}

}  // namespace clinicwatch
