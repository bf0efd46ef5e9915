#include "capture/protocols/vpn.hpp"

#include <algorithm>

#include "capture/protocols/text.hpp"

namespace clinicwatch::vpn {

namespace {

// tls-auth HMAC sizes: MD5 16, SHA1 20 (OpenVPN's default), SHA256 32, SHA512 64.
constexpr std::size_t kHmacSizes[] = {0, 16, 20, 32, 64};

bool all_zero(Bytes b) {
    return std::all_of(b.begin(), b.end(), [](std::uint8_t v) { return v == 0; });
}

std::uint64_t load_be64(const std::uint8_t* p) {
    return (std::uint64_t{load_be32(p)} << 32) | load_be32(p + 4);
}

}  // namespace

std::optional<OpenVpnReset> parse_openvpn_reset(Bytes payload, bool tcp) {
    if (tcp) {
        if (payload.size() < 2) return std::nullopt;
        const std::size_t length = load_be16(payload.data());
        if (length == 0 || length + 2 > payload.size()) return std::nullopt;
        payload = payload.subspan(2, length);
    }
    if (payload.size() < 14) return std::nullopt;
    const std::uint8_t op = payload[0] >> 3;
    OpenVpnReset r;
    r.opcode = static_cast<OpenVpnOpcode>(op);
    r.key_id = payload[0] & 0x07;
    if (r.key_id != 0) return std::nullopt;  // a hard reset starts key 0
    const bool client = op == 1 || op == 7 || op == 10, server = op == 2 || op == 8;
    if (!client && !server) return std::nullopt;
    r.from_server = server;
    std::copy(payload.begin() + 1, payload.begin() + 9, r.session_id.begin());
    if (all_zero(payload.subspan(1, 8))) return std::nullopt;  // a random 64-bit id
    if (op == 10) {
        // tls-crypt-v2: replay packet id (starting at 1), time, 32-byte tag, encrypted rest.
        if (payload.size() < 9 + 8 + 32 || load_be32(payload.data() + 9) != 1) return std::nullopt;
        return r;
    }
    for (std::size_t hmac : kHmacSizes) {
        std::size_t at = 9;
        if (hmac) {
            // The replay packet id of tls-auth starts at 1; the time follows it.
            if (payload.size() < at + hmac + 8 || load_be32(payload.data() + at + hmac) != 1)
                continue;
            at += hmac + 8;
        }
        if (payload.size() < at + 1) continue;
        const std::uint8_t acks = payload[at++];
        if (client) {
            // Nothing to acknowledge yet; the message packet id is 0.
            if (acks != 0 || payload.size() < at + 4 || load_be32(payload.data() + at) != 0)
                continue;
        } else {
            // The server acknowledges the client's reset and names its session.
            if (acks == 0 || acks > 8) continue;
            const std::size_t need = at + acks * 4u + 8 + 4;
            if (payload.size() < need) continue;
            at += acks * 4u;
            if (all_zero(payload.subspan(at, 8))) continue;
            at += 8;
            if (load_be32(payload.data() + at) != 0) continue;
        }
        r.hmac_size = hmac;
        r.acks = acks;
        return r;
    }
    return std::nullopt;
}

std::optional<OpenVpnOpcode> parse_openvpn_tcp_packet(Bytes payload) {
    // The smallest packet is a data packet: opcode, peer id or HMAC, and an AEAD tag.
    if (payload.size() < 2 + 16) return std::nullopt;
    const std::size_t length = load_be16(payload.data());
    if (length + 2 != payload.size()) return std::nullopt;
    const std::uint8_t op = payload[2] >> 3;
    if (op < 1 || op > 11) return std::nullopt;
    // DNS over TCP has the same 16-bit length in front (RFC 1035 §4.2.2); its question count
    // (one) sits where OpenVPN carries a packet id or HMAC bytes, and says it is DNS.
    if (load_be16(payload.data() + 6) == 1) return std::nullopt;
    // P_DATA_V2's 24-bit peer id is assigned from 0 by the server: its high byte is 0.
    if (op == 9 && payload[3] != 0) return std::nullopt;
    return static_cast<OpenVpnOpcode>(op);
}

std::optional<OpenVpnData> parse_openvpn_udp_data(Bytes p) {
    // Header (4), packet id (4), tag (16) and at least one byte of ciphertext.
    if (p.size() < 4 + 4 + 16 + 1 || (p[0] >> 3) != 9) return std::nullopt;
    OpenVpnData d;
    d.key_id = p[0] & 0x07;
    d.peer_id = (std::uint32_t{p[1]} << 16) | (std::uint32_t{p[2]} << 8) | p[3];
    d.packet_id = load_be32(p.data() + 4);
    // Peer ids are handed out from 0 by the server (a clinic's has a handful of clients);
    // 0xffffff means "none assigned". Packet ids start at 1.
    if ((p[1] != 0 && d.peer_id != 0xffffff) || d.packet_id == 0) return std::nullopt;
    return d;
}

std::optional<WireGuardMessage> parse_wireguard(Bytes p) {
    if (p.size() < 32 || p[1] != 0 || p[2] != 0 || p[3] != 0) return std::nullopt;
    WireGuardMessage m;
    switch (p[0]) {
        case 1:
            if (p.size() != 148) return std::nullopt;
            m.sender = load_le32(p.data() + 4);
            break;
        case 2:
            if (p.size() != 92) return std::nullopt;
            m.sender = load_le32(p.data() + 4);
            m.receiver = load_le32(p.data() + 8);
            break;
        case 3:
            if (p.size() != 64) return std::nullopt;
            m.receiver = load_le32(p.data() + 4);
            break;
        case 4:
            // Header 16, the padded packet (a multiple of 16 bytes, RFC 7539 tag included).
            if (p.size() % 16 != 0) return std::nullopt;
            m.receiver = load_le32(p.data() + 4);
            m.counter = (std::uint64_t{load_le32(p.data() + 12)} << 32) | load_le32(p.data() + 8);
            break;
        default:
            return std::nullopt;
    }
    m.type = static_cast<WireGuardType>(p[0]);
    return m;
}

bool IkeHeader::opens_sa() const {
    if (responder_spi != 0) return false;
    if (major == 2) return exchange == kIkeSaInit && !(flags & 0x20) && message_id == 0;
    return exchange == kIkev1MainMode || exchange == kIkev1Aggressive;
}

std::optional<IkeHeader> parse_ike(Bytes payload) {
    IkeHeader h;
    if (payload.size() >= 4 + 28 && all_zero(payload.first(4))) {
        payload = payload.subspan(4);
        h.non_esp_marker = true;
    }
    if (payload.size() < 28) return std::nullopt;
    const std::uint8_t* p = payload.data();
    h.initiator_spi = load_be64(p);
    h.responder_spi = load_be64(p + 8);
    h.next_payload = p[16];
    h.major = p[17] >> 4;
    h.minor = p[17] & 0x0f;
    h.exchange = p[18];
    h.flags = p[19];
    h.message_id = load_be32(p + 20);
    h.length = load_be32(p + 24);
    if (h.initiator_spi == 0 || h.length != payload.size()) return std::nullopt;
    const std::uint8_t np = h.next_payload;
    if (h.major == 2) {
        // RFC 7296 §3.1: exchanges 34-37; flags I (0x08), V (0x10), R (0x20), others zero;
        // payload types 33-48 (§3.2) and 53 (SKF, RFC 7383).
        if (h.exchange < kIkeSaInit || h.exchange > kIkeInformational) return std::nullopt;
        if (h.flags & ~0x38) return std::nullopt;
        if (np != 0 && !(np >= 33 && np <= 48) && np != 53) return std::nullopt;
        if (h.exchange == kIkeSaInit && h.message_id != 0) return std::nullopt;
        return h;
    }
    if (h.major == 1 && h.minor == 0) {
        // RFC 2408 §3.1: flags E, C, A only; exchanges 1-5 (§4.1) and 32-33 (RFC 2409
        // Quick Mode, New Group Mode); payload types 0-13 (§3.1) and 20 (NAT-D, RFC 3947).
        const std::uint8_t x = h.exchange;
        if (!((x >= 1 && x <= 5) || x == kIkev1QuickMode || x == 33)) return std::nullopt;
        if (h.flags & ~0x07) return std::nullopt;
        if (np > 13 && np != 20 && np != 21) return std::nullopt;
        return h;
    }
    return std::nullopt;
}

std::optional<L2tpControl> parse_l2tp_control(Bytes p) {
    if (p.size() < 12) return std::nullopt;
    const std::uint16_t flags = load_be16(p.data());
    // T, L and S set; O, P and the reserved bits clear (RFC 2661 §3.1, RFC 3931 §3.2.1).
    if (flags != 0xC802 && flags != 0xC803) return std::nullopt;
    L2tpControl c;
    c.version = static_cast<std::uint8_t>(flags & 0x0f);
    c.length = load_be16(p.data() + 2);
    if (c.length != p.size()) return std::nullopt;
    if (c.version == 2) {
        c.tunnel_id = load_be16(p.data() + 4);
        c.session_id = load_be16(p.data() + 6);
    } else {
        c.tunnel_id = load_be32(p.data() + 4);
    }
    c.ns = load_be16(p.data() + 8);
    c.nr = load_be16(p.data() + 10);
    if (c.length == 12) return c;  // zero-length body: an acknowledgement
    // The Message Type AVP: M set, H clear, length 8, vendor 0, attribute 0.
    if (p.size() < 20 || load_be16(p.data() + 12) != 0x8008 || load_be16(p.data() + 14) != 0 ||
        load_be16(p.data() + 16) != 0)
        return std::nullopt;
    const std::uint16_t type = load_be16(p.data() + 18);
    // RFC 2661 §3.2: 1-16 (5 reserved); RFC 3931 §6: 20 (explicit ACK) for version 3.
    if (!((type >= 1 && type <= 16 && type != 5) || (c.version == 3 && type == 20)))
        return std::nullopt;
    c.message_type = type;
    return c;
}

std::optional<PptpControl> parse_pptp_control(Bytes p) {
    // RFC 2637 §2.1-2.16: the length of each control message type.
    static constexpr std::uint16_t kLength[] = {0,  156, 156, 16, 16, 16,  20, 168,
                                                32, 220, 24,  28, 16, 148, 40, 24};
    if (p.size() < 16) return std::nullopt;
    PptpControl c;
    c.length = load_be16(p.data());
    if (load_be16(p.data() + 2) != 1 || load_be32(p.data() + 4) != kPptpMagicCookie)
        return std::nullopt;
    c.control_type = load_be16(p.data() + 8);
    if (load_be16(p.data() + 10) != 0) return std::nullopt;  // Reserved0
    if (c.control_type < 1 || c.control_type > 15 || c.length != kLength[c.control_type] ||
        c.length > p.size())
        return std::nullopt;
    if (c.control_type == kPptpSccrq || c.control_type == kPptpSccrp) {
        c.protocol_version = load_be16(p.data() + 12);
        c.host_name = text::cstring(p.subspan(28, 64), 64);
        c.vendor = text::cstring(p.subspan(92, 64), 64);
    }
    return c;
}

}  // namespace clinicwatch::vpn
