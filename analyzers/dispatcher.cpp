#include "analyzers/dispatcher.hpp"

namespace clinicwatch {

void Dispatcher::on_packet(const Packet& packet) {
    ++packets_;
    if (!packet.decoded()) ++undecodable_;
    // Packet time only moves forward here: a capture with a slightly out-of-order frame must not
    // make ticks run backwards.
    if (packet.ts > now_) now_ = packet.ts;
    if (next_tick_ == 0) next_tick_ = (now_ / kMicrosPerSecond + 1) * kMicrosPerSecond;
    if (now_ >= next_tick_) {
        Timestamp tick = now_ / kMicrosPerSecond * kMicrosPerSecond;
        for (auto& a : analyzers_) a->on_tick(tick);
        next_tick_ = tick + kMicrosPerSecond;
    }
    // Every unicast sender on the segment is a device (multicast sources are invalid, and a zero
    // MAC comes from broken or cooked captures without an address).
    if (!packet.src_mac.is_multicast() && !packet.src_mac.is_zero()) {
        if (Host* h = hosts_.touch(packet.src_mac, packet.vlan, packet.ts)) {
            ++h->frames;
            h->bytes += packet.wire_length;
        }
    }
    for (auto& a : analyzers_) a->on_packet(packet);
}

void Dispatcher::finish() {
    for (auto& a : analyzers_) a->on_finish(now_);
}

}  // namespace clinicwatch
