#include "capture/protocols/smb.hpp"

#include <cstdio>

#include "capture/protocols/text.hpp"

namespace clinicwatch::smb {

namespace {

constexpr std::uint8_t kSmb1Negotiate = 0x72, kSmb1SessionSetup = 0x73;
constexpr std::uint16_t kSmb2Negotiate = 0, kSmb2SessionSetup = 1;

// Reads Native OS then Native LAN Manager strings starting at `pos` (offset from the SMB
// header start, which is what Unicode alignment is relative to).
void read_native_strings(Bytes smb, std::size_t pos, bool unicode, Message& m) {
    if (unicode && (pos & 1)) ++pos;
    if (pos >= smb.size()) return;
    std::size_t used = 0;
    if (unicode) {
        m.native_os = text::utf16le_to_utf8(smb.subspan(pos), kMaxString, &used);
        pos += used;
        if (pos < smb.size()) m.native_lanman = text::utf16le_to_utf8(smb.subspan(pos), kMaxString);
    } else {
        m.native_os = text::cstring(smb.subspan(pos), kMaxString, &used);
        pos += used;
        if (pos < smb.size()) m.native_lanman = text::cstring(smb.subspan(pos), kMaxString);
    }
}

std::optional<Message> parse_smb1(Bytes smb) {
    if (smb.size() < 33) return std::nullopt;
    Message m;
    m.smb1 = true;
    m.command = smb[4];
    m.response = (smb[9] & 0x80) != 0;
    const bool unicode = (load_le16(smb.data() + 10) & 0x8000) != 0;
    const std::size_t word_count = smb[32];
    const std::size_t words = 33;
    const std::size_t byte_count_at = words + word_count * 2;
    m.kind = Kind::smb1_other;
    if (m.command == kSmb1Negotiate && !m.response) {
        m.kind = Kind::smb1_negotiate_request;
        if (byte_count_at + 2 > smb.size()) return m;
        std::size_t end = std::min<std::size_t>(
            smb.size(), byte_count_at + 2 + load_le16(smb.data() + byte_count_at));
        std::size_t pos = byte_count_at + 2;
        while (pos < end && m.dialect_names.size() < kMaxDialects) {
            if (smb[pos] != 0x02) break;  // buffer format: dialect string
            std::size_t used = 0;
            m.dialect_names.push_back(
                text::cstring(smb.subspan(pos + 1, end - pos - 1), 64, &used));
            pos += 1 + used;
        }
    } else if (m.command == kSmb1Negotiate && m.response) {
        m.kind = Kind::smb1_negotiate_response;
        if (word_count >= 1 && words + 2 <= smb.size())
            m.dialect_index = load_le16(smb.data() + words);
    } else if (m.command == kSmb1SessionSetup && !m.response) {
        m.kind = Kind::smb1_session_setup_request;
        if (byte_count_at + 2 > smb.size()) return m;
        std::size_t data = byte_count_at + 2;
        if (word_count == 12) {  // extended security: blob, then strings
            std::uint16_t blob_len = load_le16(smb.data() + words + 14);
            if (data + blob_len > smb.size()) {
                m.security_blob = smb.subspan(data);
                return m;
            }
            m.security_blob = smb.subspan(data, blob_len);
            read_native_strings(smb, data + blob_len, unicode, m);
        } else if (word_count == 13) {  // passwords (skipped, never kept), account, domain
            std::size_t oem = load_le16(smb.data() + words + 14);
            std::size_t uni = load_le16(smb.data() + words + 16);
            std::size_t pos = data + oem + uni;
            if (pos >= smb.size()) return m;
            if (unicode && (pos & 1)) ++pos;
            for (int skip = 0; skip < 2 && pos < smb.size(); ++skip) {  // account, domain
                std::size_t used = 0;
                if (unicode)
                    text::utf16le_to_utf8(smb.subspan(pos), kMaxString, &used);
                else
                    text::cstring(smb.subspan(pos), kMaxString, &used);
                pos += used;
            }
            read_native_strings(smb, pos, unicode, m);
        }
    } else if (m.command == kSmb1SessionSetup && m.response) {
        m.kind = Kind::smb1_session_setup_response;
        if (byte_count_at + 2 > smb.size()) return m;
        std::size_t data = byte_count_at + 2;
        if (word_count == 4) {
            std::uint16_t blob_len = load_le16(smb.data() + words + 6);
            if (data + blob_len > smb.size()) return m;
            m.security_blob = smb.subspan(data, blob_len);
            read_native_strings(smb, data + blob_len, unicode, m);
        } else if (word_count == 3) {
            read_native_strings(smb, data, unicode, m);
        }
    }
    return m;
}

std::optional<Message> parse_smb2(Bytes smb) {
    if (smb.size() < 64) return std::nullopt;
    if (load_le16(smb.data() + 4) != 64) return std::nullopt;  // header StructureSize
    Message m;
    m.smb1 = false;
    m.command = load_le16(smb.data() + 12);
    m.response = (load_le32(smb.data() + 16) & 0x1) != 0;
    m.kind = Kind::smb2_other;
    Bytes body = smb.subspan(64);
    if (m.command == kSmb2Negotiate && !m.response) {
        m.kind = Kind::smb2_negotiate_request;
        if (body.size() < 36 || load_le16(body.data()) != 36) return m;
        std::uint16_t count = load_le16(body.data() + 2);
        std::uint32_t ctx_offset = load_le32(body.data() + 28);
        std::uint16_t ctx_count = load_le16(body.data() + 32);
        for (std::size_t i = 0; i < count && m.dialects.size() < kMaxDialects; ++i) {
            std::size_t at = 36 + i * 2;
            if (at + 2 > body.size()) break;
            m.dialects.push_back(load_le16(body.data() + at));
        }
        bool has_311 = false;
        for (auto d : m.dialects) has_311 |= d == 0x0311;
        if (has_311 && ctx_offset >= 64) {
            std::size_t pos = ctx_offset;
            for (std::size_t i = 0; i < ctx_count && i < kMaxContexts; ++i) {
                if (pos + 8 > smb.size()) break;
                m.context_types.push_back(load_le16(smb.data() + pos));
                std::size_t len = load_le16(smb.data() + pos + 2);
                pos += 8 + len;
                pos = (pos + 7) & ~std::size_t{7};
            }
        }
    } else if (m.command == kSmb2Negotiate && m.response) {
        m.kind = Kind::smb2_negotiate_response;
        if (body.size() < 64 || load_le16(body.data()) != 65) return m;
        m.dialect_revision = load_le16(body.data() + 4);
        std::size_t off = load_le16(body.data() + 56), len = load_le16(body.data() + 58);
        if (off >= 64 && off <= smb.size())
            m.security_blob = smb.subspan(off, std::min(len, smb.size() - off));
    } else if (m.command == kSmb2SessionSetup) {
        m.kind = m.response ? Kind::smb2_session_setup_response : Kind::smb2_session_setup_request;
        std::size_t at = m.response ? 4 : 12;
        if (body.size() < at + 4) return m;
        std::size_t off = load_le16(body.data() + at), len = load_le16(body.data() + at + 2);
        if (off >= 64 && off <= smb.size())
            m.security_blob = smb.subspan(off, std::min(len, smb.size() - off));
    }
    return m;
}

}  // namespace

std::optional<Message> parse_message(Bytes smb) {
    if (smb.size() < 4 || smb[1] != 'S' || smb[2] != 'M' || smb[3] != 'B') return std::nullopt;
    if (smb[0] == 0xff) return parse_smb1(smb);
    if (smb[0] == 0xfe) return parse_smb2(smb);
    return std::nullopt;
}

std::optional<Message> parse(Bytes tcp_payload) {
    if (tcp_payload.size() < 8 || tcp_payload[0] != 0x00) return std::nullopt;  // session message
    std::size_t length = (std::size_t{tcp_payload[1]} << 16) | load_be16(tcp_payload.data() + 2);
    Bytes smb = tcp_payload.subspan(4, std::min(length, tcp_payload.size() - 4));
    return parse_message(smb);
}

std::string dialect_name(std::uint16_t dialect) {
    switch (dialect) {
        case 0x0202:
            return "2.0.2";
        case 0x0210:
            return "2.1";
        case 0x02ff:
            return "2.???";
        case 0x0300:
            return "3.0";
        case 0x0302:
            return "3.0.2";
        case 0x0311:
            return "3.1.1";
        default: {
            char buf[8];
            std::snprintf(buf, sizeof buf, "%04x", dialect);
            return buf;
        }
    }
}

}  // namespace clinicwatch::smb
