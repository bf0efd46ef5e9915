#include "analyzers/asset_register.hpp"

#include <algorithm>
#include <cstdio>

namespace clinicwatch {

std::optional<MacPrefix> MacPrefix::parse(std::string_view text) {
    std::uint64_t value = 0;
    int digits = 0;
    for (char c : text) {
        if (c == ':' || c == '-' || c == '.') continue;
        int v = hex_digit_value(c);
        if (v < 0) return std::nullopt;
        if (++digits > 12) return std::nullopt;
        value = (value << 4) | static_cast<std::uint64_t>(v);
    }
    // At least a whole OUI: a shorter prefix would match half the world's vendors.
    if (digits < 6) return std::nullopt;
    MacPrefix p;
    p.bits = digits * 4;
    p.value = value << (48 - p.bits);
    return p;
}

std::string MacPrefix::to_string() const {
    std::string out;
    char buf[4];
    for (int i = 0; i < bits / 4; ++i) {
        if (i > 0 && i % 2 == 0) out.push_back(':');
        std::snprintf(buf, sizeof buf, "%x", static_cast<unsigned>((value >> (44 - 4 * i)) & 0xf));
        out += buf;
    }
    return out;
}

AssetRegister::AssetRegister(std::vector<RegisterEntry> entries) : entries_(std::move(entries)) {
    std::stable_sort(entries_.begin(), entries_.end(),
                     [](const auto& a, const auto& b) { return a.mac.bits > b.mac.bits; });
}

const RegisterEntry* AssetRegister::find(const MacAddress& mac) const {
    for (const auto& e : entries_)
        if (e.mac.matches(mac)) return &e;
    return nullptr;
}

}  // namespace clinicwatch
