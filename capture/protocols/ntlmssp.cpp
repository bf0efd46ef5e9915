#include "capture/protocols/ntlmssp.hpp"

#include <algorithm>
#include <array>

#include "capture/protocols/text.hpp"

namespace clinicwatch::ntlmssp {

namespace {

constexpr std::array<std::uint8_t, 8> kSignature = {'N', 'T', 'L', 'M', 'S', 'S', 'P', 0};

struct Field {
    std::uint16_t length = 0;
    std::uint32_t offset = 0;
};

Field field_at(Bytes m, std::size_t at) {
    return Field{load_le16(m.data() + at), load_le32(m.data() + at + 4)};
}

std::string read_string(Bytes m, Field f, bool unicode) {
    if (f.length == 0 || f.offset > m.size() || f.length > m.size() - f.offset) return {};
    Bytes b = m.subspan(f.offset, f.length);
    return unicode ? text::utf16le_to_utf8(b, kMaxString) : text::cstring(b, kMaxString);
}

// The VERSION field exists only if the fixed header reaches it: the payload (strings) must
// start at or after its end. Old clients put payload right after a shorter header.
std::optional<Version> read_version(Bytes m, std::size_t at, std::uint32_t flags,
                                    std::initializer_list<Field> fields) {
    if (!(flags & kFlagVersion) || m.size() < at + 8) return std::nullopt;
    for (const auto& f : fields)
        if (f.length > 0 && f.offset < at + 8) return std::nullopt;
    Version v;
    v.major = m[at];
    v.minor = m[at + 1];
    v.build = load_le16(m.data() + at + 2);
    v.revision = m[at + 7];
    return v;
}

}  // namespace

std::optional<Message> parse(Bytes m) {
    if (m.size() < 12 || !std::equal(kSignature.begin(), kSignature.end(), m.begin()))
        return std::nullopt;
    Message out;
    out.type = load_le32(m.data() + 8);
    switch (out.type) {
        case kNegotiate: {
            if (m.size() < 16) return std::nullopt;
            out.flags = load_le32(m.data() + 12);
            if (m.size() >= 32) {
                Field domain = field_at(m, 16), ws = field_at(m, 24);
                out.domain = read_string(m, domain, false);  // OEM per MS-NLMP
                out.workstation = read_string(m, ws, false);
                out.version = read_version(m, 32, out.flags, {domain, ws});
            }
            return out;
        }
        case kChallenge: {
            if (m.size() < 32) return std::nullopt;
            Field target = field_at(m, 12);
            out.flags = load_le32(m.data() + 20);
            bool unicode = out.flags & kFlagUnicode;
            out.target_name = read_string(m, target, unicode);
            if (m.size() >= 48) {
                Field info = field_at(m, 40);
                out.version = read_version(m, 48, out.flags, {target, info});
            }
            return out;
        }
        case kAuthenticate: {
            if (m.size() < 64) return std::nullopt;
            Field lm = field_at(m, 12), nt = field_at(m, 20), domain = field_at(m, 28),
                  user = field_at(m, 36), ws = field_at(m, 44), key = field_at(m, 52);
            out.flags = load_le32(m.data() + 60);
            out.lm_response_length = lm.length;
            out.nt_response_length = nt.length;
            bool unicode = out.flags & kFlagUnicode;
            out.domain = read_string(m, domain, unicode);
            out.user = read_string(m, user, unicode);
            out.workstation = read_string(m, ws, unicode);
            out.version = read_version(m, 64, out.flags, {lm, nt, domain, user, ws, key});
            return out;
        }
        default:
            return std::nullopt;
    }
}

std::optional<Message> find(Bytes payload) {
    auto it = std::search(payload.begin(), payload.end(), kSignature.begin(), kSignature.end());
    if (it == payload.end()) return std::nullopt;
    return parse(payload.subspan(static_cast<std::size_t>(it - payload.begin())));
}

std::optional<std::vector<std::uint8_t>> decode_base64(std::string_view in, std::size_t max_out) {
    std::vector<std::uint8_t> out;
    std::uint32_t acc = 0;
    int bits = 0;
    for (char c : in) {
        int v;
        if (c >= 'A' && c <= 'Z')
            v = c - 'A';
        else if (c >= 'a' && c <= 'z')
            v = c - 'a' + 26;
        else if (c >= '0' && c <= '9')
            v = c - '0' + 52;
        else if (c == '+')
            v = 62;
        else if (c == '/')
            v = 63;
        else if (c == '=')
            break;
        else if (c == ' ' || c == '\t' || c == '\r' || c == '\n')
            continue;
        else
            return std::nullopt;
        acc = (acc << 6) | static_cast<std::uint32_t>(v);
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            if (out.size() >= max_out) return std::nullopt;
            out.push_back(static_cast<std::uint8_t>(acc >> bits));
            acc &= (1u << bits) - 1;
        }
    }
    return out;
}

std::optional<Message> parse_http_auth(std::string_view value) {
    for (std::string_view scheme : {std::string_view("NTLM "), std::string_view("Negotiate ")}) {
        if (value.size() > scheme.size() && value.substr(0, scheme.size()) == scheme) {
            auto raw = decode_base64(value.substr(scheme.size()), 8192);
            if (!raw) return std::nullopt;
            return find(Bytes(raw->data(), raw->size()));
        }
    }
    return std::nullopt;
}

}  // namespace clinicwatch::ntlmssp
