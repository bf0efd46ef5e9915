// The VPN first-message parsers (capture/protocols/vpn.hpp) on messages laid out byte by byte as
// their specifications give them, every truncation of each, and look-alikes.
#include "capture/protocols/vpn.hpp"

#include <gtest/gtest.h>

#include <random>
#include <string>
#include <vector>

#include "capture/protocols/handshake_recognisers.hpp"
#include "tests/capture/vpn_messages.hpp"

using namespace clinicwatch;
using namespace clinicwatch::vpn;
using namespace clinicwatch::test::vpn_messages;

TEST(OpenVpn, ClientAndServerHardResetOverUdp) {
    auto c = parse_openvpn_reset(view(openvpn_client_reset()), false);
    ASSERT_TRUE(c);
    EXPECT_EQ(c->opcode, OpenVpnOpcode::control_hard_reset_client_v2);
    EXPECT_FALSE(c->from_server);
    EXPECT_EQ(c->hmac_size, 0u);
    EXPECT_EQ(Msg(c->session_id.begin(), c->session_id.end()), kClientSession);

    auto s = parse_openvpn_reset(view(openvpn_server_reset()), false);
    ASSERT_TRUE(s);
    EXPECT_EQ(s->opcode, OpenVpnOpcode::control_hard_reset_server_v2);
    EXPECT_TRUE(s->from_server);
    EXPECT_EQ(s->acks, 1);
}

TEST(OpenVpn, HardResetWithTlsAuthAndOverTcp) {
    std::mt19937 rng(1);
    auto a = parse_openvpn_reset(view(openvpn_client_reset_tls_auth(rng)), false);
    ASSERT_TRUE(a);
    EXPECT_EQ(a->hmac_size, 20u);

    const Msg tcp = tcp_framed(openvpn_client_reset());
    auto t = parse_openvpn_reset(view(tcp), true);
    ASSERT_TRUE(t);
    EXPECT_FALSE(t->from_server);
    EXPECT_FALSE(parse_openvpn_reset(view(tcp), false)) << "the length is not an opcode";
    EXPECT_TRUE(parse_openvpn_tcp_packet(view(tcp_framed(openvpn_server_reset()))));
}

TEST(OpenVpn, EveryTruncationIsRefused) {
    const Msg c = openvpn_client_reset(), s = openvpn_server_reset();
    for (std::size_t n = 0; n < c.size(); ++n)
        EXPECT_FALSE(parse_openvpn_reset(Bytes(c.data(), n), false)) << n;
    for (std::size_t n = 0; n < s.size(); ++n)
        EXPECT_FALSE(parse_openvpn_reset(Bytes(s.data(), n), false)) << n;
    const Msg t = tcp_framed(s);
    for (std::size_t n = 0; n < t.size(); ++n) {
        EXPECT_FALSE(parse_openvpn_reset(Bytes(t.data(), n), true)) << n;
        EXPECT_FALSE(parse_openvpn_tcp_packet(Bytes(t.data(), n))) << n;
    }
}

TEST(OpenVpn, KeyIdOtherThanZeroOrNoAckIsNotAReset) {
    Msg c = openvpn_client_reset();
    c[0] = 0x39;  // key id 1
    EXPECT_FALSE(parse_openvpn_reset(view(c), false));
    Msg s = openvpn_server_reset();
    s[9] = 0;  // a server reset that acknowledges nothing
    EXPECT_FALSE(parse_openvpn_reset(view(s), false));
}

TEST(WireGuard, TheFourMessageTypes) {
    std::mt19937 rng(2);
    auto i = parse_wireguard(view(wireguard(1, rng)));
    ASSERT_TRUE(i);
    EXPECT_EQ(i->type, WireGuardType::handshake_initiation);
    EXPECT_EQ(i->sender, 0x12345678u);
    auto r = parse_wireguard(view(wireguard(2, rng)));
    ASSERT_TRUE(r);
    EXPECT_EQ(r->type, WireGuardType::handshake_response);
    EXPECT_EQ(r->sender, 0xdeadbeefu);
    EXPECT_EQ(r->receiver, 0x12345678u);
    auto k = parse_wireguard(view(wireguard(3, rng)));
    ASSERT_TRUE(k);
    EXPECT_EQ(k->type, WireGuardType::cookie_reply);
    auto d = parse_wireguard(view(wireguard(4, rng, 96)));
    ASSERT_TRUE(d);
    EXPECT_EQ(d->type, WireGuardType::transport_data);
    EXPECT_EQ(d->receiver, 0xdeadbeefu);
    EXPECT_EQ(d->counter, 5u);
    EXPECT_TRUE(parse_wireguard(view(wireguard(4, rng, 0))));  // a keepalive: 32 bytes
}

TEST(WireGuard, EveryTruncationAndWrongSizeIsRefused) {
    std::mt19937 rng(3);
    for (std::uint8_t type : {1, 2, 3}) {
        const Msg m = wireguard(type, rng);
        for (std::size_t n = 0; n < m.size(); ++n)
            EXPECT_FALSE(parse_wireguard(Bytes(m.data(), n))) << int(type) << " " << n;
        Msg longer = m;
        longer.push_back(0);
        EXPECT_FALSE(parse_wireguard(view(longer))) << int(type);
    }
    const Msg d = wireguard(4, rng, 64);
    for (std::size_t n = 0; n < d.size(); ++n)
        if (n < 32 || n % 16 != 0) {
            EXPECT_FALSE(parse_wireguard(Bytes(d.data(), n))) << n;
        }
    Msg reserved = wireguard(1, rng);
    reserved[2] = 1;
    EXPECT_FALSE(parse_wireguard(view(reserved)));
}

TEST(Ike, Ikev2SaInitAndIkev1MainMode) {
    auto h = parse_ike(view(ike_sa_init()));
    ASSERT_TRUE(h);
    EXPECT_EQ(h->major, 2);
    EXPECT_EQ(h->exchange, kIkeSaInit);
    EXPECT_TRUE(h->opens_sa());
    EXPECT_FALSE(h->non_esp_marker);
    EXPECT_EQ(h->initiator_spi, 0x8a3c5b1f0e2d4c6bull);

    auto v1 = parse_ike(view(ikev1_main_mode()));
    ASSERT_TRUE(v1);
    EXPECT_EQ(v1->major, 1);
    EXPECT_EQ(v1->exchange, kIkev1MainMode);
    EXPECT_TRUE(v1->opens_sa());

    // On UDP 4500 behind the non-ESP marker (RFC 3948 §2.2).
    Msg natt = hex("00000000");
    append(natt, ike_sa_init());
    auto n = parse_ike(view(natt));
    ASSERT_TRUE(n);
    EXPECT_TRUE(n->non_esp_marker);
}

TEST(Ike, InformationalResponseDoesNotOpenAnSa) {
    Msg m = ike_sa_init();
    m[8] = 0x5a;   // responder SPI set
    m[18] = 37;    // INFORMATIONAL
    m[19] = 0x20;  // response
    m[16] = 46;    // SK
    m[23] = 3;     // message id 3
    auto h = parse_ike(view(m));
    ASSERT_TRUE(h);
    EXPECT_FALSE(h->opens_sa());
    EXPECT_TRUE(h->response());
}

TEST(Ike, EveryTruncationAndBadFieldIsRefused) {
    const Msg m = ike_sa_init();
    for (std::size_t n = 0; n < m.size(); ++n) EXPECT_FALSE(parse_ike(Bytes(m.data(), n))) << n;
    Msg bad = ike_sa_init();
    bad[19] = 0x01;  // a reserved flag bit
    EXPECT_FALSE(parse_ike(view(bad)));
    bad = ike_sa_init();
    bad[18] = 99;  // no such exchange
    EXPECT_FALSE(parse_ike(view(bad)));
    bad = ike_sa_init();
    bad[17] = 0x30;  // version 3
    EXPECT_FALSE(parse_ike(view(bad)));
    bad = ike_sa_init();
    std::fill(bad.begin(), bad.begin() + 8, 0);  // no initiator SPI
    EXPECT_FALSE(parse_ike(view(bad)));
}

TEST(L2tp, SccrqAndHello) {
    auto c = parse_l2tp_control(view(l2tp_sccrq()));
    ASSERT_TRUE(c);
    EXPECT_EQ(c->version, 2);
    ASSERT_TRUE(c->message_type);
    EXPECT_EQ(*c->message_type, kL2tpSccrq);
    EXPECT_EQ(c->tunnel_id, 0u);
    auto h = parse_l2tp_control(view(l2tp_hello()));
    ASSERT_TRUE(h);
    EXPECT_EQ(*h->message_type, kL2tpHello);
    EXPECT_EQ(h->tunnel_id, 0x1234u);
    EXPECT_EQ(h->ns, 7);
    // A zero-length body acknowledgement: a control message without a type.
    auto zlb = parse_l2tp_control(view(hex("c802 000c 1234 0000 0008 0007")));
    ASSERT_TRUE(zlb);
    EXPECT_FALSE(zlb->message_type);
}

TEST(L2tp, EveryTruncationAndDataMessagesAreRefused) {
    const Msg m = l2tp_sccrq();
    for (std::size_t n = 0; n < m.size(); ++n)
        EXPECT_FALSE(parse_l2tp_control(Bytes(m.data(), n))) << n;
    EXPECT_FALSE(parse_l2tp_control(view(hex("4002 0014 1234 0001 ff03 0021 4500 0000 0000 0000"))))
        << "a data message (T=0)";
    Msg hidden = l2tp_sccrq();
    hidden[12] = 0xc0;  // the Message Type AVP may not be hidden
    EXPECT_FALSE(parse_l2tp_control(view(hidden)));
}

TEST(Pptp, StartControlConnectionRequestAndEcho) {
    auto c = parse_pptp_control(view(pptp_sccrq()));
    ASSERT_TRUE(c);
    EXPECT_EQ(c->control_type, kPptpSccrq);
    EXPECT_EQ(c->protocol_version, 0x0100);
    EXPECT_EQ(c->host_name, "clinic-pc");
    EXPECT_EQ(c->vendor, "Microsoft");
    auto e = parse_pptp_control(view(pptp_echo()));
    ASSERT_TRUE(e);
    EXPECT_EQ(e->control_type, kPptpEchoRequest);
    // Two messages in one segment: the first is read.
    Msg two = pptp_echo();
    append(two, pptp_echo());
    EXPECT_TRUE(parse_pptp_control(view(two)));
}

TEST(Pptp, EveryTruncationAndWrongLengthIsRefused) {
    const Msg m = pptp_sccrq();
    for (std::size_t n = 0; n < m.size(); ++n)
        EXPECT_FALSE(parse_pptp_control(Bytes(m.data(), n))) << n;
    Msg bad = pptp_echo();
    bad[1] = 0x14;  // an Echo-Request is 16 bytes, not 20
    bad.resize(20);
    EXPECT_FALSE(parse_pptp_control(view(bad)));
    bad = pptp_echo();
    bad[7] = 0x4e;  // wrong cookie
    EXPECT_FALSE(parse_pptp_control(view(bad)));
}

// Payloads of other protocols and random bytes: none is taken for a VPN by any recogniser.
TEST(HandshakeRecognisers, LookAlikesAreNotRecognised) {
    std::vector<Msg> others = {
        // A DNS query for www.example.com (RFC 1035 §4.1).
        hex("a1b2 0100 0001 0000 0000 0000 03777777 076578616d706c65 03636f6d 00 0001 0001"),
        // The start of a TLS 1.2 ClientHello record, and an application data record.
        hex("16030100a5010000a10303"),
        hex("1703030040"),
        // The same query over TCP (RFC 1035 §4.2.2: a 16-bit length in front), an id whose
        // high byte reads as an OpenVPN control opcode.
        hex("0021 2345 0100 0001 0000 0000 0000 03777777 076578616d706c65 03636f6d 00 0001 0001"),
        // An SMB2 negotiate over NetBIOS session service.
        hex("000000a4fe534d4240000000"),
    };
    std::mt19937 rng(5);
    for (int i = 0; i < 2000; ++i) {
        Msg r;
        append_random(r, 16 + rng() % 200, rng);
        others.push_back(r);
    }
    for (const auto& name : handshake_recogniser_names()) {
        auto recognise = find_handshake_recogniser(name);
        ASSERT_TRUE(recognise) << name;
        for (const auto& m : others) EXPECT_FALSE(recognise(view(m))) << name;
    }
    EXPECT_FALSE(find_handshake_recogniser("no-such-protocol"));
}

TEST(HandshakeRecognisers, EachRecognisesItsMessage) {
    std::mt19937 rng(6);
    Msg natt = hex("00000000");
    append(natt, ike_sa_init());
    const std::vector<std::pair<const char*, Msg>> cases = {
        {"openvpn-client-reset", openvpn_client_reset()},
        {"openvpn-server-reset", openvpn_server_reset()},
        {"openvpn-tcp-client-reset", tcp_framed(openvpn_client_reset())},
        {"openvpn-tcp-server-reset", tcp_framed(openvpn_server_reset())},
        {"openvpn-tcp-packet", tcp_framed(openvpn_server_reset())},
        {"wireguard-initiation", wireguard(1, rng)},
        {"wireguard-response", wireguard(2, rng)},
        {"wireguard-cookie-reply", wireguard(3, rng)},
        {"wireguard-transport", wireguard(4, rng, 48)},
        {"ike-sa-init", ike_sa_init()},
        {"ike-sa-init", natt},
        {"ike-message", ikev1_main_mode()},
        {"l2tp-control", l2tp_sccrq()},
        {"l2tp-control", l2tp_hello()},
        {"pptp-control", pptp_sccrq()},
        {"pptp-control", pptp_echo()},
    };
    for (const auto& [name, m] : cases) {
        auto recognise = find_handshake_recogniser(name);
        ASSERT_TRUE(recognise) << name;
        EXPECT_TRUE(recognise(view(m))) << name;
    }
    // A client reset is not a server's, nor the other way round.
    EXPECT_FALSE(find_handshake_recogniser("openvpn-server-reset")(view(openvpn_client_reset())));
    EXPECT_FALSE(find_handshake_recogniser("wireguard-response")(view(wireguard(1, rng))));
}
