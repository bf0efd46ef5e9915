#include "capture/protocols/tls.hpp"

#include <array>
#include <cstdio>
#include <cstring>

namespace clinicwatch::tls {

namespace {

// The handshake message body inside the first record; the record may continue in the next
// segment, so only what is here is returned (the caller notes truncation).
std::optional<Bytes> handshake_body(Bytes record, std::uint8_t type,
                                    std::uint16_t& record_version) {
    if (!is_handshake(record, type)) return std::nullopt;
    record_version = load_be16(record.data() + 1);
    std::size_t record_len = load_be16(record.data() + 3);
    Bytes frag = record.subspan(5, std::min(record_len, record.size() - 5));
    if (frag.size() < 4) return std::nullopt;
    std::size_t len = (std::size_t{frag[1]} << 16) | load_be16(frag.data() + 2);
    return frag.subspan(4, std::min(len, frag.size() - 4));
}

void read_u16_list(ByteReader r, std::vector<std::uint16_t>& out) {
    while (out.size() < kMaxListItems) {
        auto v = r.be16();
        if (!v) break;
        out.push_back(*v);
    }
}

void append_list(std::string& s, const std::vector<std::uint16_t>& list) {
    bool first = true;
    for (auto v : list) {
        if (is_grease(v)) continue;
        if (!first) s += '-';
        s += std::to_string(v);
        first = false;
    }
}

}  // namespace

bool is_grease(std::uint16_t v) {
    return (v & 0x0f0f) == 0x0a0a && (v >> 8) == (v & 0xff);
}

bool is_handshake(Bytes p, std::uint8_t message_type) {
    return p.size() >= 6 && p[0] == 0x16 && p[1] == 0x03 && p[2] <= 0x04 && p[5] == message_type;
}

namespace {

std::optional<ClientHello> parse_client_hello_body(Bytes body, ClientHello h);

}  // namespace

std::optional<ClientHello> parse_client_hello(Bytes record) {
    ClientHello h;
    auto body = handshake_body(record, 1, h.record_version);
    if (!body) return std::nullopt;
    return parse_client_hello_body(*body, std::move(h));
}

std::optional<ClientHello> parse_client_hello_message(Bytes message) {
    if (message.size() < 4 || message[0] != 1) return std::nullopt;
    std::size_t len = (std::size_t{message[1]} << 16) | load_be16(message.data() + 2);
    return parse_client_hello_body(message.subspan(4, std::min(len, message.size() - 4)), {});
}

namespace {

std::optional<ClientHello> parse_client_hello_body(Bytes body, ClientHello h) {
    ByteReader r(body);
    auto version = r.be16();
    if (!version || !r.skip(32)) return std::nullopt;
    h.handshake_version = *version;
    auto sid_len = r.u8();
    if (!sid_len || *sid_len > 32 || !r.skip(*sid_len)) return std::nullopt;
    auto cs_len = r.be16();
    if (!cs_len || (*cs_len & 1)) return std::nullopt;
    auto cs = r.take(*cs_len);
    if (!cs) return std::nullopt;
    for (std::size_t i = 0; i + 1 < cs->size() && h.cipher_suites.size() < kMaxCipherSuites; i += 2)
        h.cipher_suites.push_back(load_be16(cs->data() + i));
    auto comp_len = r.u8();
    if (!comp_len || !r.skip(*comp_len)) return std::nullopt;
    auto ext_len = r.be16();
    if (!ext_len) return h;  // no extensions at all (SSL 3.0 / old TLS 1.0 clients)
    if (*ext_len > r.remaining()) h.extensions_truncated = true;
    ByteReader ext(r.rest().first(std::min<std::size_t>(*ext_len, r.remaining())));
    while (h.extensions.size() < kMaxExtensions) {
        auto type = ext.be16();
        auto len = ext.be16();
        if (!type || !len) break;
        auto data = ext.take(*len);
        if (!data) {
            h.extensions_truncated = true;
            h.extensions.push_back(*type);
            break;
        }
        h.extensions.push_back(*type);
        ByteReader d(*data);
        switch (*type) {
            case 0: {  // server_name: list length, then (type, length, name)
                if (!d.skip(2)) break;
                auto name_type = d.u8();
                auto name_len = d.be16();
                if (!name_type || *name_type != 0 || !name_len) break;
                auto name = d.take(std::min<std::size_t>(*name_len, 255));
                // A host name is printable ASCII; anything else (control bytes, a crafted
                // name) is not stored. DNS names are case-insensitive: keep them lower-case.
                bool printable = name.has_value();
                if (name)
                    for (auto c : *name) printable &= c > 0x20 && c < 0x7f;
                if (printable)
                    for (auto c : *name)
                        h.sni.push_back(static_cast<char>(c >= 'A' && c <= 'Z' ? c + 32 : c));
                break;
            }
            case 10: {
                if (!d.skip(2)) break;
                read_u16_list(d, h.groups);
                break;
            }
            case 16: {  // ALPN: list length, then (length, name) entries
                if (!d.skip(2)) break;
                while (h.alpn.size() < kMaxAlpn) {
                    auto n = d.u8();
                    if (!n || *n == 0) break;
                    auto name = d.take(*n);
                    if (!name) break;
                    bool printable = true;
                    for (auto c : *name) printable &= c > 0x20 && c < 0x7f;
                    if (printable) h.alpn.emplace_back(name->begin(), name->end());
                }
                break;
            }
            case 11: {
                auto n = d.u8();
                if (!n) break;
                for (std::size_t i = 0; i < *n && h.ec_point_formats.size() < kMaxListItems; ++i) {
                    auto f = d.u8();
                    if (!f) break;
                    h.ec_point_formats.push_back(*f);
                }
                break;
            }
            case 43: {
                auto n = d.u8();
                if (!n) break;
                auto list = d.take(std::min<std::size_t>(*n, d.remaining()));
                if (list) read_u16_list(ByteReader(*list), h.supported_versions);
                break;
            }
            default:
                break;
        }
    }
    return h;
}

}  // namespace

std::optional<ServerHello> parse_server_hello(Bytes record) {
    ServerHello h;
    auto body = handshake_body(record, 2, h.record_version);
    if (!body) return std::nullopt;
    ByteReader r(*body);
    auto version = r.be16();
    if (!version || !r.skip(32)) return std::nullopt;
    h.handshake_version = *version;
    auto sid_len = r.u8();
    if (!sid_len || *sid_len > 32 || !r.skip(*sid_len)) return std::nullopt;
    auto suite = r.be16();
    if (!suite || !r.skip(1)) return std::nullopt;
    h.cipher_suite = *suite;
    auto ext_len = r.be16();
    if (!ext_len) return h;
    ByteReader ext(r.rest().first(std::min<std::size_t>(*ext_len, r.remaining())));
    for (int i = 0; i < static_cast<int>(kMaxExtensions); ++i) {
        auto type = ext.be16();
        auto len = ext.be16();
        if (!type || !len) break;
        auto data = ext.take(*len);
        if (!data) break;
        if (*type == 43 && data->size() == 2) h.supported_version = load_be16(data->data());
    }
    return h;
}

std::uint16_t ClientHello::highest_version() const {
    std::uint16_t best = 0;
    for (auto v : supported_versions)
        if (!is_grease(v) && v > best && v <= 0x0304) best = v;
    return best ? best : handshake_version;
}

std::string ClientHello::ja3() const {
    std::string s = std::to_string(handshake_version) + ",";
    append_list(s, cipher_suites);
    s += ',';
    append_list(s, extensions);
    s += ',';
    append_list(s, groups);
    s += ',';
    bool first = true;
    for (auto f : ec_point_formats) {
        if (!first) s += '-';
        s += std::to_string(f);
        first = false;
    }
    return s;
}

std::uint64_t ClientHello::ja3_key() const {
    std::uint64_t h = 1469598103934665603ULL;  // FNV-1a over 16-bit values; lists separated
    auto mix = [&h](std::uint64_t v) { h = (h ^ v) * 1099511628211ULL; };
    mix(handshake_version);
    for (const auto* list : {&cipher_suites, &extensions, &groups}) {
        for (auto v : *list)
            if (!is_grease(v)) mix(v);
        mix(0x10000);
    }
    for (auto f : ec_point_formats) mix(f);
    return h;
}

std::string ClientHello::ja3_hash() const {
    std::string s = ja3();
    return md5_hex(Bytes(reinterpret_cast<const std::uint8_t*>(s.data()), s.size()));
}

std::string version_name(std::uint16_t v) {
    switch (v) {
        case kSsl3:
            return "SSL 3.0";
        case kTls10:
            return "TLS 1.0";
        case kTls11:
            return "TLS 1.1";
        case kTls12:
            return "TLS 1.2";
        case kTls13:
            return "TLS 1.3";
        default: {
            char buf[8];
            std::snprintf(buf, sizeof buf, "0x%04x", v);
            return buf;
        }
    }
}

std::string md5_hex(Bytes data) {
    static constexpr std::array<std::uint32_t, 64> K = {
        0xd76aa478, 0xe8c7b756, 0x242070db, 0xc1bdceee, 0xf57c0faf, 0x4787c62a, 0xa8304613,
        0xfd469501, 0x698098d8, 0x8b44f7af, 0xffff5bb1, 0x895cd7be, 0x6b901122, 0xfd987193,
        0xa679438e, 0x49b40821, 0xf61e2562, 0xc040b340, 0x265e5a51, 0xe9b6c7aa, 0xd62f105d,
        0x02441453, 0xd8a1e681, 0xe7d3fbc8, 0x21e1cde6, 0xc33707d6, 0xf4d50d87, 0x455a14ed,
        0xa9e3e905, 0xfcefa3f8, 0x676f02d9, 0x8d2a4c8a, 0xfffa3942, 0x8771f681, 0x6d9d6122,
        0xfde5380c, 0xa4beea44, 0x4bdecfa9, 0xf6bb4b60, 0xbebfbc70, 0x289b7ec6, 0xeaa127fa,
        0xd4ef3085, 0x04881d05, 0xd9d4d039, 0xe6db99e5, 0x1fa27cf8, 0xc4ac5665, 0xf4292244,
        0x432aff97, 0xab9423a7, 0xfc93a039, 0x655b59c3, 0x8f0ccc92, 0xffeff47d, 0x85845dd1,
        0x6fa87e4f, 0xfe2ce6e0, 0xa3014314, 0x4e0811a1, 0xf7537e82, 0xbd3af235, 0x2ad7d2bb,
        0xeb86d391};
    static constexpr std::array<int, 64> S = {
        7,  12, 17, 22, 7,  12, 17, 22, 7,  12, 17, 22, 7,  12, 17, 22, 5,  9,  14, 20, 5,  9,
        14, 20, 5,  9,  14, 20, 5,  9,  14, 20, 4,  11, 16, 23, 4,  11, 16, 23, 4,  11, 16, 23,
        4,  11, 16, 23, 6,  10, 15, 21, 6,  10, 15, 21, 6,  10, 15, 21, 6,  10, 15, 21};
    std::uint32_t a0 = 0x67452301, b0 = 0xefcdab89, c0 = 0x98badcfe, d0 = 0x10325476;
    const std::uint64_t bit_len = static_cast<std::uint64_t>(data.size()) * 8;
    std::size_t total = ((data.size() + 8) / 64 + 1) * 64;
    std::array<std::uint8_t, 64> block{};
    for (std::size_t off = 0; off < total; off += 64) {
        for (std::size_t i = 0; i < 64; ++i) {
            std::size_t at = off + i;
            if (at < data.size())
                block[i] = data[at];
            else if (at == data.size())
                block[i] = 0x80;
            else if (at >= total - 8)
                block[i] = static_cast<std::uint8_t>(bit_len >> (8 * (at - (total - 8))));
            else
                block[i] = 0;
        }
        std::uint32_t M[16];
        for (int i = 0; i < 16; ++i) M[i] = load_le32(block.data() + i * 4);
        std::uint32_t A = a0, B = b0, C = c0, D = d0;
        for (int i = 0; i < 64; ++i) {
            std::uint32_t F;
            int g;
            if (i < 16) {
                F = (B & C) | (~B & D);
                g = i;
            } else if (i < 32) {
                F = (D & B) | (~D & C);
                g = (5 * i + 1) % 16;
            } else if (i < 48) {
                F = B ^ C ^ D;
                g = (3 * i + 5) % 16;
            } else {
                F = C ^ (B | ~D);
                g = (7 * i) % 16;
            }
            F = F + A + K[i] + M[g];
            A = D;
            D = C;
            C = B;
            B = B + ((F << S[i]) | (F >> (32 - S[i])));
        }
        a0 += A;
        b0 += B;
        c0 += C;
        d0 += D;
    }
    char out[33];
    std::uint32_t parts[4] = {a0, b0, c0, d0};
    for (int p = 0; p < 4; ++p)
        for (int i = 0; i < 4; ++i)
            std::snprintf(out + p * 8 + i * 2, 3, "%02x", (parts[p] >> (8 * i)) & 0xff);
    return std::string(out, 32);
}

}  // namespace clinicwatch::tls
