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
        // Idle flows go every few seconds: a sweep reads the whole table.
        if (tick >= next_flow_expiry_) {
            app_.flows().expire(tick);
            next_flow_expiry_ = tick + kFlowExpiryInterval;
        }
    }
    // Every unicast sender on the segment is a device (multicast sources are invalid, and a zero
    // MAC comes from broken or cooked captures without an address).
    if (!packet.src_mac.is_multicast() && !packet.src_mac.is_zero()) {
        if (Host* h = hosts_.touch(packet.src_mac, packet.vlan, packet.ts)) {
            ++h->frames;
            h->bytes += packet.wire_length;
        }
    }
    PacketContext& context = app_.begin(packet);
    for (auto& a : analyzers_) a->on_packet(packet, context);
}

void Dispatcher::table_use(std::vector<TableUse>& out) const {
    app_.flows().table_use(out);
    for (const auto& a : analyzers_) a->table_use(out);
}

void Dispatcher::finish() {
    for (auto& a : analyzers_) a->on_finish(now_);
}

}  // namespace clinicwatch
