// QUIC client Initials: the RFC test vectors (v1, v2) decrypt and name example.com; a
// post-quantum ClientHello spanning two Initial packets (built by this test's own encoder,
// below) is put together again by egress, also out of order.
#include "capture/protocols/quic.hpp"

#include <gtest/gtest.h>
#include <openssl/evp.h>

#include <string>
#include <vector>

#include "analyzers/egress.hpp"
#include "analyzers/packet_context.hpp"
#include "capture/protocols/tls.hpp"
#include "tests/analyzers/chrome_hello.hpp"
#include "tests/analyzers/frames.hpp"
#include "tests/capture/quic_vectors.hpp"
#include "tests/support/test_support.hpp"

using namespace clinicwatch;
using namespace clinicwatch::test;

namespace {

std::string hex(Bytes b) {
    static const char* d = "0123456789abcdef";
    std::string s;
    for (auto c : b) {
        s += d[c >> 4];
        s += d[c & 15];
    }
    return s;
}

struct Opened {
    std::vector<std::uint8_t> plain;
    std::uint64_t pn = 0;
};

std::optional<Opened> open_initial(const Frame& packet) {
    auto header = quic::parse_initial_header(packet);
    if (!header) return std::nullopt;
    auto keys = quic::client_initial_keys(header->version, header->dcid);
    if (!keys) return std::nullopt;
    quic::InitialDecryptor d;
    std::vector<std::uint8_t> out(packet.size());
    Opened o;
    auto plain = d.decrypt(packet, *header, *keys, out, &o.pn);
    if (!plain) return std::nullopt;
    o.plain.assign(plain->begin(), plain->end());
    return o;
}

// ---- The test's own encoder: RFC 9001 §5.3-5.4 in the sending direction ----

void put_varint(Frame& f, std::uint64_t v) {
    if (v < 64) {
        f.push_back(static_cast<std::uint8_t>(v));
    } else if (v < 16384) {
        put16(f, static_cast<std::uint16_t>(0x4000 | v));
    } else {
        put32(f, static_cast<std::uint32_t>(0x80000000u | v));
    }
}

Frame crypto_frame(std::uint64_t offset, Bytes data) {
    Frame f{0x06};
    put_varint(f, offset);
    put_varint(f, data.size());
    f.insert(f.end(), data.begin(), data.end());
    return f;
}

Frame seal_initial(std::uint32_t version, const Frame& key_dcid, const Frame& header_dcid,
                   std::uint32_t pn, Frame frames) {
    const std::size_t pn_len = 2;
    auto keys = quic::client_initial_keys(version, key_dcid);
    EXPECT_TRUE(keys);
    // Clients pad Initial datagrams to at least 1200 bytes (RFC 9000 §14.1).
    while (frames.size() < 1200 - 60) frames.push_back(0x00);
    Frame h;
    std::uint8_t type = version == quic::kVersion2 ? 1 : 0;
    h.push_back(static_cast<std::uint8_t>(0xc0 | (type << 4) | (pn_len - 1)));
    put32(h, version);
    h.push_back(static_cast<std::uint8_t>(header_dcid.size()));
    h.insert(h.end(), header_dcid.begin(), header_dcid.end());
    h.push_back(0);    // no source connection id
    put_varint(h, 0);  // no token
    put16(h, static_cast<std::uint16_t>(0x4000 | (pn_len + frames.size() + 16)));
    const std::size_t pn_offset = h.size();
    put16(h, static_cast<std::uint16_t>(pn));

    std::array<std::uint8_t, 12> nonce = keys->iv;
    for (int i = 0; i < 4; ++i) nonce[11 - i] ^= static_cast<std::uint8_t>(pn >> (8 * i));
    Frame ct(frames.size() + 16);
    EVP_CIPHER_CTX* c = EVP_CIPHER_CTX_new();
    int len = 0;
    EVP_EncryptInit_ex(c, EVP_aes_128_gcm(), nullptr, keys->key.data(), nonce.data());
    EVP_EncryptUpdate(c, nullptr, &len, h.data(), static_cast<int>(h.size()));
    EVP_EncryptUpdate(c, ct.data(), &len, frames.data(), static_cast<int>(frames.size()));
    EVP_EncryptFinal_ex(c, ct.data() + len, &len);
    EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_GET_TAG, 16, ct.data() + frames.size());
    EVP_CIPHER_CTX_free(c);

    Frame packet = h;
    packet.insert(packet.end(), ct.begin(), ct.end());
    std::array<std::uint8_t, 16> mask{};
    c = EVP_CIPHER_CTX_new();
    EVP_EncryptInit_ex(c, EVP_aes_128_ecb(), nullptr, keys->hp.data(), nullptr);
    EVP_CIPHER_CTX_set_padding(c, 0);
    EVP_EncryptUpdate(c, mask.data(), &len, packet.data() + pn_offset + 4, 16);
    EVP_CIPHER_CTX_free(c);
    packet[0] ^= mask[0] & 0x0f;
    for (std::size_t i = 0; i < pn_len; ++i) packet[pn_offset + i] ^= mask[1 + i];
    return packet;
}

// The ClientHello handshake message of the real Chromium 156 hello (its TLS record header
// removed, as QUIC carries it): 1988 bytes with an X25519MLKEM768 key share.
Frame chrome_handshake() {
    Frame record = from_hex(kChrome156PostQuantumHello);
    return Frame(record.begin() + 5, record.end());
}

const Frame kDcid = {0x5a, 0x1e, 0x77, 0x03, 0xc4, 0x9b, 0x12, 0x8e};

}  // namespace

TEST(QuicInitial, KeysMatchRfc9001AppendixA1) {
    auto k = quic::client_initial_keys(quic::kVersion1, from_hex("8394c8f03e515708"));
    ASSERT_TRUE(k);
    EXPECT_EQ(hex(k->key), "1f369613dd76d5467730efcbe3b1a22d");
    EXPECT_EQ(hex(k->iv), "fa044b2f42a3fd3b46fb255c");
    EXPECT_EQ(hex(k->hp), "9f50449e04a0e810283a1e9933adedd2");
    EXPECT_FALSE(quic::client_initial_keys(0x12345678, from_hex("8394c8f03e515708")));
}

TEST(QuicInitial, ServerKeysMatchRfc9001AppendixA1) {
    // What the capture generator seals servers' Initials with (RFC 9001 A.1, server keys).
    auto k = quic::server_initial_keys(quic::kVersion1, from_hex("8394c8f03e515708"));
    ASSERT_TRUE(k);
    EXPECT_EQ(hex(k->key), "cf3a5331653c364c88f0f379b6067e37");
    EXPECT_EQ(hex(k->iv), "0ac1493ca1905853b0bba03e");
    EXPECT_EQ(hex(k->hp), "c206b8d9b9f0f37644430b490eeaa314");
}

TEST(QuicInitial, Rfc9001ClientInitialDecryptsAndNamesExampleCom) {
    Frame packet = from_hex(kRfc9001ClientInitial);
    auto header = quic::parse_initial_header(packet);
    ASSERT_TRUE(header);
    EXPECT_EQ(header->version, quic::kVersion1);
    EXPECT_EQ(hex(header->dcid), "8394c8f03e515708");
    EXPECT_EQ(header->pn_offset, 18u);
    EXPECT_EQ(header->packet_size, 1200u);
    auto opened = open_initial(packet);
    ASSERT_TRUE(opened);
    EXPECT_EQ(opened->pn, 2u);
    EXPECT_EQ(opened->plain.size(), 1162u);
    auto frames = quic::crypto_frames(opened->plain);
    EXPECT_TRUE(frames.complete);
    ASSERT_EQ(frames.count, 1u);
    EXPECT_EQ(frames.frames[0].offset, 0u);
    EXPECT_EQ(frames.frames[0].data.size(), 241u);
    auto hello = tls::parse_client_hello_message(frames.frames[0].data);
    ASSERT_TRUE(hello);
    EXPECT_EQ(hello->sni, "example.com");
    ASSERT_EQ(hello->alpn.size(), 1u);
    EXPECT_EQ(hello->alpn[0], "alpn");
}

TEST(QuicInitial, Rfc9369Version2DecryptsAndNamesExampleCom) {
    Frame packet = from_hex(kRfc9369ClientInitial);
    auto header = quic::parse_initial_header(packet);
    ASSERT_TRUE(header);
    EXPECT_EQ(header->version, quic::kVersion2);
    auto opened = open_initial(packet);
    ASSERT_TRUE(opened);
    EXPECT_EQ(opened->pn, 2u);
    auto frames = quic::crypto_frames(opened->plain);
    ASSERT_EQ(frames.count, 1u);
    auto hello = tls::parse_client_hello_message(frames.frames[0].data);
    ASSERT_TRUE(hello);
    EXPECT_EQ(hello->sni, "example.com");
}

TEST(QuicInitial, AChangedByteOrATruncationIsNotDecrypted) {
    Frame packet = from_hex(kRfc9001ClientInitial);
    Frame tampered = packet;
    tampered[600] ^= 0x01;
    EXPECT_FALSE(open_initial(tampered));
    // v1 bytes read as v2 (other salt): fails authentication, never garbage.
    Frame as_v2 = packet;
    as_v2[0] = static_cast<std::uint8_t>((as_v2[0] & 0xcf) | 0x10);
    as_v2[1] = 0x6b, as_v2[2] = 0x33, as_v2[3] = 0x43, as_v2[4] = 0xcf;
    EXPECT_FALSE(open_initial(as_v2));
    for (std::size_t n = 0; n < packet.size(); n += 7)
        EXPECT_FALSE(open_initial(Frame(packet.begin(), packet.begin() + static_cast<long>(n))));
}

TEST(QuicInitial, HeadersThatAreNotClientInitialsAreRefused) {
    Frame packet = from_hex(kRfc9001ClientInitial);
    Frame handshake = packet;
    handshake[0] = 0xe0;  // long header, type Handshake
    EXPECT_FALSE(quic::parse_initial_header(handshake));
    Frame short_header = packet;
    short_header[0] = 0x40;
    EXPECT_FALSE(quic::parse_initial_header(short_header));
    Frame long_cid = packet;
    long_cid[5] = 21;  // connection ids are at most 20 bytes
    EXPECT_FALSE(quic::parse_initial_header(long_cid));
}

TEST(QuicInitial, FramesSkipPaddingPingAndAckAndStopAtUnknownTypes) {
    Frame plain = {0x00, 0x01, 0x02, 0x05, 0x00, 0x01, 0x00, 0x03, 0x00};  // PADDING PING ACK
    Frame a = crypto_frame(3, Bytes(reinterpret_cast<const std::uint8_t*>("lo!"), 3));
    Frame b = crypto_frame(0, Bytes(reinterpret_cast<const std::uint8_t*>("hel"), 3));
    plain.insert(plain.end(), a.begin(), a.end());
    plain.insert(plain.end(), {0x03, 0x01, 0x00, 0x00, 0x00, 0x01, 0x02, 0x03});  // ACK+ECN
    plain.insert(plain.end(), b.begin(), b.end());
    auto frames = quic::crypto_frames(plain);
    EXPECT_TRUE(frames.complete);
    ASSERT_EQ(frames.count, 2u);
    EXPECT_EQ(frames.frames[0].offset, 3u);
    EXPECT_EQ(frames.frames[1].offset, 0u);
    plain.push_back(0x08);  // a STREAM frame has no place in an Initial
    plain.push_back(0x00);
    EXPECT_FALSE(quic::crypto_frames(plain).complete);
}

TEST(QuicInitial, OwnEncoderRoundTripsForDraft29) {
    Frame hs = chrome_handshake();
    Frame frames = crypto_frame(0, Bytes(hs).first(1000));
    Frame packet = seal_initial(quic::kDraft29, kDcid, kDcid, 0, frames);
    auto opened = open_initial(packet);
    ASSERT_TRUE(opened);
    auto f = quic::crypto_frames(opened->plain);
    ASSERT_EQ(f.count, 1u);
    EXPECT_EQ(f.frames[0].data.size(), 1000u);
}

// ---- Egress names UDP/443 flows from their QUIC hello ----------------------------------------

namespace {

const MacAddress kRouter = *MacAddress::parse("00:a0:de:6e:21:4c");
const MacAddress kPc = *MacAddress::parse("f4:6e:24:19:c2:7b");
const IpAddress kPcIp = *IpAddress::parse("192.168.100.109");
const IpAddress kServer = *IpAddress::parse("142.250.196.110");
constexpr Timestamp kT0 = 1'795'130'000'000'000;

struct Sink : FindingSink {
    std::vector<BoundaryFlowSummary> flows;
    void alert(AlertUpdate) override {}
    void minute(const MinuteStats&) override {}
    void boundary_flows(const std::vector<BoundaryFlowSummary>& rows) override {
        flows.insert(flows.end(), rows.begin(), rows.end());
    }
};

std::string name_of_quic_flow(const std::vector<Frame>& datagrams) {
    Sink sink;
    EgressSettings s;
    s.internal_networks = {*IpNetwork::parse("192.168.100.0/24")};
    s.rules.index();
    Egress egress(sink, std::move(s), {});
    Packet packet;
    ApplicationLayer app;
    app.report_flow_ends_to(egress);
    Timestamp now = kT0;
    for (const auto& d : datagrams) {
        Frame f = ipv4_frame(kPc, kRouter, kPcIp, kServer, 17, udp_datagram(53000, 443, d));
        now += 1000;
        decode_packet(LinkType::ethernet, now, static_cast<std::uint32_t>(f.size()), f, packet);
        egress.on_packet(packet, app.begin(packet));
    }
    egress.on_finish(now + kMicrosPerSecond);
    EXPECT_EQ(egress.streams().in_use(), 0u);
    for (const auto& f : sink.flows)
        if (f.port == 443 && f.protocol == kProtoUdp)
            return (f.name.empty() ? "(no name)" : f.name) + "|" + f.name_source;
    return "(no flow)";
}

// The Chromium hello split over two Initial packets, in CRYPTO frames cut at `cut`; the
// second packet's frames are given out of order within it.
std::vector<Frame> two_initials(std::uint32_t version, std::size_t cut,
                                const Frame& second_dcid = kDcid) {
    Frame hs = chrome_handshake();
    Frame first = crypto_frame(0, Bytes(hs).first(cut));
    Frame second = {0x01};  // PING
    std::size_t mid = cut + (hs.size() - cut) / 2;
    Frame late = crypto_frame(mid, Bytes(hs).subspan(mid));
    Frame early = crypto_frame(cut, Bytes(hs).subspan(cut, mid - cut));
    second.insert(second.end(), late.begin(), late.end());
    second.insert(second.end(), early.begin(), early.end());
    return {seal_initial(version, kDcid, kDcid, 0, first),
            seal_initial(version, kDcid, second_dcid, 1, second)};
}

}  // namespace

TEST(EgressQuic, RfcVectorsNameUdp443Flows) {
    EXPECT_EQ(name_of_quic_flow({from_hex(kRfc9001ClientInitial)}), "example.com|quic");
    EXPECT_EQ(name_of_quic_flow({from_hex(kRfc9369ClientInitial)}), "example.com|quic");
}

TEST(EgressQuic, HelloSpanningTwoInitialPackets) {
    // server_name sits at bytes 181-210 of the handshake message: cut through it.
    auto v1 = two_initials(quic::kVersion1, 195);
    EXPECT_EQ(name_of_quic_flow(v1), "portal.clinic.example|quic");
    EXPECT_EQ(name_of_quic_flow({v1[1], v1[0]}), "portal.clinic.example|quic");         // reordered
    EXPECT_EQ(name_of_quic_flow({v1[0], v1[0], v1[1]}), "portal.clinic.example|quic");  // twice
    auto v2 = two_initials(quic::kVersion2, 1000);
    EXPECT_EQ(name_of_quic_flow({v2[1], v2[0]}), "portal.clinic.example|quic");
}

TEST(EgressQuic, LaterInitialUnderTheServersConnectionIdUsesTheFirstKeys) {
    // After the server's Initial the client addresses the server's chosen id, but Initial keys
    // stay those of its first DCID (RFC 9001 §5.2).
    auto packets = two_initials(quic::kVersion1, 100, {0x01, 0x02, 0x03, 0x04});
    EXPECT_EQ(name_of_quic_flow(packets), "portal.clinic.example|quic");
}

TEST(EgressQuic, CoalescedPacketsInOneDatagram) {
    auto packets = two_initials(quic::kVersion1, 600);
    Frame datagram = packets[0];
    datagram.insert(datagram.end(), packets[1].begin(), packets[1].end());
    EXPECT_EQ(name_of_quic_flow({datagram}), "portal.clinic.example|quic");
}

TEST(EgressQuic, AnIncompleteHelloIsJudgedWithoutANameAndNotQuic) {
    auto packets = two_initials(quic::kVersion1, 100);  // the name is in the lost second packet
    EXPECT_EQ(name_of_quic_flow({packets[0]}), "(no name)|");
    Frame noise(1200, 0xc3);  // long-header-looking noise on udp/443
    EXPECT_EQ(name_of_quic_flow({noise}), "(no name)|");
}
