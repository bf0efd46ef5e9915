#include "analyzers/arp_storms.hpp"

#include <algorithm>
#include <climits>

namespace clinicwatch {

namespace {
MacAddress mac_of(std::uint64_t key) {
    MacAddress mac;
    for (int i = 0; i < 6; ++i) mac.bytes[5 - i] = static_cast<std::uint8_t>(key >> (8 * i));
    return mac;
}
}  // namespace

ArpStorms::ArpStorms(FindingSink& sink, const LoopDetectorSettings& s, const FrameRepeats& repeats,
                     const HostTable* hosts)
    : sink_(sink),
      host_floor_(s.arp_host_floor),
      lan_floor_(s.arp_lan_floor),
      factor_(s.arp_factor),
      baseline_seconds_(s.baseline_seconds),
      storm_seconds_(s.storm_seconds),
      quiet_to_end_(s.quiet_to_end),
      update_interval_(s.update_interval),
      max_hosts_(s.max_arp_hosts),
      repeats_(repeats),
      hosts_table_(hosts) {}

void ArpStorms::on_packet(const Packet& p, PacketContext& /*context*/) {
    clock_.advance(p.ts, [this](Timestamp second) { close_second(second); });
    // A loop's copies of one request are not more requests.
    const FrameRepeats::Seen* seen = repeats_.seen(p);
    if (seen && !seen->first_in_window) return;
    // A frame from a sender the full host table turned away (a MAC flood's forged source)
    // counts LAN-wide only: a per-sender entry for each evicted another one every frame.
    const bool per_sender = !hosts_table_ || !hosts_table_->turned_away(p.src_mac, p.vlan);
    if (p.arp && p.arp->opcode == 1) {
        on_request(p.arp->sender_mac, per_sender);
    } else if (p.icmp && p.icmp->v6 && p.icmp->type == 135 && p.l2_multicast) {
        // IPv6's ARP: a multicast neighbour solicitation (address resolution or DAD).
        // An NDP storm is an ARP storm (issue 20).
        on_request(p.src_mac, per_sender);
    }
}

void ArpStorms::on_request(const MacAddress& sender, bool per_sender) {
    ++sec_requests_;
    if (!per_sender) return;
    std::uint64_t key = sender.as_u64();
    auto it = hosts_.find(key);
    if (it == hosts_.end()) {
        if (hosts_.size() >= max_hosts_) {
            auto victim = std::find_if(hosts_.begin(), hosts_.end(),
                                       [](const auto& kv) { return !kv.second.storm; });
            ++host_evictions_;
            if (victim == hosts_.end()) return;
            hosts_.erase(victim);
        }
        it = hosts_.emplace(key, ArpHost{}).first;
    }
    ++it->second.this_second;
}

void ArpStorms::close_second(Timestamp second) {
    // The LAN as a whole, then each host that asked.
    const Timestamp next = second + kMicrosPerSecond;
    lan_.this_second =
        static_cast<std::uint32_t>(std::min<std::uint64_t>(sec_requests_, UINT32_MAX));
    sec_requests_ = 0;
    update(nullptr, lan_, next);
    for (auto& [key, host] : hosts_) {
        MacAddress mac = mac_of(key);
        update(&mac, host, next);
    }
}

void ArpStorms::update(const MacAddress* host, ArpHost& a, Timestamp now) {
    const double floor = host ? host_floor_ : lan_floor_;
    const double rate = a.this_second;
    const bool over = rate > std::max(floor, factor_ * a.baseline);
    if (over) {
        if (a.over == 0) a.storm_start = now - kMicrosPerSecond;
        ++a.over;
        a.last_over = now;
        a.peak = std::max<std::uint64_t>(a.peak, a.this_second);
        a.requests_in_storm += a.this_second;
    } else {
        a.over = 0;
        if (!a.storm) a.baseline += per_second_alpha(baseline_seconds_) * (rate - a.baseline);
    }
    a.this_second = 0;
    if (!a.storm && a.over >= storm_seconds_) {
        a.storm = true;
        emit(host, a, now, false);
    } else if (a.storm && now - a.last_over >= quiet_to_end_) {
        emit(host, a, now, true);
        a.storm = false;
        a.peak = a.requests_in_storm = a.emitted = 0;
        a.last_emit = 0;
    } else if (a.storm && now - a.last_emit >= update_interval_) {
        emit(host, a, now, false);
    }
    if (!a.storm && !over) a.peak = a.requests_in_storm = 0;
}

void ArpStorms::emit(const MacAddress* host, ArpHost& st, Timestamp now, bool ended) {
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

void ArpStorms::on_tick(Timestamp now) {
    clock_.advance(now, [this](Timestamp second) { close_second(second); });
}

void ArpStorms::on_finish(Timestamp now) {
    clock_.finish([this](Timestamp second) { close_second(second); });
    if (lan_.storm) emit(nullptr, lan_, now, true);
    for (auto& [key, host] : hosts_)
        if (host.storm) {
            MacAddress mac = mac_of(key);
            emit(&mac, host, now, true);
            host.storm = false;
        }
}

void ArpStorms::table_use(std::vector<TableUse>& out) const {
    out.push_back(
        {"loop-arp-senders", "ARP senders watched for ARP storms", max_hosts_, host_evictions_});
}

}  // namespace clinicwatch
