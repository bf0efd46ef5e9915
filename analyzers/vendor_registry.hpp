// MAC vendor lookup from the IEEE registry as Debian's ieee-data package ships it (oui.csv
// MA-L 24 bits, mam.csv MA-M 28 bits, oui36.csv MA-S 36 bits). Loaded once at start into three
// sorted arrays and one string pool of distinct organisation names (about 1.5 MB), so a lookup
// is three binary searches and no allocation. The longest matching prefix wins.
#pragma once

#include <atomic>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "capture/address.hpp"

namespace clinicwatch {

constexpr const char* kDefaultVendorDataDir = "/usr/share/ieee-data";

class VendorRegistry {
  public:
    VendorRegistry() = default;

    // Loads the CSV files found in `dir`; missing files are skipped. Returns the number of
    // assignments loaded (0 when the folder has none: lookups then return "").
    // Reading stops early (with what was read) once `stop` becomes true (SIGTERM at start-up).
    std::size_t load_dir(const std::string& dir, const std::atomic<bool>* stop = nullptr);
    // Loads one CSV (Registry,Assignment,Organization Name,Organization Address).
    std::size_t load_csv(const std::string& path, const std::atomic<bool>* stop = nullptr);
    // Adds one assignment: `hex` is 6, 7 or 9 hex digits.
    bool add(std::string_view hex, std::string_view organisation);

    // Organisation for the MAC, or "" when unknown (or locally administered).
    std::string_view lookup(const MacAddress& mac) const;

    std::size_t size() const { return l_.size() + m_.size() + s_.size(); }
    std::size_t memory_bytes() const;

  private:
    struct Entry {
        std::uint64_t prefix;  // the assignment's bits, right-aligned
        std::uint32_t name;    // offset into pool_
        std::uint16_t length;
        bool operator<(const Entry& o) const { return prefix < o.prefix; }
    };
    void sort_if_needed() const;
    std::string_view find(const std::vector<Entry>& table, std::uint64_t prefix) const;
    // The table for a prefix of this many hex digits (6, 7 or 9), with its value; null when
    // the text is not such a prefix.
    std::vector<Entry>* table_for(std::string_view hex, std::uint64_t& prefix);

    mutable std::vector<Entry> l_, m_, s_;  // 24, 28 and 36 bits
    // One bit per 24-bit OUI (the two flag bits of the first octet folded away) that has any
    // assignment under it. Most MACs of a flood carry unassigned OUIs; this answers those with
    // one read where the three binary searches took about 40 cache-missing steps.
    mutable std::vector<std::uint64_t> assigned_ouis_;
    static std::uint32_t oui_bit(std::uint64_t oui) {
        return static_cast<std::uint32_t>(((oui >> 18) << 16) | (oui & 0xffff));
    }
    bool has_assignment_under(std::uint64_t oui) const {
        std::uint32_t bit = oui_bit(oui);
        return !assigned_ouis_.empty() && ((assigned_ouis_[bit >> 6] >> (bit & 63)) & 1);
    }
    mutable bool sorted_ = true;
    std::string pool_;
};

}  // namespace clinicwatch
