#include "analyzers/traffic_stats.hpp"

namespace clinicwatch {

namespace {
constexpr Timestamp kMinute = 60 * kMicrosPerSecond;
}

TrafficStats::TrafficStats(FindingSink& sink, std::function<DropCounters()> drops)
    : sink_(sink), drops_(std::move(drops)) {
    if (drops_) last_drops_ = drops_();
}

void TrafficStats::on_packet(const Packet& packet, PacketContext& /*context*/) {
    Timestamp minute = packet.ts / kMinute * kMinute;
    if (!open_) {
        current_ = MinuteStats{};
        current_.minute = minute;
        open_ = true;
    } else if (minute > current_.minute) {
        close_minute();
        current_ = MinuteStats{};
        current_.minute = minute;
        open_ = true;
    }
    ++current_.frames;
    current_.bytes += packet.wire_length;
    current_.broadcast_frames += packet.l2_broadcast;
    current_.multicast_frames += packet.l2_multicast;
    current_.undecodable_frames += !packet.decoded();
    std::uint64_t sender = packet.src_mac.as_u64();
    if (sender != last_sender_ && !packet.src_mac.is_multicast()) {
        last_sender_ = sender;
        if (active_.size() < kMaxTrackedHostsPerMinute) active_.insert(sender);
    }
}

void TrafficStats::on_tick(Timestamp now) {
    // A quiet network still closes its minute on time.
    if (open_ && now >= current_.minute + kMinute) close_minute();
}

void TrafficStats::on_finish(Timestamp) {
    if (open_) close_minute();
}

void TrafficStats::close_minute() {
    if (drops_) {
        DropCounters d = drops_();
        current_.capture_drops = d.capture_drops - last_drops_.capture_drops;
        current_.ring_drops = d.ring_drops - last_drops_.ring_drops;
        last_drops_ = d;
    }
    current_.active_hosts = active_.size();
    sink_.minute(current_);
    active_.clear();
    last_sender_ = ~0ULL;
    open_ = false;
}

}  // namespace clinicwatch
