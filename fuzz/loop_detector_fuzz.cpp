// Frames of any shape through decode and the loop detector: records of [length u8][time step
// u8 (ms)][bytes]. A small signature table and low thresholds make eviction, incidents, storms
// and STP episodes happen on short inputs.
#include <cstddef>
#include <cstdint>

#include "analyzers/findings.hpp"
#include "analyzers/loop_detector.hpp"
#include "analyzers/packet_context.hpp"

namespace {
struct CountingSink : clinicwatch::FindingSink {
    std::size_t bytes = 0;
    void alert(clinicwatch::AlertUpdate u) override { bytes += u.evidence.dump().size(); }
    void minute(const clinicwatch::MinuteStats&) override {}
};
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    using namespace clinicwatch;
    CountingSink sink;
    LoopDetectorSettings s;
    s.table_capacity = 64;
    s.repeat_threshold = 3;
    s.storm_floor = 5;
    s.storm_seconds = 1;
    s.arp_host_floor = 2;
    s.arp_lan_floor = 2;
    s.loop_detect_frames.push_back({"test", std::nullopt, 0x9000, "fuzz"});
    LoopDetector detector(sink, s);
    Packet packet;
    ApplicationLayer app;
    Timestamp ts = 1'700'000'000LL * kMicrosPerSecond;
    std::size_t pos = 0;
    while (pos + 2 <= size) {
        std::size_t len = data[pos];
        ts += Timestamp{data[pos + 1]} * 1000;
        pos += 2;
        if (len > size - pos) len = size - pos;
        decode_packet(LinkType::ethernet, ts, static_cast<std::uint32_t>(len),
                      Bytes(data + pos, len), packet);
        detector.on_packet(packet, app.begin(packet));
        if ((data[pos - 1] & 0x0f) == 0x0f)
            detector.on_tick(ts / kMicrosPerSecond * kMicrosPerSecond);
        pos += len;
    }
    detector.on_finish(ts + 100 * kMicrosPerSecond);
    return 0;
}
