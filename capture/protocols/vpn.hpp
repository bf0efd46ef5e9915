// The first messages of the VPN protocols a clinic's devices (or a vendor's maintenance box) may
// open to the internet or inside the LAN, read from a UDP or TCP payload on any port: OpenVPN's
// control packets, WireGuard's four message types, the IKE (v1 and v2) header, L2TP control
// messages and PPTP control messages. Each function checks the layout its specification gives
// (fixed sizes, reserved bits, length fields that must equal the payload) so that random or
// encrypted bytes are not taken for a VPN; nothing is decrypted.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>

#include "capture/bytes.hpp"

namespace clinicwatch::vpn {

// OpenVPN (openvpn src/openvpn/ssl_pkt.h opcodes; doc/doxygen/doc_protocol_overview.h layout):
// [TCP: 2-byte length] opcode(5 bits)|key_id(3 bits), session id (8), [tls-auth: HMAC,
// replay packet id (4), time (4)], ack count (1), acked packet ids (4 each), [peer's session id
// (8) when acks follow], message packet id (4), TLS bytes.
enum class OpenVpnOpcode : std::uint8_t {
    control_hard_reset_client_v1 = 1,
    control_hard_reset_server_v1 = 2,
    control_soft_reset_v1 = 3,
    control_v1 = 4,
    ack_v1 = 5,
    data_v1 = 6,
    control_hard_reset_client_v2 = 7,
    control_hard_reset_server_v2 = 8,
    data_v2 = 9,
    control_hard_reset_client_v3 = 10,
    control_wkc_v1 = 11,
};

struct OpenVpnReset {
    OpenVpnOpcode opcode{};
    std::uint8_t key_id = 0;
    bool from_server = false;
    std::array<std::uint8_t, 8> session_id{};
    std::size_t hmac_size = 0;  // 0 without tls-auth; 16, 20, 32 or 64 with it
    std::uint8_t acks = 0;      // server reset: the client packets it acknowledges
};

// A hard-reset packet (the first packet of each side). `tcp`: the payload starts with the
// 2-byte packet length, which must cover the rest of the segment or less.
std::optional<OpenVpnReset> parse_openvpn_reset(Bytes payload, bool tcp);
// Any OpenVPN packet over TCP whose length field is exactly the segment (a running tunnel:
// control, ack and data packets), with its opcode; DNS over TCP (the same length in front) is
// told apart by its question count.
std::optional<OpenVpnOpcode> parse_openvpn_tcp_packet(Bytes payload);

// An OpenVPN data packet over UDP as OpenVPN 2.4 and later send it (P_DATA_V2 in AEAD mode, the
// default cipher negotiation): opcode 9 and key id, the 24-bit peer id, the 4-byte packet id
// (the wire part of the AEAD nonce, counting up from 1 per direction and key), the 16-byte tag,
// then the ciphertext. Only the layout is checked here; that the peer id stays and the packet id
// counts up is a property of the session (rules: same_prefix, counter_at).
struct OpenVpnData {
    std::uint8_t key_id = 0;
    std::uint32_t peer_id = 0;
    std::uint32_t packet_id = 0;
};
std::optional<OpenVpnData> parse_openvpn_udp_data(Bytes payload);

// WireGuard (https://www.wireguard.com/protocol/, the whitepaper §5.4): a type byte, three zero
// bytes, then fixed-size messages; indices are little-endian.
enum class WireGuardType : std::uint8_t {
    handshake_initiation = 1,  // 148 bytes
    handshake_response = 2,    // 92 bytes
    cookie_reply = 3,          // 64 bytes
    transport_data = 4,        // 32 + 16n bytes
};
struct WireGuardMessage {
    WireGuardType type{};
    std::uint32_t sender = 0;    // initiation, response
    std::uint32_t receiver = 0;  // response, cookie reply, transport data
    std::uint64_t counter = 0;   // transport data
};
std::optional<WireGuardMessage> parse_wireguard(Bytes payload);

// IKE: the ISAKMP header of IKEv1 (RFC 2408 §3.1, exchanges RFC 2409) and of IKEv2 (RFC 7296
// §3.1), with RFC 3948 §2.2's four zero bytes (non-ESP marker) in front on UDP 4500.
struct IkeHeader {
    std::uint64_t initiator_spi = 0, responder_spi = 0;
    std::uint8_t next_payload = 0;
    std::uint8_t major = 0, minor = 0;
    std::uint8_t exchange = 0;
    std::uint8_t flags = 0;
    std::uint32_t message_id = 0;
    std::uint32_t length = 0;
    bool non_esp_marker = false;
    // IKEv2 IKE_SA_INIT request or IKEv1 Main/Aggressive Mode first message: a new SA.
    bool opens_sa() const;
    bool response() const { return major == 2 && (flags & 0x20); }
};
constexpr std::uint8_t kIkeSaInit = 34, kIkeAuth = 35, kIkeCreateChildSa = 36,
                       kIkeInformational = 37;
constexpr std::uint8_t kIkev1MainMode = 2, kIkev1Aggressive = 4, kIkev1Informational = 5,
                       kIkev1QuickMode = 32;
// The header, with its length equal to the message (the payload after any marker).
std::optional<IkeHeader> parse_ike(Bytes payload);

// L2TP control messages (RFC 2661 §3.1 for version 2, RFC 3931 §3.2.1 for version 3 over
// UDP): T, L and S bits set, the length equal to the payload, then AVPs of which the first is
// the Message Type AVP (RFC 2661 §4.4.1): SCCRQ 1, SCCRP 2, SCCCN 3, StopCCN 4, HELLO 6 ...
struct L2tpControl {
    std::uint8_t version = 0;  // 2 or 3
    std::uint16_t length = 0;
    std::uint32_t tunnel_id = 0;  // v3: the control connection id
    std::uint16_t session_id = 0;
    std::uint16_t ns = 0, nr = 0;
    std::optional<std::uint16_t> message_type;  // none: a zero-length body acknowledgement
};
constexpr std::uint16_t kL2tpSccrq = 1, kL2tpSccrp = 2, kL2tpHello = 6;
std::optional<L2tpControl> parse_l2tp_control(Bytes payload);

// PPTP control messages (RFC 2637 §1.4, §2): length, message type 1, magic cookie 0x1A2B3C4D,
// control message type, reserved; each control type has its fixed length (§2.1-2.16).
struct PptpControl {
    std::uint16_t length = 0;
    std::uint16_t control_type = 0;
    std::uint16_t protocol_version = 0;  // SCCRQ/SCCRP: 0x0100
    std::string host_name, vendor;       // SCCRQ/SCCRP, printable ASCII
};
constexpr std::uint16_t kPptpSccrq = 1, kPptpSccrp = 2, kPptpEchoRequest = 5, kPptpEchoReply = 6;
constexpr std::uint32_t kPptpMagicCookie = 0x1A2B3C4D;
// The first control message of the payload (a segment may carry more than one).
std::optional<PptpControl> parse_pptp_control(Bytes payload);

}  // namespace clinicwatch::vpn
