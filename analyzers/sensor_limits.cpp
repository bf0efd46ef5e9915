#include "analyzers/sensor_limits.hpp"

namespace clinicwatch {

SensorLimits::SensorLimits(FindingSink& sink, std::function<void(std::vector<TableUse>&)> collect)
    : sink_(sink), collect_(std::move(collect)) {
    std::vector<TableUse> now;
    collect_(now);
    for (const TableUse& t : now) reported_[t.table] = t.dropped;
}

void SensorLimits::on_tick(Timestamp now) {
    if (next_check_ == 0) next_check_ = now + kInterval;
    if (now < next_check_) return;
    next_check_ = now + kInterval;
    check(now);
}

void SensorLimits::check(Timestamp now) {
    std::vector<TableUse> tables;
    collect_(tables);
    for (const TableUse& t : tables) {
        std::uint64_t& reported = reported_[t.table];
        if (t.dropped <= reported) continue;
        AlertUpdate a;
        a.kind = "sensor-limit";
        a.key = "sensor-limit:" + t.table;
        a.severity = Severity::medium;
        a.subject = "sensor: " + t.description;
        a.summary = "the sensor's table of " + t.description + " reached its limit (" +
                    std::to_string(t.capacity) + "); " + std::to_string(t.dropped) +
                    " entries were dropped to keep memory bounded, so this part of the picture "
                    "may be incomplete";
        a.first_seen = a.last_seen = now;
        a.count = t.dropped - reported;
        a.evidence = {{"table", t.table},
                      {"description", t.description},
                      {"capacity", t.capacity},
                      {"dropped_total", t.dropped}};
        reported = t.dropped;
        sink_.alert(std::move(a));
    }
}

}  // namespace clinicwatch
