#include "capture/protocols/nbns.hpp"
#include "capture/protocols/text.hpp"

#include "capture/protocols/dns.hpp"

namespace clinicwatch::nbns {

std::optional<Name> decode_name(std::string_view encoded) {
    auto dot = encoded.find('.');
    std::string_view label = encoded.substr(0, dot);
    if (label.size() != 32) return std::nullopt;
    char raw[16];
    for (std::size_t i = 0; i < 16; ++i) {
        char hi = label[2 * i], lo = label[2 * i + 1];
        // Case-insensitive: some stacks send lower case.
        if (hi >= 'a' && hi <= 'p') hi = static_cast<char>(hi - 'a' + 'A');
        if (lo >= 'a' && lo <= 'p') lo = static_cast<char>(lo - 'a' + 'A');
        if (hi < 'A' || hi > 'P' || lo < 'A' || lo > 'P') return std::nullopt;
        raw[i] = static_cast<char>(((hi - 'A') << 4) | (lo - 'A'));
    }
    Name n;
    n.suffix = static_cast<std::uint8_t>(raw[15]);
    std::size_t end = 15;
    while (end > 0 && (raw[end - 1] == ' ' || raw[end - 1] == '\0')) --end;
    for (std::size_t i = 0; i < end; ++i) {
        auto c = static_cast<unsigned char>(raw[i]);
        n.name.push_back(c >= 0x20 && c < 0x7f ? static_cast<char>(c) : '?');
    }
    if (dot != std::string_view::npos) n.scope = text::safe_name(encoded.substr(dot + 1), 255);
    return n;
}

namespace {

constexpr std::size_t kMaxBindings = 16;

void add_bindings(const dns::Record& r, std::vector<Binding>& out) {
    if (r.type != dns::kNb) return;
    auto name = decode_name(r.name);
    if (!name) return;
    // NB rdata: entries of 2 flag bytes and an IPv4 address.
    for (std::size_t i = 0; i + 6 <= r.rdata.size() && out.size() < kMaxBindings; i += 6) {
        Binding b;
        b.name = *name;
        b.group = (r.rdata[i] & 0x80) != 0;
        b.address = IpAddress::v4(r.rdata.data() + i + 2);
        out.push_back(std::move(b));
    }
}

}  // namespace

std::optional<Message> parse(Bytes payload) {
    auto m = dns::parse(payload);
    if (!m) return std::nullopt;
    Message out;
    out.id = m->id;
    out.opcode = m->opcode();
    out.response = m->is_response();
    out.rcode = m->rcode();
    for (const auto& q : m->questions)
        if (auto n = decode_name(q.name)) out.questions.push_back(std::move(*n));
    if (out.response) {
        if (out.rcode == 0)
            for (const auto& r : m->answers) add_bindings(r, out.bindings);
    } else if (out.opcode == kRegistration || out.opcode == kRefresh || out.opcode == kRefreshAlt ||
               out.opcode == kMultiHomed) {
        for (const auto& r : m->additionals) add_bindings(r, out.bindings);
    }
    return out;
}

std::optional<Name> datagram_source_name(Bytes payload) {
    // Message types 0x10-0x12 (direct unique, direct group, broadcast) carry a 10-byte header,
    // data length and offset, then the encoded source name.
    if (payload.size() < 14 + 34 || payload[0] < 0x10 || payload[0] > 0x12) return std::nullopt;
    if (payload[14] != 0x20) return std::nullopt;
    Bytes label = payload.subspan(15, 32);
    return decode_name(as_chars(label));
}

std::string_view suffix_name(std::uint8_t suffix) {
    switch (suffix) {
        case kWorkstation:
            return "workstation";
        case kMessenger:
            return "messenger";
        case kServer:
            return "server";
        case kDomainMasterBrowser:
            return "domain-master-browser";
        case kDomainControllers:
            return "domain-controllers";
        case kMasterBrowser:
            return "master-browser";
        case kBrowserElection:
            return "browser-election";
        default:
            return "other";
    }
}

}  // namespace clinicwatch::nbns
