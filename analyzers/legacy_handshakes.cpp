#include "analyzers/legacy_handshakes.hpp"

#include <algorithm>
#include <cstring>

#include "analyzers/packet_context.hpp"
#include "capture/protocols/http.hpp"
#include "capture/protocols/ntlmssp.hpp"
#include "capture/protocols/ssh.hpp"

namespace clinicwatch {

namespace {

constexpr std::uint8_t kKindSsh1 = 1, kKindNtlmv1 = 2;

// SMB over TCP and NetBIOS, and the RPC endpoint mapper: where NTLMSSP travels raw.
bool smb_or_rpc_port(std::uint16_t port) {
    return port == 445 || port == 139 || port == 135;
}

// Only messages that carry a login are searched (a file transfer's segments are not): an SMB2
// SESSION_SETUP (MS-SMB2 2.2.1: command 1), an SMB1 SESSION_SETUP_ANDX (MS-CIFS 2.2.4.53: 0x73),
// both behind the 4-byte NetBIOS session header, or a DCE/RPC bind, alter context or auth3
// (C706 §12.6: version 5, packet types 11, 14, 16).
bool carries_login(Bytes p) {
    if (p.size() >= 4 + 64 && p[5] == 'S' && p[6] == 'M' && p[7] == 'B') {
        if (p[4] == 0xfe) return p[4 + 12] == 0x01 && p[4 + 13] == 0x00;
        if (p[4] == 0xff) return p[4 + 4] == 0x73;
        return false;
    }
    return p.size() >= 16 && p[0] == 5 && (p[2] == 11 || p[2] == 14 || p[2] == 16);
}

}  // namespace

LegacyHandshakes::LegacyHandshakes(FindingSink& sink,
                                   const std::vector<IpNetwork>& internal_networks)
    : sink_(sink), internal_(internal_networks) {}

bool LegacyHandshakes::first_time(std::uint8_t kind, const MacAddress& mac, const IpAddress& ip) {
    // Without MACs (a raw-IP capture) the device is its address (hashed beside the MAC range).
    const std::uint64_t device =
        mac.is_zero() ? (std::hash<IpAddress>{}(ip) | (std::uint64_t{1} << 47)) : mac.as_u64();
    const std::uint64_t key = (std::uint64_t{kind} << 56) ^ device;
    if (flagged_.count(key)) return false;
    if (flagged_.size() >= kMaxFlagged) {
        ++flagged_dropped_;
        return true;
    }
    flagged_.insert(key);
    return true;
}

void LegacyHandshakes::on_packet(const Packet& packet, PacketContext& context) {
    if (!packet.ip || packet.ip->is_later_fragment || !packet.tcp || packet.payload.empty()) return;
    const Bytes p = packet.payload;
    if (p.size() >= 8 && std::memcmp(p.data(), "SSH-1.", 6) == 0) return on_ssh(packet);
    const TcpView& t = *packet.tcp;
    // The smallest AUTHENTICATE is 64 bytes, inside an SMB or RPC header.
    if (smb_or_rpc_port(t.src_port) || smb_or_rpc_port(t.dst_port)) {
        if (p.size() >= 64 + 8 && carries_login(p))
            on_ntlm(packet, p[0] == 5 ? "rpc" : "smb", context);
        return;
    }
    // An HTTP request with an NTLM or Negotiate Authorization header, parsed once for every
    // unit (the OS fingerprint reads the same requests): no search of the bytes.
    // Responses (which carry none) are not parsed for it.
    if (p[0] >= 'A' && p[0] <= 'Z' &&
        std::memcmp(p.data(), "HTTP/", std::min<std::size_t>(5, p.size())) != 0 &&
        http::looks_like_http(p))
        on_ntlm(packet, "http", context);
}

void LegacyHandshakes::on_ssh(const Packet& packet) {
    auto banner = ssh::parse_banner(packet.payload);
    if (!banner || banner->proto_version == "1.99") return;
    const IpView& ip = *packet.ip;
    // The device that speaks it; else ours, which talked to it.
    const bool sender_in = internal_.contains(ip.src);
    if (!sender_in && !internal_.contains(ip.dst)) return;
    const MacAddress& mac = sender_in ? packet.src_mac : packet.dst_mac;
    const IpAddress& ours = sender_in ? ip.src : ip.dst;
    const IpAddress& peer = sender_in ? ip.dst : ip.src;
    if (!first_time(kKindSsh1, mac, ours)) return;
    const std::uint16_t port = sender_in ? packet.tcp->src_port : packet.tcp->dst_port;
    AlertUpdate a;
    a.kind = "legacy-ssh";
    a.key = "legacy-ssh:" + device_key(mac, ours);
    a.severity = Severity::medium;
    a.subject_mac = mac;
    a.subject = ours.to_string();
    a.first_seen = a.last_seen = packet.ts;
    const std::string line(banner->line);
    a.summary = (sender_in ? ours.to_string() + " speaks SSH version 1 ('" + line + "')"
                           : ours.to_string() + " talked to an SSH version 1 server " +
                                 peer.to_string() + " ('" + line + "')") +
                " (SSH-1 is broken; update the device or switch it to SSH-2)";
    a.evidence = {{"banner", line},
                  {"version", "SSH-" + std::string(banner->proto_version)},
                  {"software", std::string(banner->software)},
                  {"speaker", sender_in ? "device" : "peer"},
                  {"peer", peer.to_string()},
                  {"destination_ip", peer.to_string()},
                  {"port", port},
                  {"source", "RFC 4253 §5.1 (SSH-1.x other than 1.99 speaks only version 1)"}};
    sink_.alert(std::move(a));
}

void LegacyHandshakes::on_ntlm(const Packet& packet, std::string_view carrier,
                               PacketContext& context) {
    const ntlmssp::Message* m =
        carrier == "http" ? context.http_authorization_ntlmssp() : context.ntlmssp();
    if (!m || m->type != ntlmssp::kAuthenticate || m->nt_response_length != 24) return;
    const IpView& ip = *packet.ip;
    if (!internal_.contains(ip.src) || !first_time(kKindNtlmv1, packet.src_mac, ip.src)) return;
    AlertUpdate a;
    a.kind = "ntlmv1";
    a.key = "ntlmv1:" + device_key(packet.src_mac, ip.src);
    a.severity = Severity::medium;
    a.subject_mac = packet.src_mac;
    a.subject = ip.src.to_string();
    a.first_seen = a.last_seen = packet.ts;
    a.summary = ip.src.to_string() + " logged in to " + ip.dst.to_string() + " with NTLMv1 (" +
                std::string(carrier) +
                "); its password hash can be cracked from the traffic: raise the LAN Manager "
                "authentication level (NTLMv2 only)";
    a.evidence = {{"server_ip", ip.dst.to_string()},
                  {"destination_ip", ip.dst.to_string()},
                  {"carrier", std::string(carrier)},
                  {"port", packet.tcp->dst_port},
                  {"workstation", m->workstation},
                  {"domain", m->domain},
                  {"source", "MS-NLMP 2.2.1.3, 3.3.1 (NTLMv1: a 24-byte NtChallengeResponse)"}};
    sink_.alert(std::move(a));
}

void LegacyHandshakes::table_use(std::vector<TableUse>& out) const {
    out.push_back({"legacy-handshakes", "devices already flagged for SSH-1 or NTLMv1", kMaxFlagged,
                   flagged_dropped_});
}

}  // namespace clinicwatch
