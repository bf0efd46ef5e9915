// VPN first messages laid out byte by byte as their specifications give them (OpenVPN,
// WireGuard, IKE, L2TP, PPTP), for the parser tests and the remote-access unit's tests.
#pragma once

#include <random>
#include <string>
#include <vector>

#include "capture/bytes.hpp"

namespace clinicwatch::test::vpn_messages {

using Msg = std::vector<std::uint8_t>;

inline Msg hex(const std::string& h) {
    Msg out;
    for (std::size_t i = 0; i + 1 < h.size();) {
        if (h[i] == ' ') {
            ++i;
            continue;
        }
        out.push_back(static_cast<std::uint8_t>(std::stoi(h.substr(i, 2), nullptr, 16)));
        i += 2;
    }
    return out;
}

inline void append(Msg& m, const Msg& more) {
    m.insert(m.end(), more.begin(), more.end());
}

inline void append_random(Msg& m, std::size_t n, std::mt19937& rng) {
    for (std::size_t i = 0; i < n; ++i) m.push_back(static_cast<std::uint8_t>(rng()));
}

inline void be16(Msg& m, std::size_t at, std::size_t v) {
    m[at] = static_cast<std::uint8_t>(v >> 8);
    m[at + 1] = static_cast<std::uint8_t>(v);
}

inline void be32(Msg& m, std::size_t at, std::size_t v) {
    be16(m, at, v >> 16);
    be16(m, at + 2, v & 0xffff);
}

inline Bytes view(const Msg& m) {
    return Bytes(m.data(), m.size());
}

// The session ids of zeek-openvpn's tests/Traces/9841-openvpn_udp_tlsauth.pcap as its README
// prints them (client "\x07I\x81\xbdyzU\x8d", server "f\xf9G\x09\x18\x8d\xae+").
inline const Msg kClientSession = hex("074981bd797a558d");
inline const Msg kServerSession = hex("66f94709188dae2b");

// P_CONTROL_HARD_RESET_CLIENT_V2 without tls-auth: opcode 7 << 3 | key 0, session id, no acks,
// message packet id 0 (doc_protocol_overview.h).
inline Msg openvpn_client_reset() {
    Msg m{0x38};
    append(m, kClientSession);
    append(m, hex("00 00000000"));
    return m;
}

// P_CONTROL_HARD_RESET_SERVER_V2: acknowledges the client's packet 0, names its session.
inline Msg openvpn_server_reset() {
    Msg m{0x40};
    append(m, kServerSession);
    append(m, hex("01 00000000"));
    append(m, kClientSession);
    append(m, hex("00000000"));
    return m;
}

// With tls-auth (SHA1 HMAC, 20 bytes): HMAC, replay packet id 1, time, then as above.
inline Msg openvpn_client_reset_tls_auth(std::mt19937& rng) {
    Msg m{0x38};
    append(m, kClientSession);
    append_random(m, 20, rng);
    append(m, hex("00000001 5f5e1000"));
    append(m, hex("00 00000000"));
    return m;
}

inline Msg tcp_framed(const Msg& packet) {
    Msg m(2);
    be16(m, 0, packet.size());
    append(m, packet);
    return m;
}

// WireGuard messages as https://www.wireguard.com/protocol/ lays them out; the cryptographic
// fields are random bytes of their sizes.
inline Msg wireguard(std::uint8_t type, std::mt19937& rng, std::size_t transport_packet = 0) {
    Msg m{type, 0, 0, 0};
    switch (type) {
        case 1:
            append(m, hex("78563412"));      // sender index 0x12345678
            append_random(m, 32, rng);       // unencrypted ephemeral
            append_random(m, 32 + 16, rng);  // encrypted static
            append_random(m, 12 + 16, rng);  // encrypted timestamp
            append_random(m, 32, rng);       // mac1, mac2
            break;
        case 2:
            append(m, hex("efbeadde 78563412"));  // sender, receiver (the initiator's)
            append_random(m, 32, rng);
            append_random(m, 0 + 16, rng);  // encrypted nothing
            append_random(m, 32, rng);
            break;
        case 3:
            append(m, hex("78563412"));
            append_random(m, 24 + 32, rng);  // nonce, encrypted cookie
            break;
        case 4:
            append(m, hex("efbeadde 0500000000000000"));  // receiver, counter 5
            append_random(m, transport_packet + 16, rng);
            break;
    }
    return m;
}

// IKEv2 IKE_SA_INIT request (RFC 7296 §3.1): initiator SPI, responder SPI 0, next payload SA
// (33), version 2.0, exchange 34, flags I, message id 0, length; then an SA payload.
inline Msg ike_sa_init() {
    Msg m = hex("8a3c5b1f0e2d4c6b 0000000000000000 21 20 22 08 00000000 00000000");
    append(m, hex("00 00 000c 00000008 01010000"));  // SA: generic header and a stub proposal
    be32(m, 24, m.size());
    return m;
}

// IKEv1 Main Mode first message (RFC 2408 §3.1, RFC 2409 §5): next payload SA (1), version
// 1.0, exchange 2, flags 0.
inline Msg ikev1_main_mode() {
    Msg m = hex("1122334455667788 0000000000000000 01 10 02 00 00000000 00000000");
    append(m, hex("00 00 000c 00000001 00000001"));
    be32(m, 24, m.size());
    return m;
}

// L2TP SCCRQ (RFC 2661 §3.1, §6.1): the control header, then Message Type (1), Protocol
// Version (1.0), Host Name "lac", Framing Capabilities (sync+async), Assigned Tunnel ID.
inline Msg l2tp_sccrq() {
    Msg m = hex("c802 0000 0000 0000 0000 0000");
    append(m, hex("8008 0000 0000 0001"));
    append(m, hex("8008 0000 0002 0100"));
    append(m, hex("8009 0000 0007 6c6163"));
    append(m, hex("800a 0000 0003 00000003"));
    append(m, hex("8008 0000 0009 1234"));
    be16(m, 2, m.size());
    return m;
}

// A HELLO in a running tunnel (RFC 2661 §6.5): tunnel id 0x1234, Ns 7, Nr 9.
inline Msg l2tp_hello() {
    Msg m = hex("c802 0014 1234 0000 0007 0009 8008 0000 0000 0006");
    return m;
}

// PPTP Start-Control-Connection-Request (RFC 2637 §2.1): 156 bytes.
inline Msg pptp_sccrq() {
    Msg m = hex("009c 0001 1a2b3c4d 0001 0000 0100 0000 00000003 00000003 0000 0a28");
    std::string host = "clinic-pc", vendor = "Microsoft";
    Msg h(64, 0), v(64, 0);
    std::copy(host.begin(), host.end(), h.begin());
    std::copy(vendor.begin(), vendor.end(), v.begin());
    append(m, h);
    append(m, v);
    return m;
}

// PPTP Echo-Request (RFC 2637 §2.5): 16 bytes, an identifier.
inline Msg pptp_echo() {
    return hex("0010 0001 1a2b3c4d 0005 0000 00000042");
}

}  // namespace clinicwatch::test::vpn_messages
