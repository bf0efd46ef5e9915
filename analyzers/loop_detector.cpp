#include "analyzers/loop_detector.hpp"

#include <algorithm>
#include <cstdio>
#include <cstring>

#include "analyzers/host_table.hpp"

namespace clinicwatch {

namespace {

constexpr std::size_t kProbe = 8;  // slots looked at per signature: bounded work per frame
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

double per_second_alpha(double time_constant_seconds) {
    return time_constant_seconds > 1 ? 1.0 / time_constant_seconds : 1.0;
}

}  // namespace

LoopDetector::LoopDetector(FindingSink& sink, LoopDetectorSettings settings, const HostTable* hosts)
    : sink_(sink), settings_(std::move(settings)), hosts_(hosts) {
    std::size_t capacity = 64;
    while (capacity < settings_.table_capacity) capacity <<= 1;
    table_.resize(capacity);
    table_mask_ = capacity - 1;
    hot_.reserve(kMaxHotFrames);
}

std::uint64_t LoopDetector::signature(Bytes frame, std::uint32_t wire_length) {
    std::size_t n = std::min(frame.size(), kHashBytes);
    const std::uint8_t* p = frame.data();
    std::uint64_t h = 0x9e3779b97f4a7c15ULL ^ (std::uint64_t{wire_length} * 0xff51afd7ed558ccdULL);
    auto mix = [&h](std::uint64_t v) {
        h = (h ^ v) * 0xbf58476d1ce4e5b9ULL;
        h ^= h >> 31;
    };
    std::size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        std::uint64_t v;
        std::memcpy(&v, p + i, 8);
        mix(v);
    }
    if (i < n) {
        std::uint64_t v = 0;
        std::memcpy(&v, p + i, n - i);
        mix(v ^ (std::uint64_t{n - i} << 56));
    }
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdULL;
    h ^= h >> 33;
    return h ? h : 1;  // 0 marks an empty slot
}

LoopDetector::Entry* LoopDetector::lookup(std::uint64_t sig, Timestamp ts, bool& evicted) {
    evicted = false;
    Entry* victim = nullptr;
    for (std::size_t k = 0; k < kProbe; ++k) {
        Entry& e = table_[(sig + k) & table_mask_];
        if (e.sig == sig) {
            if (ts - e.window_start > settings_.window) {
                e.window_start = ts;
                e.count = 0;
            }
            ++e.count;
            e.last_seen = ts;
            return &e;
        }
        if (e.sig == 0) {
            // Slots never become empty again, so the signature cannot be further on.
            if (!victim) victim = &e;
            break;
        }
        bool expired = ts - e.last_seen > settings_.window;
        if (!victim) {
            victim = &e;
        } else {
            bool victim_expired = ts - victim->last_seen > settings_.window;
            if (expired && !victim_expired)
                victim = &e;
            else if (expired == victim_expired && e.last_seen < victim->last_seen)
                victim = &e;
        }
    }
    if (victim->sig == 0) {
        ++table_used_;
    } else if (ts - victim->last_seen <= settings_.window) {
        evicted = true;
        ++stats_.table_evictions;
    }
    *victim = Entry{sig, ts, ts, 1, -1};
    return victim;
}

void LoopDetector::on_packet(const Packet& p, PacketContext& /*context*/) {
    advance(p.ts);
    ++sec_frames_;
    sec_last_ts_ = p.ts;
    bool group = p.l2_broadcast || p.l2_multicast;
    sec_bcast_ += group;
    bool hash_it = group;
    if (!group && hosts_ && p.has_dst_mac) {
        // Unknown unicast: switches flood it like a broadcast, so it circulates in a loop too.
        std::uint64_t dst = p.dst_mac.as_u64() ^ (std::uint64_t{p.vlan} << 48);
        if (dst != last_dst_) {
            last_dst_ = dst;
            last_dst_unknown_ = hosts_->find(p.dst_mac, p.vlan) == nullptr;
        }
        hash_it = last_dst_unknown_;
    }

    bool circulating = false;
    bool first_in_window = true;
    if (hash_it && !p.frame.empty()) {
        ++stats_.hashed_frames;
        std::uint64_t sig = signature(p.frame, p.wire_length);
        bool evicted = false;
        Entry* e = lookup(sig, p.ts, evicted);
        first_in_window = e->count == 1;
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
            circulating = true;
        }
    }

    if (first_in_window) {
        if (p.arp && p.arp->opcode == 1) {
            on_arp_request(p.arp->sender_mac);
        } else if (p.icmp && p.icmp->v6 && p.icmp->type == 135 && p.l2_multicast) {
            // IPv6's ARP: a multicast neighbour solicitation (address resolution or DAD).
            // An NDP storm is an ARP storm (issue 20).
            on_arp_request(p.src_mac);
        }
    }
    if (p.llc && stp::is_bpdu_frame(p)) {
        if (auto b = stp::parse(p.l3_payload)) on_bpdu(p, *b);
    }
    check_duplicate_capture(p, circulating);
}

void LoopDetector::on_repeat(const Packet& p, Entry& e, std::uint64_t sig) {
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

void LoopDetector::maybe_open_loop(Timestamp ts) {
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

void LoopDetector::note_loop_detect_frame(const Packet& p, const LoopDetectFrameRule& rule) {
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

void LoopDetector::on_bpdu(const Packet& p, const stp::Bpdu& b) {
    if (!b.topology_change()) return;
    ++stats_.stp_topology_changes;
    // TCNs carry no bridge id: the sending port's MAC stands for the bridge.
    stp::BridgeId id = b.is_tcn() ? stp::BridgeId{0, p.src_mac} : b.sender();
    std::uint64_t key =
        (std::uint64_t{id.priority} << 48) ^ id.mac.as_u64() ^ (std::uint64_t{p.vlan} << 36);
    auto it = bridges_.find(key);
    if (it == bridges_.end()) {
        if (bridges_.size() >= settings_.max_bridges) {
            // Drop a bridge whose episode is over; if every one is busy, skip this BPDU.
            auto victim = std::find_if(bridges_.begin(), bridges_.end(),
                                       [](const auto& kv) { return !kv.second.in_episode; });
            ++stats_.bridge_drops;
            if (victim == bridges_.end()) return;
            bridges_.erase(victim);
        }
        it = bridges_.emplace(key, BridgeState{}).first;
        it->second.bridge = id;
    }
    BridgeState& s = it->second;
    s.src_mac = p.src_mac;
    s.vlan = p.vlan;
    s.version = b.version;
    s.tcn = s.tcn || b.is_tcn();
    if (!s.in_episode) {
        s = BridgeState{id, p.src_mac, p.vlan};
        s.version = b.version;
        s.tcn = b.is_tcn();
        s.in_episode = true;
        s.episode_start = p.ts;
    }
    ++s.tc_bpdus;
    s.last_tc = p.ts;
    if (s.last_emit == 0 || p.ts - s.last_emit >= 2 * settings_.update_interval)
        emit_bridge(s, false);
}

void LoopDetector::on_arp_request(const MacAddress& sender) {
    ++sec_arp_;
    std::uint64_t key = sender.as_u64();
    auto it = arp_hosts_.find(key);
    if (it == arp_hosts_.end()) {
        if (arp_hosts_.size() >= settings_.max_arp_hosts) {
            auto victim = std::find_if(arp_hosts_.begin(), arp_hosts_.end(),
                                       [](const auto& kv) { return !kv.second.storm; });
            ++stats_.arp_host_evictions;
            if (victim == arp_hosts_.end()) return;
            arp_hosts_.erase(victim);
        }
        it = arp_hosts_.emplace(key, ArpHost{}).first;
    }
    ++it->second.this_second;
}

void LoopDetector::check_duplicate_capture(const Packet& p, bool circulating) {
    std::size_t n = std::min(p.frame.size(), kHashBytes);
    bool dup = !circulating && n > 0 && n == prev_length_ && p.wire_length == prev_wire_ &&
               p.ts - prev_ts_ <= settings_.duplicate_capture_gap && p.ts >= prev_ts_ &&
               std::memcmp(prev_.data(), p.frame.data(), n) == 0;
    if (dup) {
        ++stats_.duplicate_captures;
        if (dup_first_ == 0) dup_first_ = p.ts;
        dup_last_ = p.ts;
        prev_length_ = 0;  // a third copy is not a capture duplicate of the second
    } else {
        std::memcpy(prev_.data(), p.frame.data(), n);
        prev_length_ = n;
    }
    prev_wire_ = p.wire_length;
    prev_ts_ = p.ts;
}

void LoopDetector::advance(Timestamp ts) {
    Timestamp s = ts / kMicrosPerSecond * kMicrosPerSecond;
    if (second_ < 0) {
        second_ = s;
        return;
    }
    if (s <= second_) return;  // a slightly late frame counts in the current second
    close_second();
    if (s > second_ + kMicrosPerSecond) {
        // A gap: one quiet second resets the rate counters; the rest is not learned from.
        second_ += kMicrosPerSecond;
        sec_last_ts_ = second_;
        close_second();
    }
    second_ = s;

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

void LoopDetector::close_second() {
    const double fps = static_cast<double>(sec_bcast_);
    const double threshold = std::max(settings_.storm_floor, settings_.storm_factor * baseline_);
    const bool over = fps > threshold;
    if (over) {
        if (storm_over_ == 0) {
            storm_first_over_ = second_;
            storm_run_frames_ = storm_run_bcast_ = storm_run_peak_ = 0;
        }
        ++storm_over_;
        storm_run_frames_ += sec_frames_;
        storm_run_bcast_ += sec_bcast_;
        storm_run_peak_ = std::max(storm_run_peak_, sec_bcast_);
    } else {
        storm_over_ = 0;
    }
    if (over && !incident_.open && storm_over_ >= settings_.storm_seconds) {
        open_incident(storm_first_over_);
        incident_.storm = true;
        incident_.last_active = sec_last_ts_;
        // The seconds that led up to it belong to it (this one is added below).
        incident_.frames = storm_run_frames_ - sec_frames_;
        incident_.broadcast_frames = storm_run_bcast_ - sec_bcast_;
        incident_.peak_fps = storm_run_peak_;
    }
    if (incident_.open) {
        incident_.frames += sec_frames_;
        incident_.broadcast_frames += sec_bcast_;
        incident_.peak_fps = std::max(incident_.peak_fps, sec_bcast_);
        incident_.peak_repeated_fps = std::max(incident_.peak_repeated_fps, sec_repeated_);
        incident_.peak_threshold = threshold;
        if (over) {
            incident_.storm = true;
            incident_.last_active = std::max(incident_.last_active, sec_last_ts_);
        }
        if (incident_.last_emit == 0) emit_incident(second_ + kMicrosPerSecond, false);
    } else if (!over) {
        // Learn the normal rate only from normal seconds, so a storm does not raise its own bar.
        ++baseline_samples_;
        double alpha = std::max(1.0 / static_cast<double>(baseline_samples_),
                                per_second_alpha(settings_.baseline_seconds));
        baseline_ += alpha * (fps - baseline_);
    }

    // ARP requests: the LAN as a whole, then each host that asked.
    const Timestamp next = second_ + kMicrosPerSecond;
    arp_lan_.this_second =
        static_cast<std::uint32_t>(std::min<std::uint64_t>(sec_arp_, UINT32_MAX));
    update_arp(nullptr, arp_lan_, next);
    for (auto& [key, host] : arp_hosts_) {
        MacAddress mac;
        for (int i = 0; i < 6; ++i) mac.bytes[5 - i] = static_cast<std::uint8_t>(key >> (8 * i));
        update_arp(&mac, host, next);
    }

    // STP topology-change episodes that have gone quiet.
    for (auto& [key, b] : bridges_)
        if (b.in_episode && next - b.last_tc >= settings_.stp_quiet_to_end) {
            b.in_episode = false;
            emit_bridge(b, true);
        }

    // Frames captured twice: reported at most once a minute.
    if (stats_.duplicate_captures > dup_emitted_ && stats_.duplicate_captures >= 10 &&
        (dup_last_emit_ == 0 || next - dup_last_emit_ >= 60 * kMicrosPerSecond))
        emit_duplicates(next);

    sec_frames_ = sec_bcast_ = sec_repeated_ = sec_arp_ = 0;
}

void LoopDetector::update_arp(const MacAddress* host, ArpHost& a, Timestamp now) {
    const double floor = host ? settings_.arp_host_floor : settings_.arp_lan_floor;
    const double rate = a.this_second;
    const bool over = rate > std::max(floor, settings_.arp_factor * a.baseline);
    if (over) {
        if (a.over == 0) a.storm_start = now - kMicrosPerSecond;
        ++a.over;
        a.last_over = now;
        a.peak = std::max<std::uint64_t>(a.peak, a.this_second);
        a.requests_in_storm += a.this_second;
    } else {
        a.over = 0;
        if (!a.storm)
            a.baseline += per_second_alpha(settings_.baseline_seconds) * (rate - a.baseline);
    }
    a.this_second = 0;
    if (!a.storm && a.over >= settings_.storm_seconds) {
        a.storm = true;
        emit_arp(host, a, now, false);
    } else if (a.storm && now - a.last_over >= settings_.quiet_to_end) {
        emit_arp(host, a, now, true);
        a.storm = false;
        a.peak = a.requests_in_storm = a.emitted = 0;
        a.last_emit = 0;
    } else if (a.storm && now - a.last_emit >= settings_.update_interval) {
        emit_arp(host, a, now, false);
    }
    if (!a.storm && !over) a.peak = a.requests_in_storm = 0;
}

void LoopDetector::open_incident(Timestamp start) {
    incident_ = Incident{};
    incident_.open = true;
    incident_.start = start;
    incident_.last_active = start;
    ++stats_.incidents;
}

void LoopDetector::end_incident(Timestamp now) {
    emit_incident(now, true);
    incident_ = Incident{};
    hot_.clear();
}

nlohmann::json LoopDetector::incident_evidence(Timestamp now, bool ended) const {
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
        {"baseline_broadcast_frames_per_second", baseline_},
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
    for (const auto& [key, b] : bridges_) {
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
    ev["signature_table"] = {
        {"capacity", table_.size()}, {"used", table_used_}, {"evictions", stats_.table_evictions}};
    return ev;
}

void LoopDetector::emit_incident(Timestamp now, bool ended) {
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
                      static_cast<unsigned long long>(in.peak_fps), baseline_,
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

void LoopDetector::emit_bridge(BridgeState& b, bool ended) {
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
                  {"during_loop_or_storm", incident_.open}};
    b.last_emit = b.last_tc;
    sink_.alert(std::move(a));
}

void LoopDetector::emit_arp(const MacAddress* host, ArpHost& st, Timestamp now, bool ended) {
    AlertUpdate a;
    a.kind = "arp-storm";
    std::string who = host ? host->to_string() : "LAN";
    a.key = a.kind + ":" + who + ":" + std::to_string(st.storm_start);
    a.severity = Severity::high;
    if (host) a.subject_mac = *host;
    a.subject = who;
    a.summary = (host ? "ARP storm from " + who : std::string("ARP storm on the LAN")) + ": peak " +
                std::to_string(st.peak) + " requests/s (normal about " +
                std::to_string(static_cast<long long>(st.baseline + 0.5)) + ")";
    a.first_seen = st.storm_start;
    a.last_seen = ended ? st.last_over : now;
    a.count = st.requests_in_storm - st.emitted;
    st.emitted = st.requests_in_storm;
    a.ended = ended;
    a.evidence = {{"start_us", st.storm_start},
                  {"last_over_us", st.last_over},
                  {"peak_requests_per_second", st.peak},
                  {"requests", st.requests_in_storm},
                  {"baseline_requests_per_second", st.baseline},
                  {"ongoing", !ended}};
    st.last_emit = now;
    sink_.alert(std::move(a));
}

void LoopDetector::emit_duplicates(Timestamp now) {
    AlertUpdate a;
    a.kind = "duplicate-capture";
    a.key = a.kind + ":LAN";
    a.severity = Severity::low;
    a.subject = "mirror port";
    a.summary = "Frames captured twice (" + std::to_string(stats_.duplicate_captures) +
                " so far): the mirror copies both directions or two ports; not a loop";
    a.first_seen = dup_first_;
    a.last_seen = dup_last_;
    a.count = stats_.duplicate_captures - dup_emitted_;
    dup_emitted_ = stats_.duplicate_captures;
    a.evidence = {{"duplicate_frames", stats_.duplicate_captures},
                  {"first_us", dup_first_},
                  {"last_us", dup_last_}};
    dup_last_emit_ = now;
    sink_.alert(std::move(a));
}

void LoopDetector::on_tick(Timestamp now) {
    advance(now);
}

void LoopDetector::on_finish(Timestamp now) {
    if (second_ >= 0) {
        close_second();
        second_ += kMicrosPerSecond;
    }
    if (incident_.open) {
        // The capture stopped: whatever was going on ends here as far as we can tell.
        end_incident(now);
    }
    for (auto& [key, b] : bridges_)
        if (b.in_episode) {
            b.in_episode = false;
            emit_bridge(b, true);
        }
    if (arp_lan_.storm) emit_arp(nullptr, arp_lan_, now, true);
    for (auto& [key, host] : arp_hosts_)
        if (host.storm) {
            MacAddress mac;
            for (int i = 0; i < 6; ++i)
                mac.bytes[5 - i] = static_cast<std::uint8_t>(key >> (8 * i));
            emit_arp(&mac, host, now, true);
            host.storm = false;
        }
    if (stats_.duplicate_captures > dup_emitted_ && stats_.duplicate_captures >= 10)
        emit_duplicates(now);
}

void LoopDetector::table_use(std::vector<TableUse>& out) const {
    out.push_back({"loop-frame-signatures", "recent frame signatures for loop detection",
                   table_.size(), stats_.table_evictions});
    out.push_back({"loop-arp-senders", "ARP senders watched for ARP storms",
                   settings_.max_arp_hosts, stats_.arp_host_evictions});
    out.push_back(
        {"loop-bridges", "spanning-tree bridges", settings_.max_bridges, stats_.bridge_drops});
}

}  // namespace clinicwatch
