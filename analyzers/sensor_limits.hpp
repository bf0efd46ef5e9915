// Reports the sensor's own limits being reached. Every table the analyzers keep is bounded so
// that hostile traffic (a MAC flood, a scan, millions of destinations) cannot exhaust memory;
// when a table is full the oldest entries go. That is itself a finding: the IT contact and the
// vendor should know the picture may be incomplete, and a full table often means an attack or
// a faulty device. One `sensor-limit` alert per table, updated at most once a minute.
#pragma once

#include <functional>
#include <map>

#include "analyzers/analyzer.hpp"
#include "analyzers/findings.hpp"

namespace clinicwatch {

class SensorLimits final : public Analyzer {
  public:
    // `collect` appends the current use of every bounded table. What was already dropped when
    // this analyzer is made (e.g. before a configuration reload) is not reported again.
    SensorLimits(FindingSink& sink, std::function<void(std::vector<TableUse>&)> collect);
    std::string_view name() const override { return "sensor-limits"; }
    void on_packet(const Packet&, PacketContext&) override {}
    void on_tick(Timestamp now) override;
    void on_finish(Timestamp now) override { check(now); }

    static constexpr Timestamp kInterval = 60 * kMicrosPerSecond;

  private:
    void check(Timestamp now);

    FindingSink& sink_;
    std::function<void(std::vector<TableUse>&)> collect_;
    std::map<std::string, std::uint64_t> reported_;  // table -> dropped count already reported
    Timestamp next_check_ = 0;
};

}  // namespace clinicwatch
