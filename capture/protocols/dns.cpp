#include "capture/protocols/dns.hpp"

#include <algorithm>

#include "capture/protocols/text.hpp"

namespace clinicwatch::dns {

namespace {

// Walks the name at `offset` (labels and compression pointers, bounded), sets `next` to the
// byte after it in the record, and, when `out` is given, builds it there. False when it is
// malformed. The length limit counts the bytes on the wire (not the text made safe), so a
// name is accepted or refused the same whether it is built or skipped.
bool walk_name(Bytes msg, std::size_t offset, std::size_t& next, std::string* out) {
    std::size_t pos = offset, length = 0;
    bool jumped = false;
    int jumps = 0;
    for (;;) {
        if (pos >= msg.size()) return false;
        std::uint8_t len = msg[pos];
        if ((len & 0xc0) == 0xc0) {  // compression pointer
            if (pos + 1 >= msg.size() || ++jumps > kMaxCompressionJumps) return false;
            std::size_t target = (std::size_t{len & 0x3fu} << 8) | msg[pos + 1];
            if (!jumped) next = pos + 2;
            jumped = true;
            pos = target;
            continue;
        }
        if ((len & 0xc0) != 0) return false;  // reserved label types
        if (len == 0) {
            if (!jumped) next = pos + 1;
            return true;
        }
        if (pos + 1 + len > msg.size()) return false;
        if (length + len + 1 > kMaxNameLength) return false;
        length += (length ? 1 : 0) + len;  // the name as text so far, dots included
        if (out) {
            if (!out->empty()) out->push_back('.');
            // Labels may hold any byte (mDNS names are UTF-8): made safe here, once. Plain
            // printable ASCII, nearly every label, is already safe.
            std::string_view label(reinterpret_cast<const char*>(msg.data() + pos + 1), len);
            if (std::all_of(label.begin(), label.end(),
                            [](char c) { return c >= 0x20 && c < 0x7f; }))
                out->append(label);
            else
                out->append(text::safe_name(label, len));
        }
        pos += 1 + len;
    }
}

}  // namespace

std::optional<std::string> read_name(Bytes msg, std::size_t offset, std::size_t& next) {
    std::string name;
    if (!walk_name(msg, offset, next, &name)) return std::nullopt;
    return name;
}

namespace {

bool read_record(Bytes msg, std::size_t& pos, Record& r) {
    std::size_t next = 0;
    auto name = read_name(msg, pos, next);
    if (!name || next + 10 > msg.size()) return false;
    r.name = std::move(*name);
    const auto* p = msg.data() + next;
    r.type = load_be16(p);
    r.klass = load_be16(p + 2);
    r.ttl = load_be32(p + 4);
    std::uint16_t rdlength = load_be16(p + 8);
    std::size_t rdata_at = next + 10;
    if (rdata_at + rdlength > msg.size()) return false;
    r.rdata = msg.subspan(rdata_at, rdlength);
    pos = rdata_at + rdlength;
    std::size_t ignored = 0;
    switch (r.type) {
        case kA:
            if (rdlength == 4) r.address = IpAddress::v4(r.rdata.data());
            break;
        case kAaaa:
            if (rdlength == 16) r.address = IpAddress::v6(r.rdata.data());
            break;
        case kCname:
        case kPtr:
        case kNs:
            if (auto t = read_name(msg, rdata_at, ignored)) r.target = std::move(*t);
            break;
        case kSrv:  // also NBSTAT in NBNS; only decoded when it looks like SRV
            if (rdlength >= 7) {
                r.port = load_be16(r.rdata.data() + 4);
                if (auto t = read_name(msg, rdata_at + 6, ignored)) r.target = std::move(*t);
            }
            break;
        default:
            break;
    }
    return true;
}

// A record past the section's cap: checked and stepped over, nothing built (a flood of huge
// answers spent a tenth of the analysis building names it then dropped).
bool skip_record(Bytes msg, std::size_t& pos) {
    std::size_t next = 0;
    if (!walk_name(msg, pos, next, nullptr) || next + 10 > msg.size()) return false;
    std::size_t rdata_end = next + 10 + load_be16(msg.data() + next + 8);
    if (rdata_end > msg.size()) return false;
    pos = rdata_end;
    return true;
}

bool read_section(Bytes msg, std::size_t& pos, std::uint16_t count, std::vector<Record>& out,
                  bool& truncated) {
    for (std::uint16_t i = 0; i < count; ++i) {
        if (out.size() < kMaxRecordsPerSection) {
            Record r;
            if (!read_record(msg, pos, r)) return false;
            out.push_back(std::move(r));
        } else {
            if (!skip_record(msg, pos)) return false;
            truncated = true;
        }
    }
    return true;
}

}  // namespace

std::optional<Message> parse(Bytes msg) {
    if (msg.size() < 12) return std::nullopt;
    Message m;
    const auto* p = msg.data();
    m.id = load_be16(p);
    m.flags = load_be16(p + 2);
    std::uint16_t qd = load_be16(p + 4), an = load_be16(p + 6), ns = load_be16(p + 8),
                  ar = load_be16(p + 10);
    // Each question takes at least 5 bytes and each record 11: reject counts that cannot fit
    // before doing any work.
    if (std::size_t{qd} * 5 + (std::size_t{an} + ns + ar) * 11 > msg.size() - 12)
        return std::nullopt;
    std::size_t pos = 12;
    for (std::uint16_t i = 0; i < qd; ++i) {
        std::size_t next = 0;
        auto name = read_name(msg, pos, next);
        if (!name || next + 4 > msg.size()) return std::nullopt;
        if (m.questions.size() < kMaxQuestions)
            m.questions.push_back({std::move(*name), load_be16(p + next), load_be16(p + next + 2)});
        else
            m.truncated_sections = true;
        pos = next + 4;
    }
    if (!read_section(msg, pos, an, m.answers, m.truncated_sections)) return std::nullopt;
    // Authority and additional records are optional for our purposes: keep the answers even
    // if a later section is cut short by the snaplen.
    if (!read_section(msg, pos, ns, m.authorities, m.truncated_sections)) return m;
    read_section(msg, pos, ar, m.additionals, m.truncated_sections);
    return m;
}

}  // namespace clinicwatch::dns
