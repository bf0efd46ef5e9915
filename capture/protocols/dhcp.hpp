// DHCP (BOOTP with the DHCP options, RFC 2131/2132): a pure function from a UDP payload to the
// fields the inventory and the OS analyzer need. Bounded: option values are kept only up to
// small limits, so a hostile packet cannot make us allocate much.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "capture/address.hpp"
#include "capture/bytes.hpp"

namespace clinicwatch::dhcp {

constexpr std::uint16_t kServerPort = 67;
constexpr std::uint16_t kClientPort = 68;

enum MessageType : std::uint8_t {
    kDiscover = 1,
    kOffer = 2,
    kRequest = 3,
    kDecline = 4,
    kAck = 5,
    kNak = 6,
    kRelease = 7,
    kInform = 8
};

struct Message {
    std::uint8_t op = 0;  // 1 request (client), 2 reply (server)
    std::uint32_t xid = 0;
    IpAddress ciaddr, yiaddr, siaddr, giaddr;
    MacAddress chaddr;  // valid when chaddr_is_ethernet
    bool chaddr_is_ethernet = false;
    std::uint8_t message_type = 0;             // option 53; 0 = plain BOOTP
    std::string host_name;                     // option 12
    std::string fqdn;                          // option 81, decoded to dotted text
    std::string vendor_class;                  // option 60
    std::vector<std::uint8_t> parameter_list;  // option 55, in the order sent
    std::vector<std::uint8_t> client_id;       // option 61 (type byte first)
    std::optional<IpAddress> requested_ip;     // option 50
    std::optional<IpAddress> server_id;        // option 54
    std::optional<IpAddress> subnet_mask;      // option 1
    std::vector<IpAddress> routers;            // option 3
    std::vector<IpAddress> dns_servers;        // option 6
};

constexpr std::size_t kMaxTextOption = 255;
constexpr std::size_t kMaxAddressesPerOption = 8;

// `payload` is the UDP payload (BOOTP header onwards). Nothing when it is not BOOTP with the
// DHCP magic cookie, or when the fixed header is cut short.
std::optional<Message> parse(Bytes payload);

// Option 55 as sent, decimal and comma-separated: "1,15,3,6,44".
std::string parameter_list_text(const Message& m);

std::string_view message_type_name(std::uint8_t type);

}  // namespace clinicwatch::dhcp
