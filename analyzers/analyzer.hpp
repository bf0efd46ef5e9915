// The interface every analyzer implements. Analyzers see each decoded packet once, in capture
// order, on the analysis thread; time is packet time.
#pragma once

#include <string_view>

#include "capture/packet.hpp"

namespace clinicwatch {

class Analyzer {
  public:
    virtual ~Analyzer() = default;
    virtual std::string_view name() const = 0;
    virtual void on_packet(const Packet& packet) = 0;
    // Called when packet time crosses a whole second (at most once per second of packet time,
    // and also across gaps), so analyzers can close windows and incidents.
    virtual void on_tick(Timestamp now) { (void)now; }
    // End of input (replay finished, or the daemon stops): flush partial windows.
    virtual void on_finish(Timestamp now) { (void)now; }
};

}  // namespace clinicwatch
