// Each loop unit on its own, with frames built in code (tests/analyzers/loop_frames.hpp) fed
// through decode and a Dispatcher: what the shared FrameRepeats counts, and what each unit
// answers from it. The whole group on loops, storms and captures: loop_detector_test.cpp.
#include <gtest/gtest.h>

#include <set>
#include <stdexcept>

#include "analyzers/arp_storms.hpp"
#include "analyzers/broadcast_rate.hpp"
#include "analyzers/duplicate_capture.hpp"
#include "analyzers/frame_repeats.hpp"
#include "analyzers/loop_storm.hpp"
#include "analyzers/stp_changes.hpp"
#include "tests/analyzers/loop_frames.hpp"

using namespace clinicwatch;
using namespace clinicwatch::test;

namespace {

constexpr Timestamp kS = kMicrosPerSecond;
constexpr Timestamp kT0 = 1'763'600'000LL * kS;

// A Dispatcher over a HostTable with the units a test adds, fed frame by frame.
struct Rig {
    HostTable hosts{1000};
    Dispatcher dispatcher{hosts};
    RecordingSink sink;
    Packet packet;
    Timestamp now = 0;
    Rig() { sink.now = &now; }
    void feed(Timestamp ts, const Frame& f) {
        now = ts;
        decode_packet(LinkType::ethernet, ts, static_cast<std::uint32_t>(f.size()),
                      Bytes(f.data(), f.size()), packet);
        dispatcher.on_packet(packet);
    }
};

// An observer placed after FrameRepeats: what it said about each packet.
class Verdicts final : public Analyzer {
  public:
    explicit Verdicts(const FrameRepeats& r) : repeats_(r) {}
    std::string_view name() const override { return "verdicts"; }
    void on_packet(const Packet& p, PacketContext& /*context*/) override {
        const FrameRepeats::Seen* s = repeats_.seen(p);
        seen.push_back(s ? *s : FrameRepeats::Seen{});
        known.push_back(s != nullptr);
        counts.push_back(s && s->entry ? s->entry->count : 0);
    }
    std::vector<FrameRepeats::Seen> seen;
    std::vector<bool> known;
    std::vector<std::uint32_t> counts;

  private:
    const FrameRepeats& repeats_;
};

}  // namespace

TEST(FrameRepeats, CountsEachFrameOnceAndKeepsClosedSeconds) {
    Rig rig;
    LoopDetectorSettings s;
    auto repeats = std::make_unique<FrameRepeats>(s, &rig.hosts);
    FrameRepeats* r = repeats.get();
    auto verdicts = std::make_unique<Verdicts>(*r);
    Verdicts* v = verdicts.get();
    rig.dispatcher.add(std::move(repeats));
    rig.dispatcher.add(std::move(verdicts));

    Frame request = arp_request(0x3c2af4000003ULL, 0xc0a8641fu, 0xc0a86432u);
    for (int i = 0; i < 5; ++i) rig.feed(kT0 + i * 1000, request);
    // Unicast to a device that has sent (the ARP sender): not flooded, not hashed.
    Frame reply = ethernet(0x3c2af4000003ULL, 0x00e04c000009ULL, 0x0800);
    reply.resize(60, 0);
    rig.feed(kT0 + 9000, reply);
    rig.feed(kT0 + kS + 5, request);  // the next second

    ASSERT_EQ(v->seen.size(), 7u);
    for (bool k : v->known) EXPECT_TRUE(k);
    EXPECT_TRUE(v->seen[0].hashed);
    EXPECT_TRUE(v->seen[0].first_in_window);
    for (int i = 1; i < 5; ++i) {
        EXPECT_FALSE(v->seen[i].first_in_window) << i;
        EXPECT_EQ(v->counts[i], static_cast<std::uint32_t>(i + 1));
        EXPECT_EQ(v->seen[i].sig, v->seen[0].sig);
    }
    EXPECT_FALSE(v->seen[5].hashed);
    EXPECT_EQ(r->hashed_frames(), 6u);
    EXPECT_EQ(r->table_size(), 1u);

    const FrameRepeats::Second first = r->closed(kT0);
    EXPECT_EQ(first.frames, 6u);
    EXPECT_EQ(first.group_frames, 5u);
    EXPECT_EQ(first.last_ts, kT0 + 9000);
    // A second never counted reads as quiet.
    EXPECT_EQ(r->closed(kT0 - 7 * kS).frames, 0u);
    // Another packet object is not the one it judged.
    Packet other;
    EXPECT_EQ(r->seen(other), nullptr);
    EXPECT_EQ(LoopDetector::signature(Bytes(request.data(), request.size()),
                                      static_cast<std::uint32_t>(request.size())),
              v->seen[0].sig);
}

TEST(FrameRepeats, UnknownUnicastIsHashedUntilTheDestinationSpeaks) {
    Rig rig;
    LoopDetectorSettings s;
    auto repeats = std::make_unique<FrameRepeats>(s, &rig.hosts);
    auto verdicts = std::make_unique<Verdicts>(*repeats);
    Verdicts* v = verdicts.get();
    rig.dispatcher.add(std::move(repeats));
    rig.dispatcher.add(std::move(verdicts));
    Frame to_printer = ethernet(0x0080920000aaULL, 0x00155d000101ULL, 0x0800);
    to_printer.resize(60, 1);
    Frame from_printer = ethernet(0x00155d000101ULL, 0x0080920000aaULL, 0x0800);
    from_printer.resize(60, 2);
    rig.feed(kT0, to_printer);         // the switch floods it: nobody has seen 00:80:92:00:00:aa
    rig.feed(kT0 + 10, from_printer);  // now it has spoken
    rig.feed(kT0 + 20, to_printer);
    ASSERT_EQ(v->seen.size(), 3u);
    EXPECT_TRUE(v->seen[0].hashed);
    EXPECT_FALSE(v->seen[2].hashed);
}

TEST(LoopUnits, BuiltInOrderAndLinked) {
    RecordingSink sink;
    LoopDetectorSettings s;
    LoopDetector out_of_order;
    EXPECT_THROW(out_of_order.build("loop-storm", sink, s), std::logic_error);
    EXPECT_THROW(out_of_order.build("duplicate-capture", sink, s), std::logic_error);
    EXPECT_EQ(out_of_order.build("egress", sink, s), nullptr);
    LoopDetector group;
    auto units = group.build_all(sink, s);
    ASSERT_EQ(units.size(), LoopDetector::kUnits.size());
    for (std::size_t i = 0; i < units.size(); ++i) {
        ASSERT_TRUE(units[i]);
        EXPECT_EQ(units[i]->name(), LoopDetector::kUnits[i]);
        EXPECT_TRUE(LoopDetector::is_unit(units[i]->name()));
    }
    EXPECT_FALSE(LoopDetector::is_unit("loop-detector"));
    // The tables the sensor-limit alert watches are still named as before.
    std::set<std::string> tables;
    std::vector<TableUse> use;
    for (const auto& u : units) u->table_use(use);
    for (const auto& t : use) tables.insert(t.table);
    EXPECT_EQ(tables,
              (std::set<std::string>{"loop-frame-signatures", "loop-arp-senders", "loop-bridges"}));
}

TEST(ArpStorms, CirculatingCopiesAreNotRequestsButASweepIs) {
    Rig rig;
    LoopDetectorSettings s;
    auto repeats = std::make_unique<FrameRepeats>(s, &rig.hosts);
    auto arp = std::make_unique<ArpStorms>(rig.sink, s, *repeats);
    rig.dispatcher.add(std::move(repeats));
    rig.dispatcher.add(std::move(arp));
    // One request circulating 400 times a second for 8 s: one request a second, not 400.
    Frame looping = arp_request(0x3c2af4000003ULL, 0xc0a8641fu, 0xc0a86432u);
    for (Timestamp t = kT0; t < kT0 + 8 * kS; t += kS / 400) rig.feed(t, looping);
    EXPECT_TRUE(rig.sink.of_kind("arp-storm").empty());
    // A host sweeping the subnet: 400 distinct requests a second for 8 s.
    for (int i = 0; i < 3200; ++i)
        rig.feed(kT0 + 20 * kS + i * (kS / 400),
                 arp_request(0x0011320000aaULL, 0xc0a864c8u,
                             0x0a000000u + static_cast<std::uint32_t>(i)));
    rig.dispatcher.finish();
    auto storms = rig.sink.of_kind("arp-storm");
    std::set<std::string> subjects;
    for (const auto& r : storms) subjects.insert(r.update.subject);
    EXPECT_EQ(subjects, (std::set<std::string>{"00:11:32:00:00:aa", "LAN"}));
    EXPECT_TRUE(storms.back().update.ended);
    for (const auto& r : storms) {
        EXPECT_EQ(r.update.severity, Severity::high);
        if (r.update.ended) {
            EXPECT_EQ(r.update.evidence["peak_requests_per_second"], 400);
            EXPECT_FALSE(r.update.evidence["ongoing"].get<bool>());
        }
    }
}

TEST(ArpStorms, AMacFloodIsALanStormWithoutAnEntryPerForgedSender) {
    // The host table (16 devices) is full; a flood asks 2,000 times a second from a fresh MAC
    // each frame. It is one LAN-wide storm; the forged senders, which the host table turned
    // away, get no per-sender entries (before, each evicted another one, every frame). A real
    // device in the table sweeping the subnet, and a newcomer that keeps asking (admitted by
    // the host table on its next frame), are each still a storm of their own.
    Rig rig;
    HostTable small(16);
    Dispatcher dispatcher(small);
    LoopDetectorSettings s;
    s.max_arp_hosts = 64;
    auto repeats = std::make_unique<FrameRepeats>(s, &small);
    auto arp = std::make_unique<ArpStorms>(rig.sink, s, *repeats, &small);
    const ArpStorms* unit = arp.get();
    dispatcher.add(std::move(repeats));
    dispatcher.add(std::move(arp));
    Packet packet;
    auto feed = [&](Timestamp ts, const Frame& f) {
        rig.now = ts;
        decode_packet(LinkType::ethernet, ts, static_cast<std::uint32_t>(f.size()),
                      Bytes(f.data(), f.size()), packet);
        dispatcher.on_packet(packet);
    };
    for (std::uint64_t d = 0; d < 16; ++d)
        feed(kT0 + static_cast<Timestamp>(d),
             arp_request(0x001132000100ULL + d, 0xc0a86402u, 0xc0a86401u));
    ASSERT_EQ(small.size(), small.capacity());
    std::uint64_t forged = 0x020000000000ULL;
    for (int i = 0; i < 16000; ++i) {
        Timestamp t = kT0 + 10 * kS + i * (kS / 2000);
        feed(t,
             arp_request(forged++, 0xc0a86400u + static_cast<std::uint32_t>(i % 250), 0xc0a86401u));
        if (i % 5 == 0)  // a known device sweeping, 400 a second
            feed(t + 1, arp_request(0x001132000100ULL, 0xc0a86402u,
                                    0x0a000000u + static_cast<std::uint32_t>(i)));
        if (i % 5 == 2)  // a newcomer asking as often
            feed(t + 1, arp_request(0x001132000200ULL, 0xc0a86403u,
                                    0x0b000000u + static_cast<std::uint32_t>(i)));
    }
    dispatcher.finish();
    EXPECT_EQ(unit->host_evictions(), 0u);
    std::set<std::string> subjects;
    for (const auto& r : rig.sink.of_kind("arp-storm")) subjects.insert(r.update.subject);
    EXPECT_EQ(subjects, (std::set<std::string>{"00:11:32:00:01:00", "00:11:32:00:02:00", "LAN"}));
}

TEST(StpChanges, OneEpisodePerBridgeEndedWhenQuietAndBounded) {
    Rig rig;
    LoopDetectorSettings s;
    s.max_bridges = 2;
    bool during = true;
    auto stp = std::make_unique<StpChanges>(rig.sink, s, [&] { return during; });
    StpChanges* unit = stp.get();
    rig.dispatcher.add(std::move(stp));
    // Three bridges announce topology changes (TC flag) every 2 s for 10 s; only two fit.
    for (Timestamp t = kT0; t < kT0 + 10 * kS; t += 2 * kS)
        for (std::uint64_t b = 0; b < 3; ++b)
            rig.feed(t + static_cast<Timestamp>(b),
                     config_bpdu(0x0000f4000011ULL + b, 0x0000f4000010ULL + b, 0x01));
    // Then configuration BPDUs without TC every hello time (not a change) until both episodes
    // have been quiet long enough to end.
    for (Timestamp t = kT0 + 10 * kS; t < kT0 + 10 * kS + s.stp_quiet_to_end + 4 * kS; t += 2 * kS)
        rig.feed(t, config_bpdu(0x0000f4000011ULL, 0x0000f4000010ULL, 0));
    EXPECT_EQ(unit->topology_changes(), 15u);
    auto alerts = rig.sink.of_kind("stp-topology-change");
    ASSERT_FALSE(alerts.empty());
    std::set<std::string> keys, ended;
    for (const auto& r : alerts) {
        keys.insert(r.update.key);
        if (r.update.ended) ended.insert(r.update.key);
        EXPECT_TRUE(r.update.evidence["during_loop_or_storm"].get<bool>());
        EXPECT_EQ(r.update.severity, Severity::medium);
    }
    EXPECT_EQ(keys.size(), 2u);
    EXPECT_EQ(ended, keys);
    EXPECT_GT(unit->bridge_drops(), 0u);
    EXPECT_EQ(unit->topology_changes(), 15u);
    EXPECT_EQ(unit->bridges().size(), 2u);
}

TEST(DuplicateCapture, MirrorCopiesCountButALoopsCopiesDoNot) {
    LoopDetectorSettings s;
    // Twelve distinct broadcasts, each captured twice 5 us apart: the mirror, reported once.
    {
        Rig rig;
        auto dup = std::make_unique<DuplicateCapture>(rig.sink, s);
        DuplicateCapture* unit = dup.get();
        rig.dispatcher.add(std::move(dup));
        for (int i = 0; i < 12; ++i) {
            Frame f = arp_request(0x00155d000101ULL, 0xc0a86414u,
                                  0xc0a86400u + static_cast<std::uint32_t>(i));
            rig.feed(kT0 + i * 10'000, f);
            rig.feed(kT0 + i * 10'000 + 5, f);
        }
        rig.dispatcher.finish();
        EXPECT_EQ(unit->duplicates(), 12u);
        auto a = rig.sink.of_kind("duplicate-capture");
        ASSERT_EQ(a.size(), 1u);
        EXPECT_EQ(a[0].update.evidence["duplicate_frames"], 12);
        EXPECT_EQ(a[0].update.subject, "mirror port");
    }
    // One frame circulating every 100 us: once the loop unit sees it circulate, its copies are
    // the loop's; without the loop unit every second copy would count.
    Frame looping = arp_request(0x3c2af4000003ULL, 0xc0a8641fu, 0xc0a86432u);
    std::uint64_t with_loop = 0, without_loop = 0;
    for (bool linked : {true, false}) {
        Rig rig;
        LoopDetector group;
        DuplicateCapture* unit = nullptr;
        if (linked) {
            for (auto& u : group.build_all(rig.sink, s, &rig.hosts))
                rig.dispatcher.add(std::move(u));
            unit = group.duplicates;
        } else {
            auto dup = std::make_unique<DuplicateCapture>(rig.sink, s);
            unit = dup.get();
            rig.dispatcher.add(std::move(dup));
        }
        for (int i = 0; i < 200; ++i) rig.feed(kT0 + i * 100, looping);
        (linked ? with_loop : without_loop) = unit->duplicates();
    }
    EXPECT_EQ(without_loop, 100u);
    EXPECT_LT(with_loop, 12u);  // only the copies before it crossed the repeat threshold
}

TEST(LoopOrStorm, CirculatingNamesOnlyThePacketJustSeen) {
    Rig rig;
    LoopDetectorSettings s;
    LoopDetector group;
    for (auto& u : group.build_all(rig.sink, s, &rig.hosts)) rig.dispatcher.add(std::move(u));
    Frame looping = arp_request(0x3c2af4000003ULL, 0xc0a8641fu, 0xc0a86432u);
    for (std::uint32_t i = 0; i < s.repeat_threshold - 1; ++i) {
        rig.feed(kT0 + i * 100, looping);
        EXPECT_FALSE(group.loop->circulating(rig.packet)) << i;
    }
    rig.feed(kT0 + 5000, looping);
    EXPECT_TRUE(group.loop->circulating(rig.packet));
    Frame other = arp_request(0x00155d000101ULL, 0xc0a86414u, 0xc0a86401u);
    rig.feed(kT0 + 5100, other);
    EXPECT_FALSE(group.loop->circulating(rig.packet));
    // One frame circulating is not yet a loop (min_circulating_frames 2, single_frame_loop 200).
    EXPECT_FALSE(group.incident_open());
}

TEST(BroadcastRate, LearnsTheNormalRateAndJudgesRunsAboveIt) {
    Rig rig;
    LoopDetectorSettings s;
    s.storm_floor = 100;
    s.storm_factor = 4;
    auto repeats = std::make_unique<FrameRepeats>(s, &rig.hosts);
    auto rate = std::make_unique<BroadcastRate>(s, *repeats);
    BroadcastRate* unit = rate.get();
    bool incident = false;
    unit->watch_incident([&] { return incident; });
    rig.dispatcher.add(std::move(repeats));
    rig.dispatcher.add(std::move(rate));
    auto second_of = [&](Timestamp start, int broadcasts) {
        for (int i = 0; i < broadcasts; ++i)
            rig.feed(start + i * (kS / broadcasts),
                     arp_request(0x00155d000101ULL, 0xc0a86414u,
                                 0xc0a86400u + static_cast<std::uint32_t>(i)));
    };
    // Ten normal seconds of 50 broadcasts: that is the normal rate; the bar stays at the floor.
    for (int sec = 0; sec < 10; ++sec) second_of(kT0 + sec * kS, 50);
    second_of(kT0 + 10 * kS, 1);
    EXPECT_NEAR(unit->baseline(), 50, 0.5);
    BroadcastRate::Verdict normal = unit->judged(kT0 + 9 * kS);
    EXPECT_FALSE(normal.over);
    EXPECT_EQ(normal.threshold, 200);  // max(floor 100, 4 x 50)
    // Three seconds of 500: a run of three, counted from its first second.
    incident = true;  // while an incident is open nothing is learned
    for (int sec = 11; sec < 14; ++sec) second_of(kT0 + sec * kS, 500);
    second_of(kT0 + 14 * kS, 40);
    second_of(kT0 + 15 * kS, 40);
    BroadcastRate::Verdict third = unit->judged(kT0 + 13 * kS);
    EXPECT_TRUE(third.over);
    EXPECT_EQ(third.run_seconds, 3);
    EXPECT_EQ(third.run_start, kT0 + 11 * kS);
    EXPECT_EQ(third.run_group_frames, 1500u);
    EXPECT_EQ(third.run_peak, 500u);
    EXPECT_FALSE(unit->judged(kT0 + 14 * kS).over);
    EXPECT_NEAR(unit->baseline(), 50, 0.5);  // the quiet seconds during the incident not learned
    incident = false;
    second_of(kT0 + 16 * kS, 40);
    EXPECT_LT(unit->baseline(), 50);  // learned again once it is over
}
