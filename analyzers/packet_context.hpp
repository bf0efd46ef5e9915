// What the application layer knows of one packet, handed to every analyzer with it: the packet's
// flow from the one FlowTable (looked up once per packet, by the dispatcher) and the packet's
// application messages, each parsed at most once, when the first analyzer asks for it, and
// shared by all the others (DHCP was parsed by five analyzers, DNS by two, SSDP by two ...).
//
// The accessors say what the payload would be parsed as; the caller decides from the ports
// whether asking makes sense (a DHCP server answers from 67, DNS from 53 or 5353 ...). A result
// is null when the payload is not such a message. Everything is valid until the next packet.
#pragma once

#include <optional>

#include "analyzers/flow_table.hpp"
#include "capture/packet.hpp"
#include "capture/protocols/cdp.hpp"
#include "capture/protocols/dhcp.hpp"
#include "capture/protocols/dns.hpp"
#include "capture/protocols/http.hpp"
#include "capture/protocols/lldp.hpp"
#include "capture/protocols/ntlmssp.hpp"
#include "capture/protocols/ssdp.hpp"
#include "capture/protocols/stp.hpp"
#include "capture/protocols/tls.hpp"

namespace clinicwatch {

class PacketContext {
  public:
    PacketContext() = default;
    // A context with no flow (a packet handed to one analyzer directly, e.g. in tests).
    explicit PacketContext(const Packet& packet) { reset(packet, {}); }
    PacketContext(const PacketContext&) = delete;
    PacketContext& operator=(const PacketContext&) = delete;

    // Starts a new packet: forgets what was parsed for the previous one.
    void reset(const Packet& packet, FlowTable::Lookup flow);

    // The packet's connection; null when it has none (not IP, a later fragment, or the flow table
    // was full and refused the new flow: counted there).
    Flow* flow() const { return flow_; }
    // True when the flow's opener sent this packet (index 0 of Flow's per-direction arrays).
    bool from_opener() const { return from_opener_; }
    std::size_t direction() const { return from_opener_ ? 0 : 1; }
    // True when this packet created its flow.
    bool new_flow() const { return new_flow_; }

    // The UDP/TCP payload parsed as each message type, once.
    const dhcp::Message* dhcp();
    const dns::Message* dns();
    const ssdp::Message* ssdp();
    const http::Message* http();
    const http::HttpRequest* http_request();     // from http(), its text made safe
    const tls::ClientHello* tls_client_hello();  // from this segment's record
    const tls::ServerHello* tls_server_hello();
    // A frame's layer-2 announcements, from its layer-3 payload: an LLDPDU (ethertype 0x88cc),
    // a CDP message (SNAP), an STP BPDU (LLC), each parsed once.
    const lldp::Message* lldp();
    const cdp::Message* cdp();
    const stp::Bpdu* stp();
    // The NTLMSSP message in the payload (an SMB SESSION_SETUP's security blob, a DCE/RPC
    // bind's auth trailer), found once.
    const ntlmssp::Message* ntlmssp();
    // The NTLMSSP message of an HTTP request's Authorization header (NTLM or Negotiate), once.
    const ntlmssp::Message* http_authorization_ntlmssp();

  private:
    template <typename T, typename Parse>
    const T* once(std::optional<T>& slot, bool& done, Parse parse) {
        return once_from(packet_->payload, slot, done, parse);
    }
    template <typename T, typename Parse>
    const T* once_from(Bytes bytes, std::optional<T>& slot, bool& done, Parse parse) {
        if (!done) {
            done = true;
            slot = parse(bytes);
        }
        return slot ? &*slot : nullptr;
    }

    const Packet* packet_ = nullptr;
    Flow* flow_ = nullptr;
    bool from_opener_ = true;
    bool new_flow_ = false;

    bool dhcp_done_ = false, dns_done_ = false, ssdp_done_ = false, http_done_ = false,
         client_hello_done_ = false, server_hello_done_ = false, http_request_done_ = false,
         ntlmssp_done_ = false, http_ntlmssp_done_ = false, lldp_done_ = false, cdp_done_ = false,
         stp_done_ = false;
    std::optional<dhcp::Message> dhcp_;
    std::optional<dns::Message> dns_;
    std::optional<ssdp::Message> ssdp_;
    std::optional<http::Message> http_;
    std::optional<http::HttpRequest> http_request_;
    std::optional<tls::ClientHello> client_hello_;
    std::optional<tls::ServerHello> server_hello_;
    std::optional<ntlmssp::Message> ntlmssp_, http_ntlmssp_;
    std::optional<lldp::Message> lldp_;
    std::optional<cdp::Message> cdp_;
    std::optional<stp::Bpdu> stp_;
};

// The application layer's per-packet work, run before the analyzers: the flow looked up once
// and a fresh context. The dispatcher owns one; a test driving one analyzer directly may too.
class ApplicationLayer {
  public:
    explicit ApplicationLayer(FlowTableSettings flows = {}) : flows_(flows) {}
    // The context of `packet` (valid until the next call; `packet` must outlive its use).
    PacketContext& begin(const Packet& packet) {
        context_.reset(packet, flows_.track(packet));
        return context_;
    }
    FlowTable& flows() { return flows_; }
    const FlowTable& flows() const { return flows_; }
    // Tells `unit` of each flow leaving the table (what the dispatcher does for all of its
    // analyzers), for a test or fuzz target that drives one unit directly.
    void report_flow_ends_to(Analyzer& unit) {
        flows_.set_on_end([&unit](Flow& flow) { unit.on_flow_end(flow); });
    }

  private:
    FlowTable flows_;
    PacketContext context_;
};

}  // namespace clinicwatch
