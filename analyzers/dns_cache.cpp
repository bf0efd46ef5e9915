#include "analyzers/dns_cache.hpp"

#include <algorithm>

namespace clinicwatch {

namespace {

std::string lower(std::string s) {
    for (auto& c : s)
        if (c >= 'A' && c <= 'Z') c = static_cast<char>(c + 32);
    while (!s.empty() && s.back() == '.') s.pop_back();
    return s;
}

}  // namespace

void DnsNameCache::learn(const dns::Message& message, Timestamp now) {
    if (!message.is_response() || message.rcode() != 0) return;
    for (const auto& rec : message.answers) {
        if ((rec.type != dns::kA && rec.type != dns::kAaaa) || rec.address.empty()) continue;
        std::string name = lower(rec.name);
        std::uint32_t ttl = rec.ttl;
        // Walk the CNAME chain back to the name that was asked for.
        for (int step = 0; step < kMaxChain; ++step) {
            const dns::Record* parent = nullptr;
            for (const auto& c : message.answers)
                if (c.type == dns::kCname && lower(c.target) == name) {
                    parent = &c;
                    break;
                }
            if (!parent) break;
            name = lower(parent->name);
            ttl = std::min(ttl, parent->ttl);
        }
        if (name.empty()) continue;
        Timestamp expires =
            now + static_cast<Timestamp>(std::max(ttl, kMinTtlSeconds)) * kMicrosPerSecond;
        store(rec.address, std::move(name), expires);
    }
}

void DnsNameCache::store(const IpAddress& address, std::string name, Timestamp expires) {
    table_.insert(
        address, Entry{std::move(name), expires},
        [](const Entry& a, const Entry& b) { return a.expires < b.expires; },
        [](const IpAddress&, const Entry&) {});
}

const std::string* DnsNameCache::lookup(const IpAddress& address, Timestamp now) {
    Entry* e = table_.find(address);
    if (!e) return nullptr;
    if (e->expires < now) {
        table_.erase(address);
        return nullptr;
    }
    return &e->name;
}

}  // namespace clinicwatch
