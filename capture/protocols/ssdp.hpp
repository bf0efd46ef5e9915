// SSDP (UPnP discovery, UDP 1900): NOTIFY announcements, M-SEARCH requests and their unicast
// responses. HTTP-like text; only the headers that name a device are kept.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "capture/bytes.hpp"

namespace clinicwatch::ssdp {

constexpr std::uint16_t kPort = 1900;

enum class Kind : std::uint8_t { notify, search, response };

struct Message {
    Kind kind = Kind::notify;
    std::string server;      // SERVER: "OS/version UPnP/1.0 product/version"
    std::string usn;         // USN: unique service name (uuid:...)
    std::string location;    // LOCATION: URL of the device description
    std::string nt;          // NT (notify) or ST (search, response)
    std::string nts;         // ssdp:alive / ssdp:byebye
    std::string user_agent;  // USER-AGENT (M-SEARCH from some clients)
};

constexpr std::size_t kMaxHeaderValue = 256;
constexpr std::size_t kMaxHeaders = 32;

std::optional<Message> parse(Bytes payload);

}  // namespace clinicwatch::ssdp
