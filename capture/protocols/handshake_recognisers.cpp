#include "capture/protocols/handshake_recognisers.hpp"

#include "capture/protocols/vpn.hpp"

namespace clinicwatch {

namespace {

struct Entry {
    std::string_view name;
    HandshakeRecogniser recognise;
};

bool wireguard_is(Bytes p, vpn::WireGuardType type) {
    auto m = vpn::parse_wireguard(p);
    return m && m->type == type;
}

bool openvpn_reset(Bytes p, bool tcp, bool server) {
    auto r = vpn::parse_openvpn_reset(p, tcp);
    return r && r->from_server == server;
}

constexpr Entry kRecognisers[] = {
    {"openvpn-client-reset", [](Bytes p) { return openvpn_reset(p, false, false); }},
    {"openvpn-server-reset", [](Bytes p) { return openvpn_reset(p, false, true); }},
    {"openvpn-tcp-client-reset", [](Bytes p) { return openvpn_reset(p, true, false); }},
    {"openvpn-tcp-server-reset", [](Bytes p) { return openvpn_reset(p, true, true); }},
    {"openvpn-tcp-packet", [](Bytes p) { return vpn::parse_openvpn_tcp_packet(p).has_value(); }},
    {"openvpn-udp-data", [](Bytes p) { return vpn::parse_openvpn_udp_data(p).has_value(); }},
    {"wireguard-initiation",
     [](Bytes p) { return wireguard_is(p, vpn::WireGuardType::handshake_initiation); }},
    {"wireguard-response",
     [](Bytes p) { return wireguard_is(p, vpn::WireGuardType::handshake_response); }},
    {"wireguard-cookie-reply",
     [](Bytes p) { return wireguard_is(p, vpn::WireGuardType::cookie_reply); }},
    {"wireguard-transport",
     [](Bytes p) { return wireguard_is(p, vpn::WireGuardType::transport_data); }},
    {"ike-sa-init",
     [](Bytes p) {
         auto h = vpn::parse_ike(p);
         return h && h->opens_sa();
     }},
    {"ike-message", [](Bytes p) { return vpn::parse_ike(p).has_value(); }},
    {"l2tp-control",
     [](Bytes p) {
         auto c = vpn::parse_l2tp_control(p);
         return c && c->message_type.has_value();
     }},
    {"pptp-control", [](Bytes p) { return vpn::parse_pptp_control(p).has_value(); }},
};

}  // namespace

HandshakeRecogniser find_handshake_recogniser(std::string_view name) {
    for (const auto& e : kRecognisers)
        if (e.name == name) return e.recognise;
    return nullptr;
}

std::vector<std::string_view> handshake_recogniser_names() {
    std::vector<std::string_view> out;
    for (const auto& e : kRecognisers) out.push_back(e.name);
    return out;
}

}  // namespace clinicwatch
