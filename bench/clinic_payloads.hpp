// Application payloads for the synthetic clinic capture: DHCP, DNS, NBNS, mDNS, SSDP, STP, TLS
// ClientHello, SMB2, DICOM and Telnet bytes laid out as the real protocols lay them out.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "bench/frame_builder.hpp"

namespace clinicwatch::bench {

// DHCP (RFC 2131/2132): BOOTP fixed part, magic cookie, options, padded to 300 bytes like most
// clients and servers send.
class DhcpOptions {
  public:
    DhcpOptions& add(std::uint8_t code, ByteView value);
    DhcpOptions& add(std::uint8_t code, std::string_view text);
    DhcpOptions& add_u8(std::uint8_t code, std::uint8_t v);
    DhcpOptions& add_u32(std::uint8_t code, std::uint32_t v);
    DhcpOptions& add_ip(std::uint8_t code, std::uint32_t ip) { return add_u32(code, ip); }
    const Frame& bytes() const { return bytes_; }

  private:
    Frame bytes_;
};
struct DhcpMessage {
    std::uint8_t op = 1;  // 1 request, 2 reply
    std::uint32_t xid = 0;
    std::uint16_t secs = 0, flags = 0;
    std::uint32_t ciaddr = 0, yiaddr = 0, siaddr = 0, giaddr = 0;
    MacAddress chaddr;
};
Frame dhcp_payload(const DhcpMessage& m, const DhcpOptions& options);

// DNS (RFC 1035), names written without compression.
void put_dns_name(Frame& f, std::string_view name);
Frame dns_query(std::uint16_t id, std::string_view name, std::uint16_t qtype,
                std::uint16_t flags = 0x0100);
struct DnsAnswerChain {
    std::string name;                 // as asked
    std::vector<std::string> cnames;  // name -> cnames[0] -> cnames[1] ...
    std::vector<std::uint32_t> addresses;
    std::uint32_t ttl = 300;
};
Frame dns_response(std::uint16_t id, const DnsAnswerChain& answer, std::uint16_t flags = 0x8180);

// NetBIOS name service registration (RFC 1002 4.2.2), B-node, broadcast.
std::string netbios_encode(std::string_view name, std::uint8_t suffix);
Frame nbns_registration(std::uint16_t id, std::string_view name, std::uint8_t suffix, bool group,
                        std::uint32_t ip);
Frame nbns_query(std::uint16_t id, std::string_view name, std::uint8_t suffix);

// mDNS (RFC 6762): an announcement of A and PTR records, or a PTR question.
Frame mdns_announcement(std::string_view host, std::uint32_t ip,
                        const std::vector<std::pair<std::string, std::string>>& services);
Frame mdns_question(const std::vector<std::string>& names);

// SSDP (UPnP 1.1) NOTIFY and M-SEARCH text.
std::string ssdp_notify(std::uint32_t ip, std::string_view uuid, std::string_view server,
                        std::string_view nt);
std::string ssdp_msearch(std::string_view st);

// IEEE 802.1D configuration BPDU (35 bytes, without LLC).
Frame stp_config_bpdu(const MacAddress& bridge, bool topology_change);

// TLS ClientHello record with SNI. style: 0 Windows 7 / 2008 R2 (TLS 1.0 offer), 1 Windows 10
// (TLS 1.2), 2 modern (1.3 with supported_versions and key_share).
Frame tls_client_hello(int style, std::string_view server_name, ByteView random32);
Frame tls_record(std::uint8_t content_type, ByteView body);

// SMB2 over NetBIOS session service.
Frame smb2_negotiate_request(std::uint64_t message_id, bool smb3, ByteView client_guid);
Frame smb2_negotiate_response(std::uint64_t message_id, std::uint16_t dialect,
                              ByteView server_guid);
Frame smb2_read_request(std::uint64_t message_id, std::uint64_t session, std::uint32_t tree,
                        std::uint32_t length, std::uint64_t offset);
Frame smb2_read_response(std::uint64_t message_id, std::uint64_t session, std::uint32_t tree,
                         ByteView data);

// DICOM upper layer PDUs (PS3.8).
Frame dicom_associate(bool accept, std::string_view called, std::string_view calling);
// One PDV in a P-DATA-TF PDU; `command` marks a command set (else a data set fragment).
Frame dicom_pdata(ByteView data, bool command, bool last);
// C-STORE request and response command sets (implicit VR little endian, PS3.7 9.3.1).
Frame dicom_cstore_command(bool response, std::uint16_t message_id, std::string_view sop_instance);
// The start of a data set holding only Pixel Data (7FE0,0010) OW of `pixel_bytes` bytes
// (explicit VR little endian); the pixel bytes follow in later fragments.
Frame dicom_pixel_data_header(std::uint32_t pixel_bytes);
Frame dicom_release(bool response);

}  // namespace clinicwatch::bench
