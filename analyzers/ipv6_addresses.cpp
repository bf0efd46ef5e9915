#include "analyzers/ipv6_addresses.hpp"

#include <algorithm>
#include <cstring>
#include <map>
#include <optional>
#include <string>

namespace clinicwatch {

namespace {

struct Seen {
    IpAddress address;
    Timestamp first = 0, last = 0;
    std::string_view kind;
};

bool eui64(const IpAddress& a) {
    return a.bytes[11] == 0xff && a.bytes[12] == 0xfe;
}

}  // namespace

std::vector<std::string_view> ipv6_address_kinds(const std::vector<Observed>& addresses) {
    // One entry per address, first seen the earliest and last seen the latest of its sources.
    std::map<std::string, Seen> by_value;
    for (const auto& o : addresses) {
        if (o.value.find(':') == std::string::npos) continue;
        auto it = by_value.find(o.value);
        if (it == by_value.end()) {
            auto a = IpAddress::parse(o.value);
            if (!a || !a->is_v6()) continue;
            by_value.emplace(o.value, Seen{*a, o.first_seen, o.last_seen, {}});
            continue;
        }
        if (o.first_seen && (!it->second.first || o.first_seen < it->second.first))
            it->second.first = o.first_seen;
        it->second.last = std::max(it->second.last, o.last_seen);
    }
    // Rules 1-2, and the /64 groups for the rest.
    std::map<std::string, std::vector<Seen*>> by_prefix;
    for (auto& [value, s] : by_value) {
        if (s.address.bytes[0] == 0xfe && (s.address.bytes[1] & 0xc0) == 0x80) {
            s.kind = kAddressLinkLocal;
        } else if (eui64(s.address)) {
            s.kind = kAddressStable;
        } else {
            by_prefix[std::string(reinterpret_cast<const char*>(s.address.bytes.data()), 8)]
                .push_back(&s);
        }
    }
    for (auto& [prefix, group] : by_prefix) {
        std::sort(group.begin(), group.end(), [](const Seen* a, const Seen* b) {
            return a->first != b->first ? a->first < b->first : a->address < b->address;
        });
        for (auto* s : group) s->kind = kAddressStable;  // rules 3 and 5
        // Rule 4: consecutive later addresses that replace each other.
        for (std::size_t i = 1; i + 1 < group.size(); ++i) {
            Seen* older = group[i];
            Seen* newer = group[i + 1];
            if (newer->first > older->first && newer->first - older->first <= kTemporaryLifetime) {
                older->kind = kAddressTemporary;
                newer->kind = kAddressTemporary;
            }
        }
    }
    std::vector<std::string_view> out;
    out.reserve(addresses.size());
    for (const auto& o : addresses) {
        auto it = by_value.find(o.value);
        out.push_back(it == by_value.end() ? std::string_view() : it->second.kind);
    }
    return out;
}

}  // namespace clinicwatch
