// The SSH identification line (RFC 4253 4.2): "SSH-protoversion-softwareversion SP comments".
// Both ends send one in clear text before anything else; it names the implementation and
// often the distribution release ("OpenSSH_8.2p1 Ubuntu-4ubuntu0.5").
#pragma once

#include <optional>
#include <string_view>

#include "capture/bytes.hpp"

namespace clinicwatch::ssh {

struct Banner {
    std::string_view line;           // without CR LF
    std::string_view proto_version;  // "2.0", "1.99"
    std::string_view software;       // "OpenSSH_8.2p1"
    std::string_view comments;       // "Ubuntu-4ubuntu0.5"
};

constexpr std::size_t kMaxBanner = 255;  // RFC 4253: 255 characters including CR LF

// The payload must start with "SSH-".
std::optional<Banner> parse_banner(Bytes payload);

}  // namespace clinicwatch::ssh
