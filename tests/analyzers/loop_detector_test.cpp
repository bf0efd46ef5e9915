// The loop detector on synthetic traffic built frame by frame: a loop burst, mirror duplicates,
// steady broadcast chatter, a flood of distinct broadcasts, storms and STP topology changes.
#include "analyzers/loop_detector.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <iostream>
#include <set>

#include "tests/analyzers/loop_frames.hpp"

using namespace clinicwatch;
using namespace clinicwatch::test;

namespace {

constexpr Timestamp kS = kMicrosPerSecond;
constexpr Timestamp kT0 = 1'763'600'000LL * kS;  // 2025-11-20, any fixed time will do

struct Event {
    Timestamp ts;
    Frame frame;
};

// Normal broadcast chatter: ARP (each request sent three times, as Windows retries), NBNS
// queries and SSDP searches from 20 hosts; frame i of a run at `rate` frames/s.
Frame chatter(std::uint64_t i) {
    std::uint64_t host = i % 20;
    std::uint64_t mac = 0x00155d000100ULL + host;
    std::uint32_t ip = 0xc0a86414u + static_cast<std::uint32_t>(host);  // 192.168.100.20+
    switch (i % 3) {
        case 0:
            return arp_request(mac, ip,
                               0xc0a86400u + static_cast<std::uint32_t>((i / 180) % 200 + 30));
        case 1:
            return nbns_query(mac, ip, static_cast<std::uint16_t>(i),
                              "HOST" + std::to_string(i % 37), static_cast<std::uint16_t>(i));
        default:
            return ssdp_msearch(mac, ip, static_cast<std::uint16_t>(50000 + i % 1000), "ssdp:all",
                                static_cast<std::uint16_t>(i));
    }
}

void add_chatter(std::vector<Event>& ev, Timestamp from, Timestamp to, int rate) {
    Timestamp step = kS / rate;
    std::uint64_t i = static_cast<std::uint64_t>(from / step);
    for (Timestamp t = from; t < to; t += step) ev.push_back({t, chatter(i++)});
}

// The loop: five broadcast/multicast frames repeated byte for byte, `rate` frames/s in all.
std::vector<Frame> loop_frames() {
    return {
        arp_request(0x3c2af4000003ULL, 0xc0a8641fu, 0xc0a86432u),
        nbns_query(0x00e04c000009ULL, 0xc0a86428u, 0x8123, "NAS01", 0x1234),
        ssdp_msearch(0x3c2af4000005ULL, 0xc0a86421u, 51234, "ssdp:all", 0x2222),
        nbns_query(0x000c29000011ULL, 0xc0a86429u, 0x0042, "EHR-SRV", 0x0777),
        ssdp_msearch(0x00e04c000009ULL, 0xc0a86428u, 49152, "upnp:rootdevice", 0x3333),
    };
}

void add_loop(std::vector<Event>& ev, Timestamp from, Timestamp to, int rate) {
    auto frames = loop_frames();
    Timestamp step = kS / rate;
    std::uint64_t i = 0;
    for (Timestamp t = from; t < to; t += step, ++i)
        ev.push_back({t + static_cast<Timestamp>(i % 7) * 3, frames[i % frames.size()]});
}

void run(LoopHarness& h, std::vector<Event>& ev, bool twice = false) {
    std::stable_sort(ev.begin(), ev.end(),
                     [](const Event& a, const Event& b) { return a.ts < b.ts; });
    for (const auto& e : ev) {
        h.feed(e.ts, e.frame);
        if (twice) h.feed(e.ts + 5, e.frame);
    }
    h.finish();
}

std::set<std::string> incident_kinds(const RecordingSink& sink) {
    std::set<std::string> kinds;
    for (const auto& r : sink.raised)
        if (r.update.kind == "l2-loop" || r.update.kind == "broadcast-storm" ||
            r.update.kind == "arp-storm")
            kinds.insert(r.update.kind);
    return kinds;
}

}  // namespace

TEST(LoopDetector, SignatureSeesBytesAndLength) {
    Frame a = arp_request(0x001122334455ULL, 0xc0a86401u, 0xc0a86402u);
    Frame b = a;
    EXPECT_EQ(LoopDetector::signature(a, 60), LoopDetector::signature(b, 60));
    b[41] ^= 1;
    EXPECT_NE(LoopDetector::signature(a, 60), LoopDetector::signature(b, 60));
    EXPECT_NE(LoopDetector::signature(a, 60), LoopDetector::signature(a, 61));
    EXPECT_NE(LoopDetector::signature(Bytes(a).first(10), 60), 0u);
}

TEST(LoopDetector, LoopBurstIsOneIncidentAlertedFastAndEnded) {
    const Timestamp loop_start = kT0 + 20 * kS + 123'456, loop_end = loop_start + 10 * kS;
    std::vector<Event> ev;
    add_chatter(ev, kT0, kT0 + 60 * kS, 50);
    add_loop(ev, loop_start, loop_end, 4000);
    // The Allied Telesis core switch: config BPDUs every 2 s, with TC while the loop settles.
    for (Timestamp t = kT0 + 700'000; t < kT0 + 60 * kS; t += 2 * kS) {
        bool tc = t >= loop_start + 400'000 && t < loop_start + 35 * kS;
        ev.push_back({t, config_bpdu(0x0000f4000011ULL, 0x0000f4000010ULL, tc ? 0x01 : 0x00)});
    }
    LoopHarness h;
    run(h, ev);

    auto loops = h.sink.of_kind("l2-loop");
    ASSERT_FALSE(loops.empty());
    const auto& first = loops.front();
    EXPECT_EQ(first.update.severity, Severity::critical);
    EXPECT_LE(first.at, loop_start + 2 * kS) << "alerted late";
    EXPECT_GE(first.update.first_seen, loop_start);
    EXPECT_LE(first.update.first_seen, loop_start + kS);
    // One incident: every update shares the key, and updates are not per packet or per second.
    for (const auto& r : loops) EXPECT_EQ(r.update.key, first.update.key);
    EXPECT_NE(first.update.key.find(std::to_string(first.update.first_seen)), std::string::npos);
    EXPECT_LE(loops.size(), 6u);
    const auto& last = loops.back();
    ASSERT_TRUE(last.update.ended);
    EXPECT_EQ(
        std::count_if(loops.begin(), loops.end(), [](const auto& r) { return r.update.ended; }), 1);
    EXPECT_LE(last.at, loop_end + 10 * kS) << "ended late";
    EXPECT_NEAR(static_cast<double>(last.update.last_seen), static_cast<double>(loop_end),
                1.0 * kS);

    const auto& evd = last.update.evidence;
    if (std::getenv("LOOP_DUMP")) std::cerr << last.update.summary << "\n" << evd.dump(1) << "\n";
    EXPECT_NEAR(evd["peak_repeated_frames_per_second"].get<double>(), 4000, 200);
    EXPECT_GE(evd["peak_broadcast_frames_per_second"].get<double>(), 4000);
    EXPECT_NEAR(evd["duration_s"].get<double>(), 10, 1);
    EXPECT_NEAR(evd["repeated_frames"].get<double>(), 40000, 400);
    // The sum of counts over the updates is the number of repeated frames.
    std::uint64_t counted = 0;
    for (const auto& r : loops) counted += r.update.count;
    EXPECT_EQ(counted, evd["repeated_frames"].get<std::uint64_t>());
    const auto& top = evd["top_repeated_frames"];
    ASSERT_EQ(top.size(), 5u);
    std::set<std::string> sources;
    for (const auto& f : top) {
        sources.insert(f["src_mac"].get<std::string>());
        EXPECT_NEAR(f["copies"].get<double>(), 8000, 100);
        EXPECT_EQ(f["preview_hex"].get<std::string>().size(), 32u * 3 - 1);
    }
    EXPECT_EQ(sources, (std::set<std::string>{"3c:2a:f4:00:00:03", "00:e0:4c:00:00:09",
                                              "3c:2a:f4:00:00:05", "00:0c:29:00:00:11"}));
    EXPECT_EQ(top[0]["protocol"].size() > 0, true);
    ASSERT_EQ(evd["stp_topology_changes"].size(), 1u);
    EXPECT_EQ(evd["stp_topology_changes"][0]["bridge"], "32768/00:00:f4:00:00:10");

    // The storm is the loop's: no separate broadcast-storm alert, no ARP storm from the one
    // looping ARP request.
    EXPECT_TRUE(h.sink.of_kind("broadcast-storm").empty());
    EXPECT_TRUE(h.sink.of_kind("arp-storm").empty());
    EXPECT_EQ(h.detector->stats().incidents, 1u);

    auto stp = h.sink.of_kind("stp-topology-change");
    ASSERT_FALSE(stp.empty());
    EXPECT_EQ(stp.front().update.severity, Severity::medium);
    EXPECT_EQ(stp.front().update.subject_mac->to_string(), "00:00:f4:00:00:11");
    for (const auto& r : stp) EXPECT_EQ(r.update.key, stp.front().update.key);
    EXPECT_TRUE(stp.back().update.ended);
}

TEST(LoopDetector, FramesSeenTwiceAreNotALoop) {
    std::vector<Event> ev;
    add_chatter(ev, kT0, kT0 + 30 * kS, 500);
    LoopHarness h;
    run(h, ev, /*twice=*/true);
    EXPECT_TRUE(incident_kinds(h.sink).empty());
    EXPECT_EQ(h.detector->stats().incidents, 0u);
    // Reported instead as a capture artefact, at low severity.
    auto dup = h.sink.of_kind("duplicate-capture");
    ASSERT_FALSE(dup.empty());
    EXPECT_EQ(dup.front().update.severity, Severity::low);
    EXPECT_EQ(h.detector->stats().duplicate_captures, 15000u);
}

TEST(LoopDetector, SteadyBroadcastChatterIsNotAStorm) {
    std::vector<Event> ev;
    add_chatter(ev, kT0, kT0 + 120 * kS, 500);
    LoopHarness h;
    run(h, ev);
    EXPECT_TRUE(incident_kinds(h.sink).empty());
    EXPECT_TRUE(h.sink.of_kind("duplicate-capture").empty());
    EXPECT_NEAR(h.detector->broadcast_baseline(), 500, 5);
}

TEST(LoopDetector, OneChattyDeviceIsNotALoop) {
    // A device resending one identical broadcast 30 times a second for a minute.
    std::vector<Event> ev;
    add_chatter(ev, kT0, kT0 + 60 * kS, 50);
    Frame same = ssdp_msearch(0x0050c2000001ULL, 0xc0a86477u, 1900, "ssdp:all", 7);
    for (Timestamp t = kT0 + 5 * kS; t < kT0 + 65 * kS; t += kS / 30) ev.push_back({t, same});
    LoopHarness h;
    run(h, ev);
    EXPECT_TRUE(incident_kinds(h.sink).empty());
}

TEST(LoopDetector, StateStaysBoundedUnderDistinctBroadcastFlood) {
    LoopDetectorSettings s;
    s.table_capacity = 16384;
    LoopHarness h(s);
    Frame f = arp_request(0x001b21000001ULL, 0xc0a86405u, 0);
    // 1,000,000 distinct ARP requests (target address and sender MAC vary), 100,000/s.
    for (std::uint32_t i = 0; i < 1'000'000; ++i) {
        f[38] = static_cast<std::uint8_t>(i >> 24);
        f[39] = static_cast<std::uint8_t>(i >> 16);
        f[40] = static_cast<std::uint8_t>(i >> 8);
        f[41] = static_cast<std::uint8_t>(i);
        f[11] = f[27] = static_cast<std::uint8_t>(i % 251);
        h.feed(kT0 + i * 10, f);
    }
    h.finish();
    EXPECT_EQ(h.detector->table_capacity(), 16384u);
    EXPECT_EQ(h.detector->table_size(), 16384u);
    EXPECT_GT(h.detector->stats().table_evictions, 900'000u);
    EXPECT_EQ(h.detector->stats().hashed_frames, 1'000'000u);
    // Distinct frames are a storm, not a loop; 251 senders each far above their ARP floor.
    EXPECT_TRUE(h.sink.of_kind("l2-loop").empty());
    auto storms = h.sink.of_kind("broadcast-storm");
    ASSERT_FALSE(storms.empty());
    EXPECT_TRUE(storms.back().update.ended);
    EXPECT_GE(storms.back().update.evidence["peak_broadcast_frames_per_second"].get<double>(),
              99'000);
}

TEST(LoopDetector, BroadcastStormAboveBaselineEnds) {
    std::vector<Event> ev;
    add_chatter(ev, kT0, kT0 + 90 * kS, 50);
    // 30 s in: a DHCP-discover flood of distinct frames, 3000/s for 10 s.
    for (int i = 0; i < 30000; ++i) {
        Frame payload(240, 0);
        payload[0] = 1;
        payload[4] = static_cast<std::uint8_t>(i >> 8);
        payload[5] = static_cast<std::uint8_t>(i);
        ev.push_back({kT0 + 30 * kS + i * (kS / 3000),
                      udp_frame(kBroadcast, 0x00a0de000099ULL, 0, 0xffffffffu, 68, 67, payload,
                                static_cast<std::uint16_t>(i))});
    }
    LoopHarness h;
    run(h, ev);
    auto storms = h.sink.of_kind("broadcast-storm");
    ASSERT_FALSE(storms.empty());
    EXPECT_LE(storms.front().at, kT0 + 34 * kS);
    EXPECT_EQ(storms.front().update.first_seen, kT0 + 30 * kS);
    EXPECT_EQ(storms.front().update.severity, Severity::critical);
    EXPECT_TRUE(storms.back().update.ended);
    EXPECT_LE(storms.back().at, kT0 + 50 * kS);
    EXPECT_NEAR(storms.back().update.evidence["duration_s"].get<double>(), 10, 1.1);
    // The flood plus the chatter (50/s) from its start until it is closed 5 quiet seconds later.
    EXPECT_NEAR(storms.back().update.evidence["broadcast_frames"].get<double>(), 30000 + 750, 100);
    EXPECT_NEAR(storms.back().update.evidence["peak_broadcast_frames_per_second"].get<double>(),
                3050, 60);
    EXPECT_TRUE(h.sink.of_kind("l2-loop").empty());
}

TEST(LoopDetector, ArpStormFromOneHost) {
    std::vector<Event> ev;
    add_chatter(ev, kT0, kT0 + 60 * kS, 50);
    // A host sweeping the subnet: 200 distinct ARP requests a second for 10 s.
    for (int i = 0; i < 2000; ++i)
        ev.push_back({kT0 + 20 * kS + i * (kS / 200),
                      arp_request(0x0011320000aaULL, 0xc0a864c8u,
                                  0x0a000000u + static_cast<std::uint32_t>(i))});
    LoopHarness h;
    run(h, ev);
    auto arp = h.sink.of_kind("arp-storm");
    ASSERT_FALSE(arp.empty());
    EXPECT_EQ(arp.front().update.subject, "00:11:32:00:00:aa");
    EXPECT_TRUE(arp.back().update.ended);
    EXPECT_EQ(arp.back().update.evidence["peak_requests_per_second"], 200);
    EXPECT_TRUE(h.sink.of_kind("l2-loop").empty());
    EXPECT_TRUE(h.sink.of_kind("broadcast-storm").empty());
}

TEST(LoopDetector, StpWithoutTopologyChangeIsQuiet) {
    std::vector<Event> ev;
    for (Timestamp t = kT0; t < kT0 + 60 * kS; t += 2 * kS)
        ev.push_back({t, config_bpdu(0x0000f4000011ULL, 0x0000f4000010ULL, 0)});
    LoopHarness h;
    run(h, ev);
    EXPECT_TRUE(h.sink.raised.empty());
}

TEST(LoopDetector, SwitchLoopDetectionFramesAreEvidence) {
    LoopDetectorSettings s;
    s.loop_detect_frames.push_back(
        {"Allied Telesis", MacAddress::parse("cf:00:00:00:00:00"), 0x9000, "test"});
    std::vector<Event> ev;
    add_chatter(ev, kT0, kT0 + 30 * kS, 50);
    Frame ldf = ethernet(0xcf0000000000ULL, 0x0000f4000012ULL, 0x9000);
    ldf.resize(60, 0x5a);
    // Normally every 2 s; in the loop it comes back 50 times a second with the other frames.
    for (Timestamp t = kT0; t < kT0 + 10 * kS; t += 2 * kS) ev.push_back({t, ldf});
    add_loop(ev, kT0 + 10 * kS, kT0 + 15 * kS, 1000);
    for (Timestamp t = kT0 + 10 * kS; t < kT0 + 15 * kS; t += kS / 50) ev.push_back({t + 1, ldf});
    LoopHarness h(s);
    run(h, ev);
    auto loops = h.sink.of_kind("l2-loop");
    ASSERT_FALSE(loops.empty());
    const auto& ldfs = loops.back().update.evidence["switch_loop_detection_frames"];
    ASSERT_EQ(ldfs.size(), 1u);
    EXPECT_GT(ldfs[0]["count"].get<int>(), 200);
    EXPECT_NE(ldfs[0]["frame"].get<std::string>().find("Allied Telesis"), std::string::npos);
}
