#include "capture/protocols/dns.hpp"
#include "capture/protocols/text.hpp"

namespace clinicwatch::dns {

std::optional<std::string> read_name(Bytes msg, std::size_t offset, std::size_t& next) {
    std::string name;
    std::size_t pos = offset;
    bool jumped = false;
    int jumps = 0;
    for (;;) {
        if (pos >= msg.size()) return std::nullopt;
        std::uint8_t len = msg[pos];
        if ((len & 0xc0) == 0xc0) {  // compression pointer
            if (pos + 1 >= msg.size() || ++jumps > kMaxCompressionJumps) return std::nullopt;
            std::size_t target = (std::size_t{len & 0x3fu} << 8) | msg[pos + 1];
            if (!jumped) next = pos + 2;
            jumped = true;
            pos = target;
            continue;
        }
        if ((len & 0xc0) != 0) return std::nullopt;  // reserved label types
        if (len == 0) {
            if (!jumped) next = pos + 1;
            return name;
        }
        if (pos + 1 + len > msg.size()) return std::nullopt;
        if (name.size() + len + 1 > kMaxNameLength) return std::nullopt;
        if (!name.empty()) name.push_back('.');
        // Labels may hold any byte (mDNS names are UTF-8): made safe here, once.
        name.append(text::safe_name(
            std::string_view(reinterpret_cast<const char*>(msg.data() + pos + 1), len), len));
        pos += 1 + len;
    }
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

bool read_section(Bytes msg, std::size_t& pos, std::uint16_t count, std::vector<Record>& out,
                  bool& truncated) {
    for (std::uint16_t i = 0; i < count; ++i) {
        Record r;
        if (!read_record(msg, pos, r)) return false;
        if (out.size() < kMaxRecordsPerSection)
            out.push_back(std::move(r));
        else
            truncated = true;
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
