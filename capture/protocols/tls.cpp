#include "capture/protocols/tls.hpp"

#include <algorithm>

namespace clinicwatch::tls {

namespace {

// server_name extension: list length, then entries (type, length, name); type 0 = host_name.
std::string read_sni(Bytes ext) {
    ByteReader r(ext);
    auto list_len = r.be16();
    if (!list_len) return {};
    while (r.remaining() >= 3) {
        auto type = r.u8();
        auto len = r.be16();
        if (!type || !len) break;
        auto name = r.take(*len);
        if (!name) break;
        if (*type != 0) continue;
        std::string out;
        out.reserve(name->size());
        for (auto c : *name) {
            // A host name is printable ASCII; anything else means this is not a real SNI.
            if (c <= 0x20 || c >= 0x7f) return {};
            out.push_back(static_cast<char>(c >= 'A' && c <= 'Z' ? c + 32 : c));
        }
        if (out.size() > 255) return {};
        return out;
    }
    return {};
}

}  // namespace

std::optional<TlsClientHello> parse_client_hello(Bytes data) {
    ByteReader rec(data);
    auto content_type = rec.u8();
    auto record_version = rec.be16();
    auto record_len = rec.be16();
    if (!content_type || *content_type != 22 || !record_version || !record_len) return std::nullopt;
    if ((*record_version >> 8) != 3 || *record_len < 4) return std::nullopt;
    TlsClientHello out;
    out.record_version = *record_version;
    Bytes body = rec.rest();
    if (body.size() > *record_len) body = body.first(*record_len);
    if (body.size() < *record_len) out.truncated = true;

    ByteReader r(body);
    auto hs_type = r.u8();
    if (!hs_type || *hs_type != 1 || !r.skip(3)) return std::nullopt;  // 24-bit length
    auto legacy = r.be16();
    if (!legacy || (*legacy >> 8) != 3 || !r.skip(32)) return std::nullopt;  // random
    out.legacy_version = *legacy;
    auto sid_len = r.u8();
    if (!sid_len || *sid_len > 32 || !r.skip(*sid_len)) return std::nullopt;
    auto cs_len = r.be16();
    if (!cs_len || (*cs_len & 1)) return std::nullopt;
    auto suites = r.take(*cs_len);
    if (!suites) return std::nullopt;
    for (std::size_t i = 0; i + 1 < suites->size() && out.cipher_suites.size() < kMaxCipherSuites;
         i += 2)
        out.cipher_suites.push_back(load_be16(suites->data() + i));
    auto comp_len = r.u8();
    if (!comp_len || !r.skip(*comp_len)) return std::nullopt;
    if (r.remaining() == 0) return out;  // SSLv3-style hello without extensions
    auto ext_total = r.be16();
    if (!ext_total) return out;
    ByteReader exts(r.rest().first(std::min<std::size_t>(*ext_total, r.remaining())));
    while (exts.remaining() >= 4 && out.extension_types.size() < kMaxExtensions) {
        auto type = exts.be16();
        auto len = exts.be16();
        auto body_ext = exts.take(*len);
        out.extension_types.push_back(*type);
        if (!body_ext) {
            out.truncated = true;
            break;
        }
        if (*type == 0 && out.sni.empty()) {
            out.sni = read_sni(*body_ext);
        } else if (*type == 43) {
            ByteReader v(*body_ext);
            auto n = v.u8();
            for (int i = 0;
                 n && i + 1 < *n && out.supported_versions.size() < kMaxSupportedVersions; i += 2) {
                auto ver = v.be16();
                if (!ver) break;
                out.supported_versions.push_back(*ver);
            }
        }
    }
    return out;
}

}  // namespace clinicwatch::tls
