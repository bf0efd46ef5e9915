#include "analyzers/legacy_protocols.hpp"

#include <algorithm>

#include "analyzers/packet_context.hpp"

namespace clinicwatch {

namespace {

constexpr std::size_t kMaxValue = 200;

std::string_view clip(std::string_view s) {
    return s.substr(0, std::min(s.size(), kMaxValue));
}

std::string host_subject(const Host* h, const IpAddress& ip) {
    std::string s = ip.empty() ? (h ? h->key.mac.to_string() : "") : ip.to_string();
    if (h && !h->names.empty()) s += " " + h->names.front().value;
    return s;
}

}  // namespace

LegacyProtocolsSettings legacy_protocols_settings(const OsRules& rules) {
    LegacyProtocolsSettings s;
    if (const SupportEntry* ie = rules.product("internet-explorer-11"))
        s.internet_explorer_retired = ie->end_of_support;
    return s;
}

LegacyProtocols::LegacyProtocols(HostTable& hosts, FindingSink& sink,
                                 LegacyProtocolsSettings settings)
    : hosts_(hosts),
      sink_(sink),
      settings_(std::move(settings)),
      internal_(settings_.internal_networks) {}

void LegacyProtocols::raise_once(const Packet& p, Host* h, std::uint8_t flag, AlertUpdate a) {
    if (!h) return;
    auto it = raised_.find(h->key);
    if (it == raised_.end()) {
        if (raised_.size() >= settings_.max_tracked_hosts) {
            raised_.erase(raised_.begin());
            ++evictions_;
        }
        it = raised_.emplace(h->key, 0).first;
    }
    if (it->second & flag) return;
    it->second |= flag;
    a.subject_mac = h->key.mac;
    a.first_seen = a.last_seen = p.ts;
    sink_.alert(std::move(a));
}

void LegacyProtocols::on_smb(const Packet& p, const smb::Message& m, Host* src, Host* dst) {
    auto smb1_alert = [&](Host* h, const IpAddress& ip, const std::string& what) {
        if (!h) return;
        AlertUpdate a;
        a.kind = "smb1-in-use";
        a.key = "smb1-in-use:" + h->key.mac.to_string();
        a.severity = Severity::medium;
        a.subject = host_subject(h, ip);
        a.summary = "SMBv1 " + what + " on " + a.subject +
                    " (SMBv1 is obsolete and unsafe; disable it or replace the device)";
        const bool to_server = p.tcp->dst_port == 445 || p.tcp->dst_port == 139;
        a.evidence = {{"detail", what},
                      {"client", to_server ? p.ip->src.to_string() : p.ip->dst.to_string()},
                      {"server", to_server ? p.ip->dst.to_string() : p.ip->src.to_string()}};
        raise_once(p, h, kSmb1, std::move(a));
    };
    switch (m.kind) {
        case smb::Kind::smb1_negotiate_request: {
            if (m.dialect_names.empty()) break;
            bool smb2 = false;
            for (const auto& d : m.dialect_names) smb2 |= d.rfind("SMB 2", 0) == 0;
            if (!smb2) smb1_alert(src, p.ip->src, "offered as the only dialect by the client");
            break;
        }
        case smb::Kind::smb1_negotiate_response:
            // Answering in SMB1 means the server chose an SMB1 dialect.
            if (m.dialect_index != 0xffff) {
                smb1_alert(src, p.ip->src, "negotiated (server chose an SMB1 dialect)");
                smb1_alert(dst, p.ip->dst, "negotiated with " + p.ip->src.to_string());
            }
            break;
        case smb::Kind::smb1_session_setup_request:
        case smb::Kind::smb1_session_setup_response:
            smb1_alert(src, p.ip->src, "session setup");
            break;
        case smb::Kind::smb2_negotiate_request:
            break;
        default:
            if (m.smb1) smb1_alert(src, p.ip->src, "in use");
            break;
    }
}

void LegacyProtocols::legacy_tls(const Packet& p, Host* h, const IpAddress& ip,
                                 const std::string& how, std::uint16_t v, const std::string& peer,
                                 const std::string& sni) {
    if (!h) return;
    AlertUpdate a;
    a.kind = "legacy-tls";
    a.key = "legacy-tls:" + h->key.mac.to_string();
    a.severity = Severity::low;
    a.subject = host_subject(h, ip);
    a.summary = tls::version_name(v) + " " + how + " by " + a.subject +
                " (TLS 1.0/1.1 are deprecated; often an unpatched or old OS)";
    a.evidence = {{"version", tls::version_name(v)}, {"how", how}, {"peer", peer}};
    if (!sni.empty()) a.evidence["sni"] = sni;
    raise_once(p, h, kTls, std::move(a));
}

void LegacyProtocols::on_client_hello(const Packet& p, const tls::ClientHello& hello, Host* src) {
    std::uint16_t max = hello.highest_version();
    if (max <= tls::kTls11)
        legacy_tls(p, src, p.ip->src, "offered as the highest version", max, p.ip->dst.to_string(),
                   hello.sni);
}

void LegacyProtocols::on_packet(const Packet& p, PacketContext& context) {
    // A ServerHello choosing TLS 1.0/1.1: both ends speak it.
    if (!p.tcp || !p.ip || p.payload.empty() || p.payload[0] != 0x16 || p.tcp->syn() ||
        p.ip->is_later_fragment)
        return;
    const std::uint16_t sp = p.tcp->src_port, dp = p.tcp->dst_port;
    if (sp == 445 || dp == 445 || sp == 139 || dp == 139) return;  // SMB, not TLS
    if (!tls::is_handshake(p.payload, 2)) return;
    const tls::ServerHello* sh = context.tls_server_hello();  // parsed once for every unit
    if (!sh) return;
    std::uint16_t v = sh->negotiated_version();
    if (v > tls::kTls11) return;
    if (internal_.contains(p.ip->src))
        legacy_tls(p, hosts_.find(p.src_mac, p.vlan), p.ip->src, "negotiated as server", v,
                   p.ip->dst.to_string(), "");
    if (internal_.contains(p.ip->dst))
        legacy_tls(p, hosts_.find(p.dst_mac, p.vlan), p.ip->dst, "negotiated as client", v,
                   p.ip->src.to_string(), "");
}

void LegacyProtocols::on_http_request(const Packet& p, const http::Message& m, Host* src) {
    if (!src) return;
    std::string_view ua = m.user_agent;
    if (ua.find("MSIE ") == std::string_view::npos && ua.find("Trident/") == std::string_view::npos)
        return;
    AlertUpdate a;
    a.kind = "internet-explorer";
    a.key = "internet-explorer:" + src->key.mac.to_string();
    a.severity = Severity::medium;
    a.subject = host_subject(src, p.ip->src);
    a.summary = "Internet Explorer in use on " + a.subject + " (retired " +
                (settings_.internet_explorer_retired
                     ? format_day(*settings_.internet_explorer_retired) + "; "
                     : std::string()) +
                "unsupported browser engine)";
    a.evidence = {{"user_agent", std::string(clip(ua))}, {"host", std::string(clip(m.host))}};
    raise_once(p, src, kIe, std::move(a));
}

}  // namespace clinicwatch
