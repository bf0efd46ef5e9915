#include "analyzers/vendor_registry.hpp"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <unordered_map>

namespace clinicwatch {

namespace {

// The next CSV field of `rest` (RFC 4180 quoting), which is left after the field's comma or at
// the end of the line. A quoted field with doubled quotes is unescaped into `scratch`; any other
// field is a view of the line. The registry never has newlines inside quotes, so a line is a
// record.
std::string_view next_field(std::string_view& rest, std::string& scratch) {
    std::string_view field;
    if (!rest.empty() && rest.front() == '"') {
        auto close = rest.find('"', 1);
        while (close != std::string_view::npos && close + 1 < rest.size() && rest[close + 1] == '"')
            close = rest.find('"', close + 2);  // a doubled quote inside the field
        std::string_view quoted =
            rest.substr(1, close == std::string_view::npos ? std::string_view::npos : close - 1);
        if (quoted.find("\"\"") == std::string_view::npos) {
            field = quoted;
        } else {
            scratch.clear();
            for (std::size_t i = 0; i < quoted.size(); ++i) {
                scratch.push_back(quoted[i]);
                if (quoted[i] == '"' && i + 1 < quoted.size() && quoted[i + 1] == '"') ++i;
            }
            field = scratch;
        }
        rest.remove_prefix(close == std::string_view::npos ? rest.size() : close + 1);
        auto comma = rest.find(',');  // anything between the closing quote and the comma is
        rest.remove_prefix(comma == std::string_view::npos ? rest.size() : comma + 1);  // dropped
        return field;
    }
    auto comma = rest.find(',');
    field = rest.substr(0, comma);
    rest.remove_prefix(comma == std::string_view::npos ? rest.size() : comma + 1);
    return field;
}

// A file mapped read-only for the time of one load (no copy, no buffer to zero).
class MappedFile {
  public:
    explicit MappedFile(const std::string& path) {
        int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
        if (fd < 0) return;
        struct stat st {};
        if (::fstat(fd, &st) == 0 && st.st_size > 0) {
            void* p = ::mmap(nullptr, static_cast<std::size_t>(st.st_size), PROT_READ,
                             MAP_PRIVATE | MAP_POPULATE, fd, 0);
            if (p != MAP_FAILED) {
                data_ = static_cast<const char*>(p);
                size_ = static_cast<std::size_t>(st.st_size);
            }
        }
        ::close(fd);
    }
    MappedFile(const MappedFile&) = delete;
    MappedFile& operator=(const MappedFile&) = delete;
    ~MappedFile() {
        if (data_) ::munmap(const_cast<char*>(data_), size_);
    }
    bool ok() const { return data_ != nullptr; }
    std::string_view text() const { return {data_, size_}; }

  private:
    const char* data_ = nullptr;
    std::size_t size_ = 0;
};

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
    // The whole file mapped, fields as views of it: the registry is 50,000 lines, and a string
    // per field and line made this a third of start-up.
    MappedFile file(path);
    if (!file.ok()) return 0;
    std::size_t loaded = 0, lines = 0;
    // Names are deduplicated through views of the pool, which must not move while they are
    // used: room for every name of this file is reserved first.
    std::unordered_map<std::string_view, std::uint32_t> seen;
    pool_.reserve(pool_.size() + file.text().size());
    seen.reserve(file.text().size() / 64);
    std::string scratch;
    std::string_view rest = file.text();
    while (!rest.empty()) {
        if ((++lines & 0x3ff) == 0 && stop && stop->load(std::memory_order_relaxed)) break;
        auto nl = rest.find('\n');
        std::string_view line = rest.substr(0, nl);
        rest.remove_prefix(nl == std::string_view::npos ? rest.size() : nl + 1);
        if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
        std::string_view registry = next_field(line, scratch);
        if (line.empty() || registry == "Registry") continue;  // fewer than 3 fields, or header
        std::uint64_t prefix = 0;
        std::vector<Entry>* table = table_for(trim(next_field(line, scratch)), prefix);
        std::string_view org = trim(next_field(line, scratch));
        if (org.empty() || org.size() > 0xffff || !table) continue;
        auto it = seen.find(org);
        std::uint32_t offset;
        if (it != seen.end()) {
            offset = it->second;
        } else {
            offset = static_cast<std::uint32_t>(pool_.size());
            pool_.append(org);
            seen.emplace(std::string_view(pool_).substr(offset, org.size()), offset);
        }
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
