// LLDP (IEEE 802.1AB, ethertype 0x88cc): what a switch, access point or phone says about itself.
// A pure function over the LLDPDU (the bytes after the Ethernet header).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "capture/address.hpp"
#include "capture/bytes.hpp"

namespace clinicwatch::lldp {

constexpr std::uint16_t kEtherType = 0x88cc;

// System capabilities bits (802.1AB 8.5.8).
enum Capability : std::uint16_t {
    kOther = 1 << 0,
    kRepeater = 1 << 1,
    kBridge = 1 << 2,
    kWlanAccessPoint = 1 << 3,
    kRouter = 1 << 4,
    kTelephone = 1 << 5,
    kDocsis = 1 << 6,
    kStation = 1 << 7
};

struct Message {
    std::uint8_t chassis_id_subtype = 0;
    std::string chassis_id;  // MAC printed when subtype 4, else the text
    std::uint8_t port_id_subtype = 0;
    std::string port_id;
    std::uint16_t ttl = 0;
    std::string port_description;
    std::string system_name;
    std::string system_description;
    std::uint16_t capabilities = 0;          // what the system can do
    std::uint16_t enabled_capabilities = 0;  // what is switched on
    std::vector<IpAddress> management_addresses;
};

constexpr std::size_t kMaxText = 512;
constexpr std::size_t kMaxManagementAddresses = 4;

// Needs the three mandatory TLVs (chassis id, port id, TTL) in order; nothing otherwise.
std::optional<Message> parse(Bytes lldpdu);

// "bridge,router" (enabled capabilities; all capabilities when none are enabled).
std::string capabilities_text(std::uint16_t caps);

}  // namespace clinicwatch::lldp
