// Frames and a small harness for the loop detector tests: real protocol layouts (ARP, NBNS
// name query, SSDP M-SEARCH, 802.1D config BPDU) built in code, fed through decode and the
// Dispatcher exactly as the pipeline does.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "analyzers/dispatcher.hpp"
#include "analyzers/findings.hpp"
#include "analyzers/host_table.hpp"
#include "analyzers/loop_detector.hpp"

namespace clinicwatch::test {

using Frame = std::vector<std::uint8_t>;

inline void put16(Frame& f, std::uint16_t v) {
    f.push_back(static_cast<std::uint8_t>(v >> 8));
    f.push_back(static_cast<std::uint8_t>(v));
}
inline void put32(Frame& f, std::uint32_t v) {
    put16(f, static_cast<std::uint16_t>(v >> 16));
    put16(f, static_cast<std::uint16_t>(v));
}
inline void put_mac(Frame& f, std::uint64_t mac) {
    for (int i = 5; i >= 0; --i) f.push_back(static_cast<std::uint8_t>(mac >> (8 * i)));
}
constexpr std::uint64_t kBroadcast = 0xffffffffffffULL;

inline Frame ethernet(std::uint64_t dst, std::uint64_t src, std::uint16_t type) {
    Frame f;
    put_mac(f, dst);
    put_mac(f, src);
    put16(f, type);
    return f;
}

// ARP request: who has `target`? tell `sender_ip` (Ethernet/IPv4, broadcast).
inline Frame arp_request(std::uint64_t src, std::uint32_t sender_ip, std::uint32_t target_ip) {
    Frame f = ethernet(kBroadcast, src, 0x0806);
    put16(f, 1);
    put16(f, 0x0800);
    f.push_back(6);
    f.push_back(4);
    put16(f, 1);
    put_mac(f, src);
    put32(f, sender_ip);
    put_mac(f, 0);
    put32(f, target_ip);
    while (f.size() < 60) f.push_back(0);
    return f;
}

// IPv4/UDP datagram with the header checksum computed (payload checksum left 0, as allowed).
inline Frame udp_frame(std::uint64_t dst_mac, std::uint64_t src_mac, std::uint32_t src_ip,
                       std::uint32_t dst_ip, std::uint16_t sport, std::uint16_t dport,
                       const Frame& payload, std::uint16_t ip_id, std::uint8_t ttl = 128) {
    Frame f = ethernet(dst_mac, src_mac, 0x0800);
    std::size_t ip = f.size();
    f.push_back(0x45);
    f.push_back(0);
    put16(f, static_cast<std::uint16_t>(20 + 8 + payload.size()));
    put16(f, ip_id);
    put16(f, 0);
    f.push_back(ttl);
    f.push_back(17);
    put16(f, 0);
    put32(f, src_ip);
    put32(f, dst_ip);
    std::uint32_t sum = 0;
    for (std::size_t i = 0; i < 20; i += 2) sum += (f[ip + i] << 8) | f[ip + i + 1];
    while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
    f[ip + 10] = static_cast<std::uint8_t>(~sum >> 8);
    f[ip + 11] = static_cast<std::uint8_t>(~sum);
    put16(f, sport);
    put16(f, dport);
    put16(f, static_cast<std::uint16_t>(8 + payload.size()));
    put16(f, 0);
    f.insert(f.end(), payload.begin(), payload.end());
    while (f.size() < 60) f.push_back(0);
    return f;
}

// NBNS name query (RFC 1002 4.2.12), broadcast, for a first-level-encoded 15-char name.
inline Frame nbns_query(std::uint64_t src, std::uint32_t ip, std::uint16_t txid,
                        const std::string& name, std::uint16_t ip_id) {
    Frame p;
    put16(p, txid);
    put16(p, 0x0110);  // query, recursion desired, broadcast
    put16(p, 1);
    put16(p, 0);
    put16(p, 0);
    put16(p, 0);
    p.push_back(32);
    std::string padded = name;
    padded.resize(15, ' ');
    padded += '\0';
    for (char c : padded) {
        p.push_back(static_cast<std::uint8_t>('A' + ((c >> 4) & 0x0f)));
        p.push_back(static_cast<std::uint8_t>('A' + (c & 0x0f)));
    }
    p.push_back(0);
    put16(p, 0x20);
    put16(p, 1);
    return udp_frame(kBroadcast, src, ip, (ip & 0xffffff00u) | 0xff, 137, 137, p, ip_id);
}

// SSDP M-SEARCH to 239.255.255.250:1900.
inline Frame ssdp_msearch(std::uint64_t src, std::uint32_t ip, std::uint16_t sport,
                          const std::string& target, std::uint16_t ip_id) {
    std::string text =
        "M-SEARCH * HTTP/1.1\r\nHOST: 239.255.255.250:1900\r\nMAN: "
        "\"ssdp:discover\"\r\nMX: 1\r\nST: " +
        target + "\r\n\r\n";
    Frame p(text.begin(), text.end());
    return udp_frame(0x01005e7ffffaULL, src, ip, 0xeffffffa, sport, 1900, p, ip_id, 1);
}

// 802.1D configuration BPDU from `bridge_mac` (root = itself), flags as given (0x01 = TC).
inline Frame config_bpdu(std::uint64_t port_mac, std::uint64_t bridge_mac, std::uint8_t flags) {
    Frame f;
    put_mac(f, 0x0180c2000000ULL);
    put_mac(f, port_mac);
    put16(f, 38);
    f.push_back(0x42);
    f.push_back(0x42);
    f.push_back(0x03);
    put16(f, 0);
    f.push_back(0);
    f.push_back(0);
    f.push_back(flags);
    put16(f, 0x8000);
    put_mac(f, bridge_mac);
    put32(f, 0);
    put16(f, 0x8000);
    put_mac(f, bridge_mac);
    put16(f, 0x8001);
    put16(f, 0);
    put16(f, 20 * 256);
    put16(f, 2 * 256);
    put16(f, 15 * 256);
    while (f.size() < 60) f.push_back(0);
    return f;
}

// Collects alerts, with the packet time at which each was raised.
class RecordingSink : public FindingSink {
  public:
    struct Raised {
        AlertUpdate update;
        Timestamp at;
    };
    void alert(AlertUpdate update) override { raised.push_back({std::move(update), *now}); }
    void minute(const MinuteStats&) override {}
    std::vector<Raised> of_kind(const std::string& kind) const {
        std::vector<Raised> out;
        for (const auto& r : raised)
            if (r.update.kind == kind) out.push_back(r);
        return out;
    }
    std::vector<Raised> raised;
    const Timestamp* now = nullptr;
};

// HostTable + Dispatcher + the loop units, fed with frames in time order.
class LoopHarness {
  public:
    explicit LoopHarness(LoopDetectorSettings settings = {}) : hosts_(20000), dispatcher_(hosts_) {
        sink.now = &now_;
        for (auto& unit : units_.build_all(sink, settings, &hosts_))
            dispatcher_.add(std::move(unit));
    }
    void feed(Timestamp ts, const Frame& frame) {
        feed(LinkType::ethernet, ts, static_cast<std::uint32_t>(frame.size()), frame);
    }
    void feed(LinkType link, Timestamp ts, std::uint32_t wire_length, Bytes frame) {
        now_ = ts;
        decode_packet(link, ts, wire_length, frame, packet_);
        dispatcher_.on_packet(packet_);
    }
    void finish() { dispatcher_.finish(); }

    RecordingSink sink;
    LoopDetector* detector = &units_;

  private:
    LoopDetector units_;
    HostTable hosts_;
    Dispatcher dispatcher_;
    Packet packet_;
    Timestamp now_ = 0;
};

}  // namespace clinicwatch::test
