// Capture files through the real libpcap reader: pcap and pcapng, several files in order, bad
// link types and corrupt files, and the capture thread feeding the ring.
#include "capture/packet_source.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "capture/capture_thread.hpp"
#include "tests/support/test_support.hpp"

using namespace clinicwatch;
using namespace clinicwatch::test;

namespace {

std::vector<std::uint8_t> frame_with_marker(std::uint8_t marker, std::size_t size = 60) {
    std::vector<std::uint8_t> f(size, 0);
    for (int i = 0; i < 6; ++i) f[i] = 0xff;
    f[6] = 0x00, f[7] = 0x11, f[8] = 0x22, f[9] = 0x33, f[10] = 0x44, f[11] = marker;
    f[12] = 0x08, f[13] = 0x06;
    return f;
}

std::vector<RawFrame> read_all(PacketSource& src, std::vector<std::vector<std::uint8_t>>* copies) {
    std::vector<RawFrame> out;
    RawFrame f;
    while (src.next(f) == PacketSource::Next::frame) {
        out.push_back(f);
        copies->emplace_back(f.data.begin(), f.data.end());
    }
    return out;
}

void put32(std::ofstream& o, std::uint32_t v) {
    o.write(reinterpret_cast<const char*>(&v), 4);
}
void put16(std::ofstream& o, std::uint16_t v) {
    o.write(reinterpret_cast<const char*>(&v), 2);
}

// A minimal pcapng: section header, one Ethernet interface (µs resolution), enhanced packets.
void write_pcapng(const std::filesystem::path& path,
                  const std::vector<std::vector<std::uint8_t>>& frames, std::int64_t t0,
                  std::uint16_t link_type = 1) {
    std::ofstream o(path, std::ios::binary);
    put32(o, 0x0a0d0d0a), put32(o, 28), put32(o, 0x1a2b3c4d), put16(o, 1), put16(o, 0);
    put32(o, 0xffffffff), put32(o, 0xffffffff), put32(o, 28);
    put32(o, 1), put32(o, 20), put16(o, link_type), put16(o, 0), put32(o, 65535), put32(o, 20);
    std::int64_t ts = t0;
    for (const auto& f : frames) {
        std::uint32_t padded = static_cast<std::uint32_t>((f.size() + 3) / 4 * 4);
        std::uint32_t total = 32 + padded;
        put32(o, 6), put32(o, total), put32(o, 0);
        put32(o, static_cast<std::uint32_t>(static_cast<std::uint64_t>(ts) >> 32));
        put32(o, static_cast<std::uint32_t>(ts));
        put32(o, static_cast<std::uint32_t>(f.size())),
            put32(o, static_cast<std::uint32_t>(f.size()));
        o.write(reinterpret_cast<const char*>(f.data()), static_cast<std::streamsize>(f.size()));
        for (std::size_t i = f.size(); i < padded; ++i) o.put(0);
        put32(o, total);
        ts += 1000;
    }
}

}  // namespace

TEST(FileSource, ReadsSeveralPcapFilesInOrder) {
    TempDir dir;
    {
        PcapWriter a(dir / "a.pcap");
        a.write(1'000'000, frame_with_marker(1));
        a.write(2'000'000, frame_with_marker(2), 1514);  // snapped: wire length kept
        PcapWriter b(dir / "b.pcap");
        b.write(3'000'000, frame_with_marker(3));
    }
    auto src = open_capture_files({(dir / "a.pcap").string(), (dir / "b.pcap").string()});
    std::vector<std::vector<std::uint8_t>> copies;
    auto frames = read_all(*src, &copies);
    ASSERT_EQ(frames.size(), 3u);
    EXPECT_EQ(copies[0][11], 1);
    EXPECT_EQ(copies[1][11], 2);
    EXPECT_EQ(copies[2][11], 3);
    EXPECT_EQ(frames[1].wire_length, 1514u);
    EXPECT_EQ(frames[1].data.size(), 60u);
    EXPECT_EQ(frames[2].ts, 3'000'000);
    EXPECT_DOUBLE_EQ(src->progress(), 1.0);
}

TEST(FileSource, ReadsPcapng) {
    TempDir dir;
    write_pcapng(dir / "x.pcapng", {frame_with_marker(7), frame_with_marker(8, 61)},
                 1'700'000'000'000'000);
    auto src = open_capture_files({(dir / "x.pcapng").string()});
    std::vector<std::vector<std::uint8_t>> copies;
    auto frames = read_all(*src, &copies);
    ASSERT_EQ(frames.size(), 2u);
    EXPECT_EQ(copies[1][11], 8);
    EXPECT_EQ(frames[1].data.size(), 61u);
    EXPECT_EQ(frames[0].ts, 1'700'000'000'000'000);
    EXPECT_EQ(frames[0].link, LinkType::ethernet);
}

// Raw-IP and loopback captures (pcap and pcapng; libpcap reports raw IP as DLT_RAW, the file
// says LINKTYPE_RAW) are read, their frames marked with the link type they need.
TEST(FileSource, RawIpAndLoopbackCapturesAreRead) {
    TempDir dir;
    const std::vector<std::uint8_t> ip = {0x45, 0, 0,   20,  0,   0,  0x40, 0,   64,  17,
                                          0,    0, 192, 168, 100, 10, 192,  168, 100, 1};
    {
        PcapWriter raw(dir / "raw.pcap", 101);
        raw.write(1'000'000, ip);
        PcapWriter loopback(dir / "lo0.pcap", 0);
        std::vector<std::uint8_t> f = {2, 0, 0, 0};
        f.insert(f.end(), ip.begin(), ip.end());
        loopback.write(1'000'000, f);
    }
    write_pcapng(dir / "raw.pcapng", {ip}, 1'700'000'000'000'000, 101);
    const std::pair<const char*, LinkType> cases[] = {{"raw.pcap", LinkType::raw_ip},
                                                      {"lo0.pcap", LinkType::bsd_loopback},
                                                      {"raw.pcapng", LinkType::raw_ip}};
    for (const auto& [name, link] : cases) {
        auto src = open_capture_files({(dir / name).string()});
        std::vector<std::vector<std::uint8_t>> copies;
        auto frames = read_all(*src, &copies);
        ASSERT_EQ(frames.size(), 1u) << name;
        EXPECT_EQ(frames[0].link, link) << name;
        Packet p;
        decode_packet(frames[0].link, frames[0].ts, frames[0].wire_length, Bytes(copies[0]), p);
        ASSERT_TRUE(p.ip) << name;
        EXPECT_EQ(p.ip->src.to_string(), "192.168.100.10") << name;
    }
}

TEST(FileSource, UnsupportedLinkTypeIsNamed) {
    TempDir dir;
    { PcapWriter w(dir / "wifi.pcap", 127); }  // IEEE 802.11 radiotap
    try {
        open_capture_files({(dir / "wifi.pcap").string()});
        FAIL() << "expected CaptureError";
    } catch (const CaptureError& e) {
        std::string msg = e.what();
        EXPECT_NE(msg.find("wifi.pcap"), std::string::npos) << msg;
        EXPECT_NE(msg.find("link type 127"), std::string::npos) << msg;
        EXPECT_EQ(e.kind(), CaptureError::Kind::link_type);
    }
}

TEST(FileSource, MissingAndGarbageFilesAreClearErrors) {
    TempDir dir;
    EXPECT_THROW(open_capture_files({(dir / "nope.pcap").string()}), CaptureError);
    {
        std::ofstream o(dir / "text.pcap");
        o << "this is not a capture file at all";
    }
    try {
        open_capture_files({(dir / "text.pcap").string()});
        FAIL();
    } catch (const CaptureError& e) {
        EXPECT_NE(std::string(e.what()).find("text.pcap"), std::string::npos);
    }
}

TEST(FileSource, TruncatedRecordNamesFileAndOffset) {
    TempDir dir;
    {
        PcapWriter w(dir / "cut.pcap");
        w.write(1'000'000, frame_with_marker(1));
        w.write(2'000'000, frame_with_marker(2));
    }
    // Cut the second record's data in half: 24 + (16 + 60) + 16 + 30.
    std::filesystem::resize_file(dir / "cut.pcap", 24 + 76 + 16 + 30);
    auto src = open_capture_files({(dir / "cut.pcap").string()});
    RawFrame f;
    ASSERT_EQ(src->next(f), PacketSource::Next::frame);
    try {
        src->next(f);
        FAIL() << "expected CaptureError";
    } catch (const CaptureError& e) {
        std::string msg = e.what();
        EXPECT_NE(msg.find("cut.pcap"), std::string::npos) << msg;
        EXPECT_NE(msg.find("byte offset 100"), std::string::npos) << msg;
        EXPECT_EQ(e.kind(), CaptureError::Kind::input_file);
    }
}

TEST(CaptureThread, CopiesEveryFrameIntoTheRingWhenWaiting) {
    TempDir dir;
    constexpr int kFrames = 50'000;
    {
        PcapWriter w(dir / "many.pcap");
        for (int i = 0; i < kFrames; ++i)
            w.write(i, frame_with_marker(static_cast<std::uint8_t>(i)));
    }
    auto src = open_capture_files({(dir / "many.pcap").string()});
    FrameRing ring(128, 2048);
    CaptureThread capture(*src, ring, RingFullPolicy::wait);
    capture.start();
    int received = 0;
    bool ordered = true;
    for (;;) {
        const FrameSlot* s = ring.peek();
        if (!s) {
            if (capture.finished() && !ring.peek()) break;
            std::this_thread::yield();
            continue;
        }
        ordered &= s->ts_us == received && s->data()[11] == static_cast<std::uint8_t>(received);
        ++received;
        ring.release();
    }
    capture.stop();
    EXPECT_EQ(received, kFrames);
    EXPECT_TRUE(ordered);
    EXPECT_EQ(capture.counters().packets.load(), static_cast<std::uint64_t>(kFrames));
    EXPECT_EQ(capture.counters().ring_drops.load(), 0u);
    EXPECT_EQ(capture.error(), nullptr);
}

TEST(LiveSource, MissingInterfaceIsAClearError) {
    LiveCaptureOptions o;
    o.interface = "cw-no-such-if0";
    try {
        open_live_capture(o);
        FAIL() << "expected CaptureError";
    } catch (const CaptureError& e) {
        std::string msg = e.what();
        EXPECT_NE(msg.find("cw-no-such-if0"), std::string::npos) << msg;
    }
}
