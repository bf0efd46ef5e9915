#include "capture/address.hpp"

#include <arpa/inet.h>

#include <cctype>
#include <charconv>

namespace clinicwatch {

std::optional<MacAddress> MacAddress::parse(std::string_view text) {
    std::string hex;
    for (char c : text) {
        if (c == ':' || c == '-' || c == '.') continue;
        if (hex_digit_value(c) < 0) return std::nullopt;
        hex.push_back(c);
    }
    if (hex.size() != 12) return std::nullopt;
    MacAddress m;
    for (std::size_t i = 0; i < 6; ++i) {
        m.bytes[i] = static_cast<std::uint8_t>(hex_digit_value(hex[2 * i]) * 16 +
                                               hex_digit_value(hex[2 * i + 1]));
    }
    return m;
}

std::string MacAddress::to_string() const {
    static constexpr char kDigits[] = "0123456789abcdef";
    std::string s(17, ':');
    for (std::size_t i = 0; i < 6; ++i) {
        s[3 * i] = kDigits[bytes[i] >> 4];
        s[3 * i + 1] = kDigits[bytes[i] & 0x0f];
    }
    return s;
}

std::optional<IpAddress> IpAddress::parse(std::string_view text) {
    std::string s(text);
    IpAddress a;
    if (inet_pton(AF_INET, s.c_str(), a.bytes.data()) == 1) {
        a.family = Family::v4;
        return a;
    }
    if (inet_pton(AF_INET6, s.c_str(), a.bytes.data()) == 1) {
        a.family = Family::v6;
        return a;
    }
    return std::nullopt;
}

bool IpAddress::is_unspecified() const {
    std::size_t n = is_v4() ? 4 : 16;
    for (std::size_t i = 0; i < n; ++i)
        if (bytes[i] != 0) return false;
    return true;
}

std::string IpAddress::to_string() const {
    char buf[INET6_ADDRSTRLEN] = {};
    if (is_v4()) {
        // By hand: inet_ntop goes through sprintf, and floods format an address per packet.
        char* p = buf;
        for (std::size_t i = 0; i < 4; ++i) {
            unsigned v = bytes[i];
            if (v >= 100) *p++ = static_cast<char>('0' + v / 100);
            if (v >= 10) *p++ = static_cast<char>('0' + v / 10 % 10);
            *p++ = static_cast<char>('0' + v % 10);
            if (i < 3) *p++ = '.';
        }
        return std::string(buf, static_cast<std::size_t>(p - buf));
    }
    if (is_v6()) inet_ntop(AF_INET6, bytes.data(), buf, sizeof buf);
    return buf;
}

std::optional<IpNetwork> IpNetwork::parse(std::string_view text) {
    auto slash = text.find('/');
    auto base = IpAddress::parse(text.substr(0, slash));
    if (!base) return std::nullopt;
    int max_prefix = base->is_v4() ? 32 : 128;
    int prefix = max_prefix;
    if (slash != std::string_view::npos) {
        auto digits = text.substr(slash + 1);
        auto [ptr, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), prefix);
        if (ec != std::errc{} || ptr != digits.data() + digits.size() || prefix < 0 ||
            prefix > max_prefix)
            return std::nullopt;
    }
    return IpNetwork{*base, prefix};
}

bool IpNetwork::contains(const IpAddress& a) const {
    if (a.family != base.family) return false;
    int full = prefix / 8;
    for (int i = 0; i < full; ++i)
        if (a.bytes[i] != base.bytes[i]) return false;
    int bits = prefix % 8;
    if (bits == 0) return true;
    std::uint8_t mask = static_cast<std::uint8_t>(0xff << (8 - bits));
    return (a.bytes[full] & mask) == (base.bytes[full] & mask);
}

std::string IpNetwork::to_string() const {
    return base.to_string() + "/" + std::to_string(prefix);
}

}  // namespace clinicwatch
