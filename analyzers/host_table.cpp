#include "analyzers/host_table.hpp"

#include <algorithm>

namespace clinicwatch {

namespace {

bool observe(std::vector<Observed>& list, std::size_t cap, const std::string& value,
             const std::string& source, Timestamp ts, std::uint32_t& overflows) {
    for (auto& o : list) {
        if (o.value == value && o.source == source) {
            o.last_seen = ts;
            return false;
        }
    }
    if (list.size() >= cap) {
        auto oldest = std::min_element(list.begin(), list.end(), [](const auto& a, const auto& b) {
            return a.last_seen < b.last_seen;
        });
        *oldest = Observed{value, source, ts, ts};
        ++overflows;
        return true;
    }
    list.push_back(Observed{value, source, ts, ts});
    return true;
}

}  // namespace

bool Host::observe_address(const std::string& value, const std::string& source, Timestamp ts) {
    bool added = observe(addresses, kMaxAddresses, value, source, ts, list_overflows);
    dirty |= added;
    return added;
}

bool Host::observe_name(const std::string& value, const std::string& source, Timestamp ts) {
    bool added = observe(names, kMaxNames, value, source, ts, list_overflows);
    dirty |= added;
    return added;
}

bool Host::observe_evidence(const std::string& value, const std::string& source, Timestamp ts) {
    bool added = observe(evidence, kMaxEvidence, value, source, ts, list_overflows);
    dirty |= added;
    return added;
}

bool Host::observe_service(std::uint16_t port) {
    if (std::find(tcp_services.begin(), tcp_services.end(), port) != tcp_services.end())
        return false;
    if (tcp_services.size() >= kMaxServices) {
        ++list_overflows;
        return false;
    }
    tcp_services.insert(std::upper_bound(tcp_services.begin(), tcp_services.end(), port), port);
    dirty = true;
    return true;
}

const Observed* Host::first_address() const {
    const Observed* first = nullptr;
    for (const auto& a : addresses)
        if (!first || a.first_seen < first->first_seen) first = &a;
    return first;
}

HostTable::HostTable(std::size_t capacity, std::uint64_t seed)
    : capacity_(std::max<std::size_t>(capacity, 1)), index_(capacity_), rng_(seed) {
    // Reserved whole: pages are only backed as devices arrive, and growing the table never
    // moves every device (during a MAC flood the moves were a tenth of the analysis).
    hosts_.reserve(capacity_);
    recency_.reserve(capacity_);
}

Host* HostTable::find(const MacAddress& mac, std::uint16_t vlan) {
    HostKey key{mac, vlan};
    if (last_slot_ < hosts_.size() && last_key_ == key) return &hosts_[last_slot_];
    std::size_t at = index_.find(key, key_at());
    if (at == Index::kNone) return nullptr;
    last_key_ = key;
    last_slot_ = at;
    return &hosts_[at];
}

const Host* HostTable::find(const MacAddress& mac, std::uint16_t vlan) const {
    std::size_t at = index_.find(HostKey{mac, vlan}, key_at());
    return at == Index::kNone ? nullptr : &hosts_[at];
}

Host* HostTable::touch(const MacAddress& mac, std::uint16_t vlan, Timestamp ts, bool* created) {
    if (created) *created = false;
    if (Host* h = find(mac, vlan)) {
        if (ts > h->last_seen) h->last_seen = ts;
        recency_[static_cast<std::size_t>(h - hosts_.data())] = h->pinned ? kPinned : h->last_seen;
        return h;
    }
    HostKey key{mac, vlan};
    if (hosts_.size() >= capacity_) {
        // The MAC and VLAN packed into 64 bits tell keys apart exactly.
        switch (probation_.check(HostKeyHash{}(key), mac.as_u64() << 16 | vlan, ts)) {
            case Probation::Outcome::started_waiting:
                ++newcomers_;
                return nullptr;
            case Probation::Outcome::waiting_again:
                return nullptr;
            case Probation::Outcome::admitted:
                break;
        }
        evict_one();
    } else {
        ++newcomers_;
    }
    if (created) *created = true;
    return &create(key, ts);
}

bool HostTable::restore(Host host) {
    if (hosts_.size() >= capacity_ || find(host.key.mac, host.key.vlan)) return false;
    HostKey key = host.key;
    Timestamp ts = host.last_seen;
    hosts_.push_back(std::move(host));
    recency_.push_back(ts);
    index_.add(hosts_.back().key, hosts_.size() - 1, key_at());
    last_key_ = key;
    last_slot_ = hosts_.size() - 1;
    return true;
}

Host& HostTable::create(const HostKey& key, Timestamp ts) {
    Host h;
    h.key = key;
    h.first_seen = h.last_seen = ts;
    h.randomized_mac = key.mac.is_locally_administered();
    hosts_.push_back(std::move(h));
    recency_.push_back(ts);
    index_.add(hosts_.back().key, hosts_.size() - 1, key_at());
    last_key_ = key;
    last_slot_ = hosts_.size() - 1;
    return hosts_.back();
}

void HostTable::evict_one() {
    // Sampled least-recently-seen: look at a few random hosts and evict the stalest unpinned
    // one. Constant time per eviction, which a flood of a million MACs needs.
    // The samples are read from `recency_`, a compact copy of last_seen (pinned hosts marked),
    // so a flood's evictions do not pull eight large Host records into the cache each time.
    // A host pinned since its last touch is found when chosen, marked, and sampling goes on.
    constexpr int kSamples = 8;
    std::size_t victim = SIZE_MAX;
    for (int i = 0; i < kSamples * 4 && (i < kSamples || victim == SIZE_MAX); ++i) {
        std::size_t s = rng_.pick(hosts_.size());
        if (recency_[s] == kPinned) continue;
        if (victim == SIZE_MAX || recency_[s] < recency_[victim]) victim = s;
        if (i + 1 == kSamples && victim != SIZE_MAX && hosts_[victim].pinned) {
            recency_[victim] = kPinned;
            victim = SIZE_MAX;
        }
    }
    if (victim != SIZE_MAX && hosts_[victim].pinned) {
        recency_[victim] = kPinned;
        victim = SIZE_MAX;
    }
    if (victim == SIZE_MAX) {  // everything sampled was pinned: take any unpinned host
        for (std::size_t s = 0; s < hosts_.size(); ++s)
            if (!hosts_[s].pinned) {
                victim = s;
                break;
            }
    }
    if (victim == SIZE_MAX) victim = rng_.pick(hosts_.size());  // all pinned: the cap still holds
    if (on_evict_) on_evict_(hosts_[victim]);
    evicted_list_overflows_ += hosts_[victim].list_overflows;
    index_.remove(hosts_[victim].key, victim);
    if (victim != hosts_.size() - 1) {
        hosts_[victim] = std::move(hosts_.back());
        recency_[victim] = recency_.back();
        index_.moved(hosts_[victim].key, hosts_.size() - 1, victim);
    }
    hosts_.pop_back();
    recency_.pop_back();
    last_slot_ = SIZE_MAX;
    ++evictions_;
}

std::uint64_t HostTable::list_overflows() const {
    std::uint64_t total = evicted_list_overflows_;
    for (const Host& h : hosts_) total += h.list_overflows;
    return total;
}

}  // namespace clinicwatch
