#include "bench/frame_builder.hpp"

#include <cerrno>
#include <cstring>
#include <stdexcept>

namespace clinicwatch::bench {

std::uint32_t checksum_add(std::uint32_t sum, ByteView data) {
    std::size_t i = 0;
    // Sum 16-bit words in a 64-bit accumulator; fold once at the end (no overflow for any frame).
    std::uint64_t acc = sum;
    for (; i + 1 < data.size(); i += 2)
        acc += static_cast<std::uint32_t>((data[i] << 8) | data[i + 1]);
    if (i < data.size()) acc += static_cast<std::uint32_t>(data[i] << 8);
    while (acc >> 32) acc = (acc & 0xffffffffu) + (acc >> 32);
    return static_cast<std::uint32_t>(acc);
}

std::uint16_t checksum_finish(std::uint32_t sum) {
    while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
    return static_cast<std::uint16_t>(~sum & 0xffff);
}

std::string ip4_text(std::uint32_t ip) {
    return std::to_string(ip >> 24) + "." + std::to_string((ip >> 16) & 0xff) + "." +
           std::to_string((ip >> 8) & 0xff) + "." + std::to_string(ip & 0xff);
}

MacAddress multicast_mac(std::uint32_t group) {
    return MacAddress{{0x01, 0x00, 0x5e, static_cast<std::uint8_t>((group >> 16) & 0x7f),
                       static_cast<std::uint8_t>(group >> 8), static_cast<std::uint8_t>(group)}};
}

MacAddress multicast_mac6(const Ip6& group) {
    return MacAddress{{0x33, 0x33, group[12], group[13], group[14], group[15]}};
}

namespace {
void pad_to_minimum(Frame& f) {
    if (f.size() < 60) f.resize(60, 0);
}
}  // namespace

Frame ethernet(const MacAddress& dst, const MacAddress& src, std::uint16_t type, ByteView payload,
               std::optional<std::uint16_t> vlan, std::uint8_t priority) {
    Frame f;
    f.reserve(18 + payload.size());
    put_mac(f, dst);
    put_mac(f, src);
    if (vlan) {
        put16(f, ethertype::vlan);
        put16(f, static_cast<std::uint16_t>((priority & 7) << 13 | (*vlan & 0x0fff)));
    }
    put16(f, type);
    put_bytes(f, payload);
    pad_to_minimum(f);
    return f;
}

Frame ethernet_llc(const MacAddress& dst, const MacAddress& src, std::uint8_t dsap,
                   std::uint8_t ssap, std::uint8_t control, ByteView payload) {
    Frame f;
    put_mac(f, dst);
    put_mac(f, src);
    put16(f, static_cast<std::uint16_t>(3 + payload.size()));
    put8(f, dsap);
    put8(f, ssap);
    put8(f, control);
    put_bytes(f, payload);
    pad_to_minimum(f);
    return f;
}

Frame arp(std::uint16_t opcode, const MacAddress& sender_mac, std::uint32_t sender_ip,
          const MacAddress& target_mac, std::uint32_t target_ip) {
    Frame f;
    f.reserve(28);
    put16(f, 1);       // hardware: Ethernet
    put16(f, 0x0800);  // protocol: IPv4
    put8(f, 6);
    put8(f, 4);
    put16(f, opcode);
    put_mac(f, sender_mac);
    put_ip4(f, sender_ip);
    put_mac(f, target_mac);
    put_ip4(f, target_ip);
    return f;
}

Frame ipv4(const Ipv4Header& h, ByteView payload) {
    Frame f;
    f.reserve(20 + payload.size());
    put8(f, 0x45);
    put8(f, h.tos);
    put16(f, static_cast<std::uint16_t>(20 + payload.size()));
    put16(f, h.id);
    put16(f, h.dont_fragment ? 0x4000 : 0);
    put8(f, h.ttl);
    put8(f, h.protocol);
    put16(f, 0);
    put_ip4(f, h.src);
    put_ip4(f, h.dst);
    std::uint16_t sum = internet_checksum(ByteView(f.data(), 20));
    f[10] = static_cast<std::uint8_t>(sum >> 8);
    f[11] = static_cast<std::uint8_t>(sum);
    put_bytes(f, payload);
    return f;
}

Frame ipv6(const Ipv6Header& h, ByteView payload) {
    Frame f;
    f.reserve(40 + payload.size());
    put32(f, 0x60000000u | (h.flow_label & 0xfffff));
    put16(f, static_cast<std::uint16_t>(payload.size()));
    put8(f, h.next_header);
    put8(f, h.hop_limit);
    put_bytes(f, h.src);
    put_bytes(f, h.dst);
    put_bytes(f, payload);
    return f;
}

TcpOptions& TcpOptions::mss(std::uint16_t v) {
    put8(bytes_, 2);
    put8(bytes_, 4);
    put16(bytes_, v);
    return *this;
}
TcpOptions& TcpOptions::nop() {
    put8(bytes_, 1);
    return *this;
}
TcpOptions& TcpOptions::window_scale(std::uint8_t shift) {
    put8(bytes_, 3);
    put8(bytes_, 3);
    put8(bytes_, shift);
    return *this;
}
TcpOptions& TcpOptions::sack_permitted() {
    put8(bytes_, 4);
    put8(bytes_, 2);
    return *this;
}
TcpOptions& TcpOptions::timestamps(std::uint32_t value, std::uint32_t echo) {
    put8(bytes_, 8);
    put8(bytes_, 10);
    put32(bytes_, value);
    put32(bytes_, echo);
    return *this;
}
TcpOptions& TcpOptions::eol() {
    put8(bytes_, 0);
    return *this;
}
Frame TcpOptions::finish() const {
    Frame out = bytes_;
    while (out.size() % 4) out.push_back(0);
    return out;
}

namespace {

Frame tcp_segment(std::uint32_t pseudo_sum, const TcpHeader& h, ByteView payload) {
    if (h.options.size() % 4 || h.options.size() > 40)
        throw std::invalid_argument("TCP options must be padded to 4 bytes and at most 40");
    Frame f;
    const std::size_t header = 20 + h.options.size();
    f.reserve(header + payload.size());
    put16(f, h.src_port);
    put16(f, h.dst_port);
    put32(f, h.seq);
    put32(f, h.ack);
    put8(f, static_cast<std::uint8_t>((header / 4) << 4));
    put8(f, h.flags);
    put16(f, h.window);
    put16(f, 0);  // checksum
    put16(f, 0);  // urgent pointer
    put_bytes(f, h.options);
    put_bytes(f, payload);
    std::uint16_t sum = checksum_finish(checksum_add(pseudo_sum, f));
    f[16] = static_cast<std::uint8_t>(sum >> 8);
    f[17] = static_cast<std::uint8_t>(sum);
    return f;
}

std::uint32_t pseudo4(std::uint32_t src, std::uint32_t dst, std::uint8_t proto, std::size_t len) {
    return (src >> 16) + (src & 0xffff) + (dst >> 16) + (dst & 0xffff) + proto +
           static_cast<std::uint32_t>(len);
}

std::uint32_t pseudo6(const Ip6& src, const Ip6& dst, std::uint8_t proto, std::size_t len) {
    std::uint32_t s = checksum_add(0, src);
    s = checksum_add(s, dst);
    return s + static_cast<std::uint32_t>(len >> 16) + static_cast<std::uint32_t>(len & 0xffff) +
           proto;
}

Frame udp_datagram(std::uint32_t pseudo_sum, std::uint16_t src_port, std::uint16_t dst_port,
                   ByteView payload) {
    Frame f;
    f.reserve(8 + payload.size());
    put16(f, src_port);
    put16(f, dst_port);
    put16(f, static_cast<std::uint16_t>(8 + payload.size()));
    put16(f, 0);
    put_bytes(f, payload);
    std::uint16_t sum = checksum_finish(checksum_add(pseudo_sum, f));
    if (sum == 0) sum = 0xffff;  // 0 means "no checksum" in UDP
    f[6] = static_cast<std::uint8_t>(sum >> 8);
    f[7] = static_cast<std::uint8_t>(sum);
    return f;
}

}  // namespace

Frame tcp4(std::uint32_t src_ip, std::uint32_t dst_ip, const TcpHeader& h, ByteView payload) {
    return tcp_segment(
        pseudo4(src_ip, dst_ip, ipproto::tcp, 20 + h.options.size() + payload.size()), h, payload);
}

Frame tcp6(const Ip6& src_ip, const Ip6& dst_ip, const TcpHeader& h, ByteView payload) {
    return tcp_segment(
        pseudo6(src_ip, dst_ip, ipproto::tcp, 20 + h.options.size() + payload.size()), h, payload);
}

Frame udp4(std::uint32_t src_ip, std::uint32_t dst_ip, std::uint16_t src_port,
           std::uint16_t dst_port, ByteView payload) {
    return udp_datagram(pseudo4(src_ip, dst_ip, ipproto::udp, 8 + payload.size()), src_port,
                        dst_port, payload);
}

Frame udp6(const Ip6& src_ip, const Ip6& dst_ip, std::uint16_t src_port, std::uint16_t dst_port,
           ByteView payload) {
    return udp_datagram(pseudo6(src_ip, dst_ip, ipproto::udp, 8 + payload.size()), src_port,
                        dst_port, payload);
}

Frame icmp4(std::uint8_t type, std::uint8_t code, std::uint32_t rest, ByteView data) {
    Frame f;
    put8(f, type);
    put8(f, code);
    put16(f, 0);
    put32(f, rest);
    put_bytes(f, data);
    std::uint16_t sum = internet_checksum(f);
    f[2] = static_cast<std::uint8_t>(sum >> 8);
    f[3] = static_cast<std::uint8_t>(sum);
    return f;
}

Frame icmp6(const Ip6& src_ip, const Ip6& dst_ip, std::uint8_t type, std::uint8_t code,
            ByteView body) {
    // Allocated once at its final size and filled in place: growing a vector here made GCC 12
    // at -O3 see a copy into a zero-sized buffer (a false -Wstringop-overflow, GCC bug 107852).
    Frame f(4 + body.size(), 0);
    f[0] = type;
    f[1] = code;
    if (!body.empty()) std::memcpy(f.data() + 4, body.data(), body.size());
    std::uint16_t sum =
        checksum_finish(checksum_add(pseudo6(src_ip, dst_ip, ipproto::icmpv6, f.size()), f));
    f[2] = static_cast<std::uint8_t>(sum >> 8);
    f[3] = static_cast<std::uint8_t>(sum);
    return f;
}

namespace {
void le32(char* p, std::uint32_t v) {
    for (int i = 0; i < 4; ++i) p[i] = static_cast<char>((v >> (8 * i)) & 0xff);
}
void le16(char* p, std::uint16_t v) {
    p[0] = static_cast<char>(v & 0xff);
    p[1] = static_cast<char>(v >> 8);
}
}  // namespace

PcapFileWriter::PcapFileWriter(const std::string& path, std::uint32_t linktype,
                               std::uint32_t snaplen)
    : path_(path), buffer_(1 << 20) {
    file_ = std::fopen(path.c_str(), "wb");
    if (!file_) throw std::runtime_error(path + ": cannot write: " + std::strerror(errno));
    std::setvbuf(file_, buffer_.data(), _IOFBF, buffer_.size());
    char header[24];
    le32(header, 0xa1b2c3d4);
    le16(header + 4, 2);
    le16(header + 6, 4);
    le32(header + 8, 0);   // thiszone
    le32(header + 12, 0);  // sigfigs
    le32(header + 16, snaplen);
    le32(header + 20, linktype);
    if (std::fwrite(header, 1, sizeof header, file_) != sizeof header)
        throw std::runtime_error(path + ": write failed: " + std::strerror(errno));
}

PcapFileWriter::~PcapFileWriter() {
    if (file_) std::fclose(file_);
}

void PcapFileWriter::write(std::int64_t ts_us, ByteView frame, std::uint32_t wire_length) {
    if (!file_) throw std::logic_error(path_ + ": write after close");
    char record[16];
    le32(record, static_cast<std::uint32_t>(ts_us / 1'000'000));
    le32(record + 4, static_cast<std::uint32_t>(ts_us % 1'000'000));
    le32(record + 8, static_cast<std::uint32_t>(frame.size()));
    le32(record + 12, wire_length ? wire_length : static_cast<std::uint32_t>(frame.size()));
    if (std::fwrite(record, 1, sizeof record, file_) != sizeof record ||
        std::fwrite(frame.data(), 1, frame.size(), file_) != frame.size())
        throw std::runtime_error(path_ + ": write failed: " + std::strerror(errno));
    ++frames_;
    bytes_ += frame.size();
}

void PcapFileWriter::close() {
    if (!file_) return;
    int rc = std::fclose(file_);
    file_ = nullptr;
    if (rc != 0) throw std::runtime_error(path_ + ": write failed: " + std::strerror(errno));
}

}  // namespace clinicwatch::bench
