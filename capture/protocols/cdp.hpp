// CDP (Cisco Discovery Protocol, LLC/SNAP OUI 00:00:0c type 0x2000): the device id, platform,
// software version and port a Cisco device announces. A pure function over the CDP PDU (the
// bytes after the SNAP header).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "capture/address.hpp"
#include "capture/bytes.hpp"

namespace clinicwatch::cdp {

constexpr std::uint32_t kSnapOui = 0x00000c;
constexpr std::uint16_t kSnapType = 0x2000;

struct Message {
    std::uint8_t version = 0;
    std::uint8_t ttl = 0;
    std::string device_id;
    std::string platform;
    std::string software_version;
    std::string port_id;
    std::uint32_t capabilities = 0;
    std::vector<IpAddress> addresses;
};

constexpr std::size_t kMaxText = 512;
constexpr std::size_t kMaxAddresses = 4;

std::optional<Message> parse(Bytes pdu);

// "router,switch" from the capability bits.
std::string capabilities_text(std::uint32_t caps);

}  // namespace clinicwatch::cdp
