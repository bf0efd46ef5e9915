// MAC and IP addresses as small value types: comparable, hashable, printable.
#pragma once

#include <array>
#include <bit>
#include <cstdint>
#include <cstring>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

namespace clinicwatch {

// The value of one hexadecimal digit (either case), or -1.
constexpr int hex_digit_value(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

struct MacAddress {
    std::array<std::uint8_t, 6> bytes{};

    static MacAddress from(const std::uint8_t* p) {
        MacAddress m;
        std::memcpy(m.bytes.data(), p, 6);
        return m;
    }
    // Accepts aa:bb:cc:dd:ee:ff, aa-bb-..., and aabb.ccdd.eeff (Cisco); case-insensitive.
    static std::optional<MacAddress> parse(std::string_view text);

    // The six bytes as a big-endian number (aa:bb:... is 0xaabb...). Two loads and byte swaps,
    // not a loop over the bytes: hashing and the zero/broadcast checks call this several times
    // per packet, and the loop was about a tenth of the analysis thread's instructions.
    std::uint64_t as_u64() const {
        std::uint32_t high;
        std::uint16_t low;
        std::memcpy(&high, bytes.data(), 4);
        std::memcpy(&low, bytes.data() + 4, 2);
        if constexpr (std::endian::native == std::endian::little) {
            high = __builtin_bswap32(high);
            low = __builtin_bswap16(low);
        }
        return (std::uint64_t{high} << 16) | low;
    }
    bool is_broadcast() const { return as_u64() == 0xffffffffffffULL; }
    bool is_multicast() const { return (bytes[0] & 0x01) != 0; }
    // Locally administered: set by software (phones' private addresses, VMs), not by a vendor.
    bool is_locally_administered() const { return (bytes[0] & 0x02) != 0; }
    bool is_zero() const { return as_u64() == 0; }
    std::string to_string() const;

    // Spelled out: the defaulted comparison calls memcmp, and host lookups compare MACs for
    // every packet.
    bool operator==(const MacAddress& o) const {
        std::uint32_t a, b;
        std::uint16_t c, d;
        std::memcpy(&a, bytes.data(), 4);
        std::memcpy(&b, o.bytes.data(), 4);
        std::memcpy(&c, bytes.data() + 4, 2);
        std::memcpy(&d, o.bytes.data() + 4, 2);
        return a == b && c == d;
    }
    auto operator<=>(const MacAddress&) const = default;
};

struct IpAddress {
    enum class Family : std::uint8_t { none = 0, v4 = 4, v6 = 6 };
    Family family = Family::none;
    std::array<std::uint8_t, 16> bytes{};  // v4 uses the first 4 bytes

    static IpAddress v4(const std::uint8_t* p) {
        IpAddress a;
        a.family = Family::v4;
        std::memcpy(a.bytes.data(), p, 4);
        return a;
    }
    static IpAddress v4(std::uint32_t host_order) {
        IpAddress a;
        a.family = Family::v4;
        a.bytes[0] = static_cast<std::uint8_t>(host_order >> 24);
        a.bytes[1] = static_cast<std::uint8_t>(host_order >> 16);
        a.bytes[2] = static_cast<std::uint8_t>(host_order >> 8);
        a.bytes[3] = static_cast<std::uint8_t>(host_order);
        return a;
    }
    static IpAddress v6(const std::uint8_t* p) {
        IpAddress a;
        a.family = Family::v6;
        std::memcpy(a.bytes.data(), p, 16);
        return a;
    }
    static std::optional<IpAddress> parse(std::string_view text);

    bool is_v4() const { return family == Family::v4; }
    bool is_v6() const { return family == Family::v6; }
    bool empty() const { return family == Family::none; }
    std::uint32_t v4_host_order() const {
        return (std::uint32_t{bytes[0]} << 24) | (std::uint32_t{bytes[1]} << 16) |
               (std::uint32_t{bytes[2]} << 8) | bytes[3];
    }
    bool is_unspecified() const;
    std::string to_string() const;

    // Spelled out like MacAddress's: the defaulted one calls memcmp, and tables keyed by address
    // (servers, bindings, flows) compare addresses for most packets.
    bool operator==(const IpAddress& o) const {
        std::uint64_t a[2], b[2];
        std::memcpy(a, bytes.data(), 16);
        std::memcpy(b, o.bytes.data(), 16);
        return family == o.family && a[0] == b[0] && a[1] == b[1];
    }
    auto operator<=>(const IpAddress&) const = default;
};

// An address block such as 192.168.0.0/16 or fd00::/8.
struct IpNetwork {
    IpAddress base;
    int prefix = 0;

    static std::optional<IpNetwork> parse(std::string_view text);
    bool contains(const IpAddress& a) const;
    std::string to_string() const;
};

}  // namespace clinicwatch

template <>
struct std::hash<clinicwatch::MacAddress> {
    std::size_t operator()(const clinicwatch::MacAddress& m) const noexcept {
        return std::hash<std::uint64_t>{}(m.as_u64());
    }
};
template <>
struct std::hash<clinicwatch::IpAddress> {
    // Two 64-bit words and a murmur-style finish: tables keyed by address are probed for
    // every boundary packet, and a byte-wise hash was a measurable part of a flood's cost.
    std::size_t operator()(const clinicwatch::IpAddress& a) const noexcept {
        std::uint64_t hi = 0, lo = 0;
        std::memcpy(&hi, a.bytes.data(), 8);
        std::memcpy(&lo, a.bytes.data() + 8, 8);
        std::uint64_t h = hi * 0x9e3779b97f4a7c15ULL ^ lo ^ static_cast<std::uint8_t>(a.family);
        h ^= h >> 33;
        h *= 0xff51afd7ed558ccdULL;
        h ^= h >> 33;
        return static_cast<std::size_t>(h);
    }
};
