#include "analyzers/packet_context.hpp"

namespace clinicwatch {

void PacketContext::reset(const Packet& packet, FlowTable::Lookup flow) {
    packet_ = &packet;
    flow_ = flow.flow;
    from_opener_ = flow.from_opener;
    new_flow_ = flow.created;
    // Only the flags: a parsed message is replaced when the next packet asks for one.
    dhcp_done_ = dns_done_ = ssdp_done_ = http_done_ = client_hello_done_ = server_hello_done_ =
        http_request_done_ = ntlmssp_done_ = http_ntlmssp_done_ = lldp_done_ = cdp_done_ =
            stp_done_ = false;
}

const dhcp::Message* PacketContext::dhcp() {
    return once(dhcp_, dhcp_done_, [](Bytes b) { return dhcp::parse(b); });
}

const dns::Message* PacketContext::dns() {
    return once(dns_, dns_done_, [](Bytes b) { return dns::parse(b); });
}

const ssdp::Message* PacketContext::ssdp() {
    return once(ssdp_, ssdp_done_, [](Bytes b) { return ssdp::parse(b); });
}

const http::Message* PacketContext::http() {
    return once(http_, http_done_, [](Bytes b) { return http::parse(b); });
}

const http::HttpRequest* PacketContext::http_request() {
    return once(http_request_, http_request_done_, [this](Bytes) {
        const http::Message* m = http();
        return m ? http::request_of(*m) : std::nullopt;
    });
}

const tls::ClientHello* PacketContext::tls_client_hello() {
    return once(client_hello_, client_hello_done_,
                [](Bytes b) { return tls::parse_client_hello(b); });
}

const lldp::Message* PacketContext::lldp() {
    return once_from(packet_->l3_payload, lldp_, lldp_done_,
                     [](Bytes b) { return lldp::parse(b); });
}

const cdp::Message* PacketContext::cdp() {
    return once_from(packet_->l3_payload, cdp_, cdp_done_, [](Bytes b) { return cdp::parse(b); });
}

const stp::Bpdu* PacketContext::stp() {
    return once_from(packet_->l3_payload, stp_, stp_done_, [](Bytes b) { return stp::parse(b); });
}

const ntlmssp::Message* PacketContext::ntlmssp() {
    return once(ntlmssp_, ntlmssp_done_, [](Bytes b) { return ntlmssp::find(b); });
}

const ntlmssp::Message* PacketContext::http_authorization_ntlmssp() {
    return once(http_ntlmssp_, http_ntlmssp_done_, [this](Bytes) {
        const http::Message* m = http();
        return m && m->request && !m->authorization.empty()
                   ? ntlmssp::parse_http_auth(m->authorization)
                   : std::nullopt;
    });
}

const tls::ServerHello* PacketContext::tls_server_hello() {
    return once(server_hello_, server_hello_done_,
                [](Bytes b) { return tls::parse_server_hello(b); });
}

}  // namespace clinicwatch
