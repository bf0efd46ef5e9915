// The shared table of devices seen on the LAN, keyed by MAC (+VLAN). Every analyzer reads and
// enriches the same Host records; the store writes the changed ones in batches.
//
// The table has a hard capacity. A MAC flood must not take the sensor down, nor push the real
// devices out: once the table is full, a MAC not in it waits in a small probation array and is
// admitted only when it sends again a second to a minute later (a forged flood MAC sends once,
// a DHCP starvation tool's twice at once). Admitting
// evicts the least recently seen of a few sampled hosts (registered devices are kept). Both the
// turned-away frames and the evictions are counted so they can be reported as findings.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <unordered_map>
#include <vector>

#include "analyzers/probation.hpp"
#include "analyzers/sample_rng.hpp"
#include "analyzers/slot_index.hpp"
#include "capture/address.hpp"
#include "capture/packet.hpp"

namespace clinicwatch {

struct HostKey {
    MacAddress mac;
    std::uint16_t vlan = 0;
    bool operator==(const HostKey&) const = default;
};

struct HostKeyHash {
    std::size_t operator()(const HostKey& k) const noexcept {
        std::uint64_t v = (k.mac.as_u64() << 12) ^ k.vlan;
        v ^= v >> 33;
        v *= 0xff51afd7ed558ccdULL;
        v ^= v >> 33;
        return static_cast<std::size_t>(v);
    }
};

// A value learned about a host, with where it came from and when (packet time).
struct Observed {
    std::string value;
    std::string source;  // "arp", "dhcp", "nbns", "mdns", "llmnr", "lldp", "ip" ...
    Timestamp first_seen = 0;
    Timestamp last_seen = 0;
};

struct Host {
    HostKey key;
    Timestamp first_seen = 0;
    Timestamp last_seen = 0;
    std::uint64_t frames = 0;
    std::uint64_t bytes = 0;

    std::vector<Observed> addresses;  // IPv4 and IPv6, printed; bounded by kMaxAddresses
    std::vector<Observed> names;      // host names; bounded by kMaxNames
    std::string vendor;               // IEEE registry organisation, empty when unknown
    bool randomized_mac = false;      // locally administered address

    // Evidence kept for other analyzers (OS fingerprinting), as "kind" -> text.
    std::vector<Observed> evidence;           // bounded by kMaxEvidence
    std::vector<std::uint16_t> tcp_services;  // ports answered with SYN-ACK, bounded

    // Operating system guess (filled by the OS analyzer when it exists).
    std::string os_family, os_version;
    double os_confidence = 0.0;
    std::string os_support;      // end of support: "past", "ending-soon", "supported", "unknown"
    std::string os_support_end;  // ISO date of the end of support, when known
    std::string os_explanation;  // JSON: the evidence behind the guess (`assets --why`)

    bool pinned = false;  // registered devices are never evicted

    // From the asset register (config): set when the device matches an entry.
    bool registered = false;
    std::string register_name, role, responsible;
    bool register_checked = false;      // vendor and register looked up (inventory)
    bool unregistered_alerted = false;  // unregistered-device raised or summarised (hygiene)
    bool dirty = true;                  // changed since the store last wrote it
    Timestamp stored_last_seen = 0;     // last_seen as the store last wrote it
    Timestamp row_last_seen = 0;        // last_seen when the store last wrote the whole row
    // Values that found their list full (an older one replaced, or a service not kept).
    std::uint32_t list_overflows = 0;

    static constexpr std::size_t kMaxAddresses = 16;
    static constexpr std::size_t kMaxNames = 16;
    static constexpr std::size_t kMaxEvidence = 32;
    static constexpr std::size_t kMaxServices = 64;

    // Record an address/name/evidence; returns true when it is new. Bounded: once full, new
    // values replace the least recently seen one.
    bool observe_address(const std::string& value, const std::string& source, Timestamp ts);
    bool observe_name(const std::string& value, const std::string& source, Timestamp ts);
    bool observe_evidence(const std::string& value, const std::string& source, Timestamp ts);
    bool observe_service(std::uint16_t port);
    const Observed* first_address() const;
    // Sent a frame or two, gave no name and was never stored: what a MAC flood forges. A real
    // device soon says more (DHCP, names, more frames); until then it need not be written.
    bool quiet_newcomer() const {
        return frames <= 2 && names.empty() && !registered && stored_last_seen == 0;
    }
};

class HostTable {
  public:
    explicit HostTable(std::size_t capacity, std::uint64_t seed = 0x636c696e6963);

    // Finds or creates the host; nullptr when the table is full and this MAC is on probation
    // (first frame, or its earlier one fell out of the probation array). Admitting may evict
    // another host (never a pinned one while unpinned hosts exist). `created` tells whether
    // this call made the host.
    Host* touch(const MacAddress& mac, std::uint16_t vlan, Timestamp ts, bool* created = nullptr);
    Host* find(const MacAddress& mac, std::uint16_t vlan);
    // Puts back a device stored by an earlier run (at start): not a newcomer, not counted.
    // Returns false when the table is full or already holds that device.
    bool restore(Host host);
    const Host* find(const MacAddress& mac, std::uint16_t vlan) const;

    // While the table is full (a MAC flood), a sender not in it was turned away (on probation):
    // units keeping per-sender state skip it, since a forged MAC sends once, and a real device
    // that keeps talking is admitted by its next frame. Never true while there is room.
    bool turned_away(const MacAddress& mac, std::uint16_t vlan) const {
        return hosts_.size() >= capacity_ && !find(mac, vlan);
    }

    std::size_t size() const { return hosts_.size(); }
    std::size_t capacity() const { return capacity_; }
    std::uint64_t evictions() const { return evictions_; }
    // Per-device list overflows (addresses, names, evidence, services) over the table's life,
    // evicted hosts included.
    std::uint64_t list_overflows() const;
    // MACs seen that were not in the table: created at once, or put on probation. A MAC flood
    // shows as a steep rise.
    std::uint64_t newcomers() const { return newcomers_; }
    // Frames whose sender was kept out of the full table (on probation).
    std::uint64_t refused() const { return probation_.refused(); }
    // When a MAC on probation may come back to be admitted, and how many can wait at once.
    static constexpr Timestamp kProbationWindow = 60 * kMicrosPerSecond;
    static constexpr Timestamp kProbationMinGap = kMicrosPerSecond;
    static constexpr std::size_t kProbationSlots = std::size_t{1} << 16;

    // Visits every host (order unspecified).
    template <typename F>
    void for_each(F&& f) {
        for (auto& h : hosts_) f(h);
    }
    template <typename F>
    void for_each(F&& f) const {
        for (const auto& h : hosts_) f(h);
    }

    // Called with each evicted host before it goes, so its last state can be stored.
    void set_eviction_handler(std::function<void(const Host&)> handler) {
        on_evict_ = std::move(handler);
    }

  private:
    void evict_one();
    Host& create(const HostKey& key, Timestamp ts);

    std::size_t capacity_;
    std::vector<Host> hosts_;
    static constexpr Timestamp kPinned = INT64_MAX;
    std::vector<Timestamp> recency_;  // per slot: last_seen at the last touch, or kPinned
    using Index = SlotIndex<HostKey, HostKeyHash>;
    auto key_at() const {
        return [this](std::size_t i) -> const HostKey& { return hosts_[i].key; };
    }
    Index index_;
    std::uint64_t evictions_ = 0;
    std::uint64_t evicted_list_overflows_ = 0;
    std::uint64_t newcomers_ = 0;
    Probation probation_{kProbationSlots, kProbationWindow, kProbationMinGap};  // 1.5 MB, if full
    SampleRng rng_;
    std::function<void(const Host&)> on_evict_;
    // Most packets come in runs from the same sender: a one-entry cache saves a hash lookup.
    HostKey last_key_{};
    std::size_t last_slot_ = SIZE_MAX;
};

}  // namespace clinicwatch
