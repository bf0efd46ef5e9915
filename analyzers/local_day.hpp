#pragma once
// The clinic's local day ("2026-11-20") of a packet time, cached: analyzers that keep per-day
// rows ask it for every finding, and localtime_r is too slow for the packet path.

#include <ctime>
#include <string>

#include "capture/packet.hpp"

namespace clinicwatch {

class LocalDay {
  public:
    const std::string& of(Timestamp ts) {
        if (ts >= start_ && ts < end_ && !day_.empty()) return day_;
        std::time_t secs = static_cast<std::time_t>(ts / kMicrosPerSecond);
        std::tm tm{};
        localtime_r(&secs, &tm);
        char buf[16];
        std::strftime(buf, sizeof buf, "%Y-%m-%d", &tm);
        day_ = buf;
        Timestamp since_midnight = (tm.tm_hour * 3600 + tm.tm_min * 60 + tm.tm_sec);
        start_ = (static_cast<Timestamp>(secs) - since_midnight) * kMicrosPerSecond;
        // A DST change makes a day 23 or 25 hours long; recomputing an hour early is harmless.
        end_ = start_ + 23 * 3600 * kMicrosPerSecond;
        return day_;
    }

  private:
    std::string day_;
    Timestamp start_ = 0, end_ = 0;
};

}  // namespace clinicwatch
