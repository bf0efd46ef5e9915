// The interface every analyzer implements. Analyzers see each decoded packet once, in capture
// order, on the analysis thread; time is packet time. With the packet comes its PacketContext
// (analyzers/packet_context.hpp): the packet's flow from the one flow table, and its application
// messages parsed once for all analyzers.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "capture/packet.hpp"

namespace clinicwatch {

class PacketContext;
struct Flow;

// One bounded table of an analyzer: its limit and how many entries it has dropped (or refused)
// so far to stay within it. Hostile or unusual traffic fills tables; the sensor reports that
// (see SensorLimits), since the picture may then be incomplete.
struct TableUse {
    std::string table;        // stable identifier, e.g. "boundary-flows"
    std::string description;  // what the table holds, in plain words
    std::uint64_t capacity = 0;
    std::uint64_t dropped = 0;  // monotonic over the analyzer's life
};

class Analyzer {
  public:
    virtual ~Analyzer() = default;
    virtual std::string_view name() const = 0;
    virtual void on_packet(const Packet& packet, PacketContext& context) = 0;
    // Called when packet time crosses a whole second (at most once per second of packet time,
    // and also across gaps), so analyzers can close windows and incidents.
    virtual void on_tick(Timestamp now) { (void)now; }
    // A connection leaves the one flow table (expired, evicted, or its ports reused by a new
    // connection): a unit that keeps state of it elsewhere closes it now.
    virtual void on_flow_end(Flow& flow) { (void)flow; }
    // End of input (replay finished, or the daemon stops): flush partial windows.
    virtual void on_finish(Timestamp now) { (void)now; }
    // Appends this analyzer's bounded tables (none by default).
    virtual void table_use(std::vector<TableUse>& out) const { (void)out; }
};

}  // namespace clinicwatch
