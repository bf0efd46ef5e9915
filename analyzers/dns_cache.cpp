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

// FNV-1a over the name as DNS compares it: case-insensitive, trailing dot ignored.
std::uint64_t name_hash(const std::string& name) {
    std::size_t n = name.size();
    while (n > 0 && name[n - 1] == '.') --n;
    std::uint64_t h = 0xcbf29ce484222325ULL;
    for (std::size_t i = 0; i < n; ++i) {
        char c = name[i];
        if (c >= 'A' && c <= 'Z') c = static_cast<char>(c + 32);
        h = (h ^ static_cast<std::uint8_t>(c)) * 0x100000001b3ULL;
    }
    return h;
}

}  // namespace

void DnsNameCache::query(const dns::Message& message, const IpAddress& client,
                         std::uint16_t client_port, const IpAddress& server, Timestamp now) {
    if (message.is_response() || message.opcode() != 0 || message.questions.empty()) return;
    // Queries past their timeout are no longer outstanding: swept every timeout's length, so
    // the table holds the last seconds' queries and only a real burst makes it drop any (a
    // clinic's day of unanswered queries must not read as a table running over).
    if (now >= next_query_sweep_) {
        next_query_sweep_ = now + kQueryTimeout;
        queries_.erase_if([&](const DnsQueryKey&, const PendingQuery& q) {
            return now - q.sent > kQueryTimeout;
        });
    }
    DnsQueryKey key{client, server, client_port, message.id};
    queries_.insert(
        key, PendingQuery{name_hash(message.questions.front().name), now},
        [](const PendingQuery& a, const PendingQuery& b) { return a.sent < b.sent; },
        [](const DnsQueryKey&, const PendingQuery&) {});
}

DnsAnswerFate DnsNameCache::answer(const dns::Message& message, const IpAddress& server,
                                   const IpAddress& client, std::uint16_t client_port,
                                   Timestamp now) {
    if (!message.is_response()) return DnsAnswerFate::ignored;
    const PendingQuery* q = queries_.find(DnsQueryKey{client, server, client_port, message.id});
    // The entry stays until it times out: a client that repeats its query gets two answers.
    if (!q || now - q->sent > kQueryTimeout || message.questions.empty() ||
        name_hash(message.questions.front().name) != q->name_hash) {
        ++unsolicited_;
        return DnsAnswerFate::unsolicited;
    }
    learn(message, now);
    return DnsAnswerFate::learned;
}

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
