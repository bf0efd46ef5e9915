#include "analyzers/lan_hygiene.hpp"

#include <algorithm>
#include <ctime>

#include "analyzers/inventory.hpp"
#include "analyzers/packet_context.hpp"
#include "capture/protocols/dhcp.hpp"

namespace clinicwatch {

namespace {

constexpr Timestamp kScanInterval = 5 * kMicrosPerSecond;
constexpr Timestamp kThrottle = 10 * kMicrosPerSecond;
constexpr Timestamp kMinute = 60 * kMicrosPerSecond;
constexpr std::size_t kMaxThrottleKeys = 1024;
constexpr std::size_t kMaxRandomizedListed = 64;

MacAddress mac_of(std::uint64_t key) {
    MacAddress m;
    for (int i = 5; i >= 0; --i, key >>= 8) m.bytes[static_cast<std::size_t>(i)] = key & 0xff;
    return m;
}

bool usable_mac(const MacAddress& m) {
    return !m.is_multicast() && !m.is_zero();
}

// The clinic's calendar day of a packet time, as a day number: local time (TZ, which the daemon
// sets from digest.timezone), so "the day" turns at midnight in the clinic, not at 09:00 JST.
std::int64_t local_day_number(Timestamp ts) {
    std::time_t t = static_cast<std::time_t>(ts / kMicrosPerSecond);
    std::tm tm{};
    localtime_r(&t, &tm);
    tm.tm_hour = tm.tm_min = tm.tm_sec = 0;
    tm.tm_isdst = 0;
    return static_cast<std::int64_t>(timegm(&tm)) / 86400;
}

std::string day_text(std::int64_t day_number) {
    std::time_t t = static_cast<std::time_t>(day_number * 86400);
    std::tm tm{};
    gmtime_r(&t, &tm);
    char buf[16];
    std::strftime(buf, sizeof buf, "%Y-%m-%d", &tm);
    return buf;
}

nlohmann::json observed_values(const std::vector<Observed>& list) {
    auto out = nlohmann::json::array();
    for (const auto& o : list) out.push_back({{"value", o.value}, {"source", o.source}});
    return out;
}

std::string first_name(const Host& h) {
    const Observed* best = nullptr;
    for (const auto& n : h.names)
        if (!best || n.first_seen < best->first_seen) best = &n;
    return best ? best->value : std::string();
}

}  // namespace

LanHygiene::LanHygiene(HostTable& hosts, FindingSink& sink, LanHygieneSettings settings)
    : hosts_(hosts),
      sink_(sink),
      settings_(std::move(settings)),
      internal_(settings_.internal_networks),
      gateway_mac_from_(settings_.gateway_mac_from) {
    if (settings_.dhcp_servers.empty() && settings_.gateway_ip)
        settings_.dhcp_servers.push_back(*settings_.gateway_ip);
    auto older = [](const NextHop& a, const NextHop& b) { return a.last < b.last; };
    for (const LearnedNextHop& learned : settings_.next_hops) {
        if (!usable_mac(learned.device) || learned.hop.is_zero()) continue;
        NextHop n;
        n.hop = learned.hop;
        n.earlier = learned.earlier;
        n.last = learned.last;
        next_hops_.insert(learned.device.as_u64(), n, older, [](auto&, auto&) {});
    }
    settings_.next_hops.clear();
    settings_.next_hops.shrink_to_fit();
}

std::vector<LearnedNextHop> LanHygiene::next_hops() const {
    std::vector<LearnedNextHop> out;
    out.reserve(next_hops_.size());
    next_hops_.for_each([&](std::uint64_t device, const NextHop& n) {
        if (!n.hop.is_zero()) out.push_back({mac_of(device), n.hop, n.earlier, n.last});
    });
    return out;
}

void LanHygiene::record_next_hops(Timestamp now, bool final) {
    if (!next_hops_changed_ || !settings_.record_next_hops) return;
    // At most every ten minutes: the whole list is written (up to kMaxNextHops entries), and a
    // device alternating between two routers changes its hop all day.
    if (!final && now < next_hops_recorded_ + 10 * kMinute) return;
    next_hops_changed_ = false;
    next_hops_recorded_ = now;
    settings_.record_next_hops(next_hops());
}

bool LanHygiene::is_outbound_to_internet(const Packet& packet) const {
    if (!packet.has_dst_mac || packet.dst_mac.is_multicast() || packet.ip->dst.is_unspecified())
        return false;
    if (internal_.contains(packet.ip->dst) || !internal_.contains(packet.ip->src)) return false;
    return !(packet.ip->dst.is_v4() && packet.ip->dst.bytes[0] >= 224);  // not multicast
}

void LanHygiene::learn_next_hop(const Packet& packet) {
    // Traffic from the LAN to the internet is sent to the gateway's MAC: the router's true MAC
    // even when it never shows up in ARP (the capture may start after its last ARP reply).
    if (!is_outbound_to_internet(packet)) return;
    if (next_hop_candidate_ == packet.dst_mac) {
        // A few packets to different destinations agreeing: not a one-off.
        if (++next_hop_votes_ >= 3) {
            settings_.gateway_mac = packet.dst_mac;
            gateway_mac_from_ = "learned from outbound traffic";
            if (settings_.record_gateway) settings_.record_gateway(packet.dst_mac);
        }
    } else {
        next_hop_candidate_ = packet.dst_mac;
        next_hop_votes_ = 1;
    }
}

void LanHygiene::watch_next_hop(const Packet& packet) {
    // Without the gateway's address, ARP spoofing still shows: a device's internet traffic
    // moves from the router's MAC to one that has just claimed an address by ARP (the
    // gateway's), and stays there. A device that always used a second router never moved, and
    // one that sends some destinations through a second router goes back to the first: neither
    // is flagged.
    if (!is_outbound_to_internet(packet) || !usable_mac(packet.src_mac)) return;
    auto older = [](const NextHop& a, const NextHop& b) { return a.last < b.last; };
    NextHop* n = next_hops_.find(packet.src_mac.as_u64());
    if (!n) n = &next_hops_.insert(packet.src_mac.as_u64(), NextHop{}, older, [](auto&, auto&) {});
    n->last = packet.ts;
    if (packet.dst_mac == n->hop) {
        n->votes = 0;
        if (!n->moved_from.is_zero() && ++n->packets_since_move >= kTakeoverPackets) {
            report_takeover(packet, *n);
            n->moved_from = MacAddress{};
        }
        return;
    }
    n->moved_from = MacAddress{};  // back to an earlier hop, or on to another: not a takeover
    if (packet.dst_mac == n->candidate) {
        ++n->votes;
    } else {
        n->candidate = packet.dst_mac;
        n->votes = 1;
    }
    if (n->votes < 3) return;  // a few packets in a row: not a one-off
    MacAddress before = n->hop;
    bool going_back = n->candidate == n->earlier;
    n->earlier = before;
    n->hop = n->candidate;
    n->votes = 0;
    next_hops_changed_ = true;
    // The first next hop learned; or back to the one used before (the real router again once
    // a spoofer stops, or a device alternating between two routers).
    if (before.is_zero() || going_back) return;
    const ArpClaim* c = arp_claims_.find(n->hop.as_u64());
    if (!c || packet.ts - c->ts > kTakeoverWindow) return;
    n->moved_from = before;
    n->moved_claim = *c;
    n->packets_since_move = 3;
}

void LanHygiene::report_takeover(const Packet& packet, const NextHop& n) {
    AlertUpdate u;
    u.kind = "gateway-mac-change";
    std::string ip = n.moved_claim.ip.to_string();
    u.key = u.kind + ":" + ip + ":" + n.hop.to_string();
    u.severity = Severity::high;  // critical when the gateway is configured and so certain
    u.subject_mac = n.hop;
    u.subject = ip;
    u.summary = "Internet traffic from " + packet.ip->src.to_string() + " moved from " +
                n.moved_from.to_string() + " to " + n.hop.to_string() +
                ", which had just claimed " + ip +
                " by ARP (ARP spoofing of the gateway, or a swapped router)";
    u.first_seen = u.last_seen = packet.ts;
    u.evidence = {{"ip", ip},
                  {"expected_mac", n.moved_from.to_string()},
                  {"expected_mac_from", "the device's earlier internet traffic"},
                  {"new_mac", n.hop.to_string()},
                  {"arp", n.moved_claim.how},
                  {"device_mac", packet.src_mac.to_string()},
                  {"device_ip", packet.ip->src.to_string()},
                  {"vlan", packet.vlan}};
    emit(std::move(u));
}

bool LanHygiene::is_shared(const IpAddress& a) const {
    return std::find(settings_.shared_addresses.begin(), settings_.shared_addresses.end(), a) !=
           settings_.shared_addresses.end();
}

Timestamp LanHygiene::device_first_seen(const Host& h) const {
    auto it = settings_.known_devices.find(h.key.mac.as_u64());
    return it == settings_.known_devices.end() ? h.first_seen : std::min(it->second, h.first_seen);
}

void LanHygiene::on_packet(const Packet& packet, PacketContext& context) {
    if (!started_) {
        started_ = true;
        if (!settings_.first_packet_ever) {
            settings_.first_packet_ever = packet.ts;
            if (settings_.record_first_packet) settings_.record_first_packet(packet.ts);
        }
        learning_ends_ = *settings_.first_packet_ever + settings_.learning_period;
        minute_start_ = packet.ts;
        newcomers_at_minute_start_ = hosts_.newcomers();
        evictions_at_minute_start_ = hosts_.evictions();
        refused_at_minute_start_ = hosts_.refused();
        next_scan_ = packet.ts + kScanInterval;
    }
    if (packet.arp) return on_arp(packet);
    if (settings_.gateway_ip && !settings_.gateway_mac && packet.ip) learn_next_hop(packet);
    if (!settings_.gateway_ip && packet.ip) watch_next_hop(packet);
    if (packet.udp && packet.udp->src_port == dhcp::kServerPort &&
        packet.udp->dst_port == dhcp::kClientPort)
        on_dhcp_reply(packet, context);
}

void LanHygiene::emit(AlertUpdate update) {
    // One update per key per kThrottle; what happens in between is counted and sent later.
    auto it = throttle_.find(update.key);
    if (it != throttle_.end() && update.last_seen < it->second.sent + kThrottle) {
        it->second.pending += update.count;
        it->second.last = std::move(update);
        return;
    }
    if (throttle_.size() >= kMaxThrottleKeys) flush_throttled(INT64_MAX, true);
    Throttled& t = throttle_[update.key];
    t.sent = update.last_seen;
    t.pending = 0;
    t.last = update;
    sink_.alert(std::move(update));
}

void LanHygiene::flush_throttled(Timestamp now, bool all) {
    for (auto it = throttle_.begin(); it != throttle_.end();) {
        Throttled& t = it->second;
        if (t.pending > 0 && (all || now >= t.sent + kThrottle)) {
            AlertUpdate u = t.last;
            u.count = t.pending;
            t.pending = 0;
            t.sent = now == INT64_MAX ? u.last_seen : now;
            sink_.alert(std::move(u));
        }
        // Keys quiet for a while are dropped; the store keeps the alert.
        if (all || (t.pending == 0 && now != INT64_MAX && now > t.sent + 10 * kMinute))
            it = throttle_.erase(it);
        else
            ++it;
    }
}

void LanHygiene::on_arp(const Packet& packet) {
    const ArpView& arp = *packet.arp;
    if (arp.sender_ip.is_unspecified() || !usable_mac(arp.sender_mac)) return;
    const char* how = arp.is_gratuitous() ? "gratuitous-arp"
                      : arp.opcode == 2   ? "arp-reply"
                                          : "arp-request";
    if (settings_.gateway_ip && arp.sender_ip == *settings_.gateway_ip) {
        if (!settings_.gateway_mac) {
            settings_.gateway_mac = arp.sender_mac;
            gateway_mac_from_ = "learned from ARP";
            if (settings_.record_gateway) settings_.record_gateway(arp.sender_mac);
            return;
        }
        if (arp.sender_mac == *settings_.gateway_mac) return;
        AlertUpdate u;
        u.kind = "gateway-mac-change";
        std::string ip = arp.sender_ip.to_string();
        u.key = u.kind + ":" + ip + ":" + arp.sender_mac.to_string();
        u.severity = Severity::critical;
        u.subject_mac = arp.sender_mac;
        u.subject = ip;
        u.summary = "The gateway " + ip + " was claimed by " + arp.sender_mac.to_string() +
                    " instead of " + settings_.gateway_mac->to_string() +
                    " (ARP spoofing or a swapped router)";
        u.first_seen = u.last_seen = packet.ts;
        u.evidence = {{"ip", ip},
                      {"expected_mac", settings_.gateway_mac->to_string()},
                      {"expected_mac_from", gateway_mac_from_},
                      {"new_mac", arp.sender_mac.to_string()},
                      {"arp", how},
                      {"vlan", packet.vlan}};
        emit(std::move(u));
        return;
    }
    if (!settings_.gateway_ip && arp.sender_ip.is_v4())
        arp_claims_.insert(
            arp.sender_mac.as_u64(), ArpClaim{arp.sender_ip, packet.ts, how},
            [](const ArpClaim& a, const ArpClaim& b) { return a.ts < b.ts; }, [](auto&, auto&) {});
    claim(arp.sender_ip, arp.sender_mac, how, packet.ts);
}

void LanHygiene::claim(const IpAddress& ip, const MacAddress& mac, const char* how, Timestamp ts) {
    if (!ip.is_v4() || is_shared(ip)) return;
    std::uint32_t key = ip.v4_host_order();
    auto it = claims_.find(key);
    if (it == claims_.end()) {
        if (claims_.size() >= kMaxClaims) {
            claims_.erase(claims_.begin());  // any one: the cap matters, not which goes
            ++claim_evictions_;
        }
        claims_.emplace(key, Claim{mac, ts, {}, 0, 0, 0, 0});
        return;
    }
    Claim& c = it->second;
    if (c.mac == mac) {
        c.last = ts;
        // Still in conflict while the other claimant was heard within the window.
        if (c.conflict_since == 0 || ts - c.other_last > settings_.ip_conflict_window) {
            c.conflict_since = 0;
            return;
        }
    } else {
        if (ts - c.last > settings_.ip_conflict_window) {
            // The address moved to another device (a new lease): not a conflict.
            c = Claim{mac, ts, {}, 0, 0, 0, 0};
            return;
        }
        c.other = c.mac;
        c.other_last = c.last;
        c.mac = mac;
        c.last = ts;
        if (c.conflict_since == 0) c.conflict_since = ts;
    }
    // A stream of conflicting claims (an ARP flood, two devices fighting) is one alert updated
    // at most once a second per address; the claims in between are added to its count.
    ++c.pending;
    c.last_how = how;
    if (c.alerted != 0 && ts - c.alerted < kMicrosPerSecond) return;
    report_conflict(ip, c, ts);
}

void LanHygiene::report_conflict(const IpAddress& ip, Claim& c, Timestamp ts) {
    std::string text = ip.to_string();
    bool lasting = ts - c.conflict_since >= kMinute;
    AlertUpdate u;
    u.kind = "ip-conflict";
    u.key = u.kind + ":" + text;
    u.severity = lasting ? Severity::high : Severity::medium;
    u.subject_mac = c.mac;
    u.subject = text;
    u.summary =
        "Two devices claim " + text + ": " + c.other.to_string() + " and " + c.mac.to_string();
    u.first_seen = c.conflict_since;
    u.last_seen = ts;
    u.count = c.pending;
    u.evidence = {{"ip", text},
                  {"macs", {c.other.to_string(), c.mac.to_string()}},
                  {"last_claim", c.last_how},
                  {"conflict_seconds", (ts - c.conflict_since) / kMicrosPerSecond}};
    c.pending = 0;
    c.alerted = ts;
    emit(std::move(u));
}

void LanHygiene::on_dhcp_reply(const Packet& packet, PacketContext& context) {
    const dhcp::Message* m = context.dhcp();
    if (!m || m->op != 2) return;
    if (m->message_type != dhcp::kOffer && m->message_type != dhcp::kAck) return;
    IpAddress server = m->server_id ? *m->server_id : packet.ip->src;
    if (settings_.dhcp_servers.empty()) {
        // Nothing configured and no gateway: the first server heard is taken as the clinic's.
        settings_.dhcp_servers.push_back(server);
    }
    bool approved = std::find(settings_.dhcp_servers.begin(), settings_.dhcp_servers.end(),
                              server) != settings_.dhcp_servers.end();
    if (approved) {
        if (!settings_.gateway_ip && !m->routers.empty()) settings_.gateway_ip = m->routers[0];
    } else {
        std::string ip = server.to_string();
        AlertUpdate u;
        u.kind = "rogue-dhcp";
        u.key = u.kind + ":" + ip;
        u.severity = Severity::high;
        u.subject_mac = packet.src_mac;
        u.subject = ip;
        u.summary = "DHCP server " + ip +
                    (packet.src_mac.is_zero() ? "" : " (" + packet.src_mac.to_string() + ")") +
                    " is not an approved one: it hands out addresses and routes";
        u.first_seen = u.last_seen = packet.ts;
        auto list = [](const std::vector<IpAddress>& v) {
            auto a = nlohmann::json::array();
            for (const auto& x : v) a.push_back(x.to_string());
            return a;
        };
        u.evidence = {{"server_ip", ip},
                      {"server_mac", packet.src_mac.is_zero() ? "" : packet.src_mac.to_string()},
                      {"message", std::string(dhcp::message_type_name(m->message_type))},
                      {"offered_ip", m->yiaddr.to_string()},
                      {"client_mac", m->chaddr_is_ethernet ? m->chaddr.to_string() : ""},
                      {"router_option", list(m->routers)},
                      {"dns_option", list(m->dns_servers)},
                      {"approved_servers", list(settings_.dhcp_servers)}};
        emit(std::move(u));
    }
    if (m->message_type == dhcp::kAck && m->chaddr_is_ethernet && usable_mac(m->chaddr) &&
        !m->yiaddr.is_unspecified())
        claim(m->yiaddr, m->chaddr, "dhcp-ack", packet.ts);
}

void LanHygiene::on_tick(Timestamp now) {
    if (!started_) return;
    check_flood(now);
    if (now >= next_scan_) {
        next_scan_ = now + kScanInterval;
        check_unregistered(now, false);
        flush_randomized(now);
        flush_throttled(now, false);
        record_next_hops(now, false);
    }
}

void LanHygiene::on_finish(Timestamp now) {
    if (!started_) return;
    check_flood(now);
    check_unregistered(now, true);
    flush_randomized(now);
    // Conflicting claims held back by the once-a-second limit are counted in.
    for (auto& [address, c] : claims_)
        if (c.pending > 0 && c.conflict_since != 0)
            report_conflict(IpAddress::v4(address), c, c.last);
    flush_throttled(now, true);
    record_next_hops(now, true);
}

void LanHygiene::check_unregistered(Timestamp now, bool final) {
    if (now < learning_ends_) return;
    if (now - unregistered_minute_ >= kMinute) {
        unregistered_minute_ = now;
        unregistered_this_minute_ = 0;
    }
    hosts_.for_each([&](Host& h) {
        if (h.registered || h.unregistered_alerted) return;
        if (!final && now - h.first_seen < settings_.unregistered_settle) return;
        // Discovered during the learning period: recorded, not alerted.
        if (device_first_seen(h) < learning_ends_) {
            h.unregistered_alerted = true;
            return;
        }
        // Devices of a MAC flood are reported by the mac-flood alert, not one by one.
        if (flooding_ ||
            (flood_start_ != 0 && h.first_seen >= flood_start_ && h.first_seen <= flood_end_)) {
            h.unregistered_alerted = true;
            return;
        }
        if (h.randomized_mac && !settings_.alert_each_randomized) {
            h.unregistered_alerted = true;
            ++randomized_count_;
            randomized_dirty_ = true;
            if (randomized_devices_.size() < kMaxRandomizedListed) {
                const Observed* a = h.first_address();
                randomized_devices_.push_back({{"mac", h.key.mac.to_string()},
                                               {"name", first_name(h)},
                                               {"address", a ? a->value : ""}});
            }
            return;
        }
        if (unregistered_this_minute_ >= settings_.max_new_macs_per_minute) return;
        ++unregistered_this_minute_;
        h.unregistered_alerted = true;
        std::string mac = h.key.mac.to_string();
        const Observed* a = h.first_address();
        std::string name = first_name(h);
        AlertUpdate u;
        u.kind = "unregistered-device";
        u.key = u.kind + ":" + mac + (h.key.vlan ? ":" + std::to_string(h.key.vlan) : "");
        u.severity = h.randomized_mac ? Severity::low : Severity::medium;
        u.subject_mac = h.key.mac;
        u.subject = mac;
        u.summary = "Device not in the register: " + mac +
                    (h.vendor.empty() ? "" : " (" + h.vendor + ")") +
                    (name.empty() ? "" : " " + name) + (a ? " at " + a->value : "");
        u.first_seen = h.first_seen;
        u.last_seen = h.last_seen;
        u.evidence = {{"mac", mac},
                      {"vlan", h.key.vlan},
                      {"vendor", h.vendor},
                      {"randomized_mac", h.randomized_mac},
                      {"first_address", a ? a->value : ""},
                      {"addresses", observed_values(h.addresses)},
                      {"names", observed_values(h.names)},
                      {"first_seen_us", h.first_seen}};
        sink_.alert(std::move(u));
    });
}

void LanHygiene::start_randomized_day(std::int64_t day) {
    randomized_day_ = day;
    randomized_devices_.clear();
    randomized_count_ = 0;
    auto stored = settings_.randomized_summaries.find(day_text(day));
    if (stored == settings_.randomized_summaries.end()) return;
    const nlohmann::json& e = stored->second;
    if (e.contains("devices_total") && e["devices_total"].is_number_unsigned())
        randomized_count_ = e["devices_total"].get<std::uint64_t>();
    if (e.contains("devices") && e["devices"].is_array())
        for (const auto& d : e["devices"])
            if (randomized_devices_.size() < kMaxRandomizedListed) randomized_devices_.push_back(d);
}

nlohmann::json LanHygiene::randomized_evidence() const {
    return {{"date", day_text(randomized_day_)},
            {"devices_total", randomized_count_},
            {"devices", randomized_devices_}};
}

std::map<std::string, nlohmann::json> LanHygiene::randomized_summary() const {
    if (randomized_day_ < 0 || randomized_count_ == 0) return {};
    return {{day_text(randomized_day_), randomized_evidence()}};
}

void LanHygiene::flush_randomized(Timestamp now) {
    std::int64_t day = local_day_number(now);
    if (day != randomized_day_ && !randomized_dirty_) start_randomized_day(day);
    if (!randomized_dirty_) return;
    randomized_dirty_ = false;
    std::string date = day_text(randomized_day_);
    AlertUpdate u;
    u.kind = "unregistered-device";
    u.key = u.kind + ":randomized:" + date;
    u.severity = Severity::low;
    u.subject = "randomised-MAC devices";
    u.summary = std::to_string(randomized_count_) +
                " devices with randomised (private) MACs, e.g. staff phones, were not in the "
                "register on " +
                date;
    u.first_seen = u.last_seen = now;
    u.count = 1;
    u.evidence = randomized_evidence();
    sink_.alert(std::move(u));
    if (day != randomized_day_) start_randomized_day(day);
}

void LanHygiene::check_flood(Timestamp now) {
    std::uint64_t newcomers = hosts_.newcomers() - newcomers_at_minute_start_;
    bool minute_over = now - minute_start_ >= kMinute;
    if (newcomers > settings_.max_new_macs_per_minute || (flooding_ && minute_over)) {
        if (!flooding_) {
            flooding_ = true;
            flood_start_ = minute_start_;
            flood_evictions_start_ = evictions_at_minute_start_;
            flood_refused_start_ = refused_at_minute_start_;
            flood_peak_ = 0;
        }
        flood_peak_ = std::max(flood_peak_, newcomers);
        flood_end_ = now;
        bool ended = minute_over && newcomers <= settings_.max_new_macs_per_minute;
        AlertUpdate u;
        u.kind = "mac-flood";
        u.key = u.kind + ":" + std::to_string(flood_start_);
        u.severity = Severity::high;
        u.subject = "LAN";
        u.summary = "MAC flood: up to " + std::to_string(flood_peak_) +
                    " new MAC addresses per minute (limit " +
                    std::to_string(settings_.max_new_macs_per_minute) +
                    "); the host table holds its cap of " + std::to_string(hosts_.capacity()) +
                    " and admits a new MAC only when it sends again";
        u.first_seen = flood_start_;
        u.last_seen = now;
        u.count = 0;  // the evidence carries the numbers; count stays the number of incidents
        u.evidence = {{"new_macs_last_minute", newcomers},
                      {"peak_new_macs_per_minute", flood_peak_},
                      {"limit_per_minute", settings_.max_new_macs_per_minute},
                      {"host_table_size", hosts_.size()},
                      {"host_table_capacity", hosts_.capacity()},
                      {"evictions_during_flood", hosts_.evictions() - flood_evictions_start_},
                      {"evictions_total", hosts_.evictions()},
                      {"frames_refused_during_flood", hosts_.refused() - flood_refused_start_},
                      {"frames_refused_total", hosts_.refused()}};
        u.ended = ended;
        if (!flood_alerted_) u.count = 1;
        flood_alerted_ = true;
        // While the flood lasts, at most one update a minute (and the first at once).
        if (minute_over || u.count == 1) sink_.alert(std::move(u));
        if (ended) {
            flooding_ = false;
            flood_alerted_ = false;
        }
    }
    if (minute_over) {
        minute_start_ = now;
        newcomers_at_minute_start_ = hosts_.newcomers();
        evictions_at_minute_start_ = hosts_.evictions();
        refused_at_minute_start_ = hosts_.refused();
    }
}

}  // namespace clinicwatch
