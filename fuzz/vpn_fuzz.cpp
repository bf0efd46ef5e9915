// The VPN first-message parsers (capture/protocols/vpn.hpp) and every named handshake
// recogniser on the same bytes, as a UDP and as a TCP payload.
#include <cstddef>
#include <cstdint>

#include "capture/protocols/handshake_recognisers.hpp"
#include "capture/protocols/vpn.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    using namespace clinicwatch;
    const Bytes in(data, size);
    std::size_t seen = 0;
    if (auto r = vpn::parse_openvpn_reset(in, false)) seen += r->hmac_size + r->acks;
    if (auto r = vpn::parse_openvpn_reset(in, true)) seen += r->hmac_size + r->acks;
    if (auto o = vpn::parse_openvpn_tcp_packet(in)) seen += static_cast<std::size_t>(*o);
    if (auto d = vpn::parse_openvpn_udp_data(in)) seen += d->packet_id + d->peer_id + d->key_id;
    if (auto w = vpn::parse_wireguard(in)) seen += w->sender + w->receiver;
    if (auto h = vpn::parse_ike(in)) seen += h->length + h->opens_sa();
    if (auto l = vpn::parse_l2tp_control(in)) seen += l->length + l->message_type.value_or(0);
    if (auto p = vpn::parse_pptp_control(in)) seen += p->host_name.size() + p->vendor.size();
    for (auto name : handshake_recogniser_names()) seen += find_handshake_recogniser(name)(in);
    volatile std::size_t sink = seen;
    (void)sink;
    return 0;
}
