#include "analyzers/vendor_registry.hpp"

#include <algorithm>
#include <fstream>
#include <unordered_map>

namespace clinicwatch {

namespace {

// Splits one CSV line into fields (RFC 4180 quoting). The registry never has newlines inside
// quotes, so a line is a record.
std::vector<std::string> csv_fields(const std::string& line) {
    std::vector<std::string> out(1);
    bool quoted = false;
    for (std::size_t i = 0; i < line.size(); ++i) {
        char c = line[i];
        if (quoted) {
            if (c == '"' && i + 1 < line.size() && line[i + 1] == '"') {
                out.back().push_back('"');
                ++i;
            } else if (c == '"') {
                quoted = false;
            } else {
                out.back().push_back(c);
            }
        } else if (c == '"') {
            quoted = true;
        } else if (c == ',') {
            out.emplace_back();
        } else if (c != '\r') {
            out.back().push_back(c);
        }
    }
    return out;
}

std::string_view trim(std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
    return s;
}

}  // namespace

std::vector<VendorRegistry::Entry>* VendorRegistry::table_for(std::string_view hex,
                                                              std::uint64_t& prefix) {
    prefix = 0;
    for (char c : hex) {
        int v = hex_digit_value(c);
        if (v < 0) return nullptr;
        prefix = (prefix << 4) | static_cast<std::uint64_t>(v);
    }
    // MA-L (oui.csv), MA-M (mam.csv) and MA-S (oui36.csv) assignments.
    return hex.size() == 6 ? &l_ : hex.size() == 7 ? &m_ : hex.size() == 9 ? &s_ : nullptr;
}

bool VendorRegistry::add(std::string_view hex, std::string_view organisation) {
    std::uint64_t prefix = 0;
    std::vector<Entry>* table = table_for(hex, prefix);
    organisation = trim(organisation);
    if (!table || organisation.empty() || organisation.size() > 0xffff) return false;
    // Tests add a handful of entries: a search of the pool is fine here.
    auto at = pool_.find(organisation);
    std::uint32_t offset;
    if (at != std::string::npos) {
        offset = static_cast<std::uint32_t>(at);
    } else {
        offset = static_cast<std::uint32_t>(pool_.size());
        pool_.append(organisation);
    }
    table->push_back(Entry{prefix, offset, static_cast<std::uint16_t>(organisation.size())});
    sorted_ = false;
    return true;
}

std::size_t VendorRegistry::load_csv(const std::string& path, const std::atomic<bool>* stop) {
    std::ifstream in(path);
    if (!in) return 0;
    std::string line;
    std::size_t loaded = 0, lines = 0;
    std::unordered_map<std::string, std::uint32_t> seen;
    while (std::getline(in, line)) {
        if ((++lines & 0x3ff) == 0 && stop && stop->load(std::memory_order_relaxed)) break;
        auto f = csv_fields(line);
        if (f.size() < 3 || f[0] == "Registry") continue;
        std::string org(trim(f[2]));
        std::string_view hex = trim(f[1]);
        // Deduplicate names through a map while loading (a pool search per line is too slow).
        auto it = seen.find(org);
        std::uint32_t offset;
        if (it != seen.end()) {
            offset = it->second;
        } else {
            offset = static_cast<std::uint32_t>(pool_.size());
            pool_.append(org);
            seen.emplace(org, offset);
        }
        std::uint64_t prefix = 0;
        std::vector<Entry>* table = table_for(hex, prefix);
        if (org.empty() || org.size() > 0xffff || !table) continue;
        table->push_back(Entry{prefix, offset, static_cast<std::uint16_t>(org.size())});
        ++loaded;
    }
    sorted_ = false;
    sort_if_needed();
    return loaded;
}

std::size_t VendorRegistry::load_dir(const std::string& dir, const std::atomic<bool>* stop) {
    std::size_t n = 0;
    for (const char* file : {"oui.csv", "mam.csv", "oui36.csv"})
        n += load_csv(dir + "/" + file, stop);
    pool_.shrink_to_fit();
    l_.shrink_to_fit();
    m_.shrink_to_fit();
    s_.shrink_to_fit();
    return n;
}

void VendorRegistry::sort_if_needed() const {
    if (sorted_) return;
    for (auto* t : {&l_, &m_, &s_}) std::sort(t->begin(), t->end());
    assigned_ouis_.assign((std::size_t{1} << 22) / 64, 0);
    auto mark = [&](std::uint64_t oui) {
        std::uint32_t bit = oui_bit(oui);
        assigned_ouis_[bit >> 6] |= std::uint64_t{1} << (bit & 63);
    };
    for (const Entry& e : l_) mark(e.prefix);
    for (const Entry& e : m_) mark(e.prefix >> 4);
    for (const Entry& e : s_) mark(e.prefix >> 12);
    sorted_ = true;
}

std::string_view VendorRegistry::find(const std::vector<Entry>& table, std::uint64_t prefix) const {
    auto it = std::lower_bound(table.begin(), table.end(), Entry{prefix, 0, 0});
    if (it == table.end() || it->prefix != prefix) return {};
    return std::string_view(pool_).substr(it->name, it->length);
}

std::string_view VendorRegistry::lookup(const MacAddress& mac) const {
    if (mac.is_locally_administered() || mac.is_multicast()) return {};
    sort_if_needed();
    std::uint64_t v = mac.as_u64();
    if (!has_assignment_under(v >> 24)) return {};
    if (auto s = find(s_, v >> 12); !s.empty()) return s;
    if (auto m = find(m_, v >> 20); !m.empty()) return m;
    return find(l_, v >> 24);
}

std::size_t VendorRegistry::memory_bytes() const {
    return pool_.capacity() + assigned_ouis_.capacity() * sizeof(std::uint64_t) +
           (l_.capacity() + m_.capacity() + s_.capacity()) * sizeof(Entry);
}

}  // namespace clinicwatch
