// The clinic's asset register: the devices the IT contact has approved, each with a name, a
// role and the party responsible for it. Entries match a whole MAC or a MAC prefix (a vendor's
// block, e.g. every Yamaha AP); the longest match wins.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "capture/address.hpp"

namespace clinicwatch {

// A MAC prefix of whole hex digits: "00:a0:de" is 24 bits, a full MAC 48.
struct MacPrefix {
    std::uint64_t value = 0;  // the prefix bits, left-aligned in 48 bits
    int bits = 0;

    static std::optional<MacPrefix> parse(std::string_view text);
    static MacPrefix of(const MacAddress& mac) { return {mac.as_u64(), 48}; }
    bool matches(const MacAddress& mac) const {
        if (bits == 0) return true;
        std::uint64_t mask = ((std::uint64_t{1} << bits) - 1) << (48 - bits);
        return (mac.as_u64() & mask) == value;
    }
    std::string to_string() const;
};

struct RegisterEntry {
    MacPrefix mac;  // bits == 48 for a single device
    std::string name;
    std::string role;         // ehr-server, ehr-client, reception-pc, modality, printer, router ...
    std::string responsible;  // the clinic, the EHR vendor, the network vendor ...
    std::string notes;
    int line = 0;  // in the configuration file, for messages
};

class AssetRegister {
  public:
    AssetRegister() = default;
    explicit AssetRegister(std::vector<RegisterEntry> entries);

    // The entry for this MAC: an exact entry first, else the longest matching prefix.
    const RegisterEntry* find(const MacAddress& mac) const;
    bool empty() const { return entries_.empty(); }
    std::size_t size() const { return entries_.size(); }
    const std::vector<RegisterEntry>& entries() const { return entries_; }

  private:
    std::vector<RegisterEntry> entries_;  // sorted longest prefix first
};

}  // namespace clinicwatch
