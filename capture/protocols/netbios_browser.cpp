#include "capture/protocols/netbios_browser.hpp"

#include "capture/protocols/text.hpp"

namespace clinicwatch::browser {

namespace {

constexpr std::size_t kMaxName = 64;

// Skips one encoded NetBIOS name (length-prefixed labels ending with a zero byte).
bool skip_name(ByteReader& r) {
    for (int labels = 0; labels < 16; ++labels) {
        auto len = r.u8();
        if (!len) return false;
        if (*len == 0) return true;
        if (*len > 63 || !r.skip(*len)) return false;
    }
    return false;
}

}  // namespace

std::optional<Announcement> parse_datagram(Bytes udp_payload) {
    ByteReader r(udp_payload);
    auto type = r.u8();
    // 0x10 direct unique, 0x11 direct group, 0x12 broadcast: the ones that carry data.
    if (!type || *type < 0x10 || *type > 0x12) return std::nullopt;
    if (!r.skip(13)) return std::nullopt;  // flags, id, source ip/port, length, offset
    if (!skip_name(r) || !skip_name(r)) return std::nullopt;
    const std::size_t smb_start = r.offset();
    Bytes smb = udp_payload.subspan(smb_start);
    if (smb.size() < 33 + 34 + 2) return std::nullopt;
    if (smb[0] != 0xff || smb[1] != 'S' || smb[2] != 'M' || smb[3] != 'B' || smb[4] != 0x25)
        return std::nullopt;
    if (smb[32] < 14) return std::nullopt;  // WordCount: TRANSACTION has at least 14 words
    const std::size_t words = 33;
    std::uint16_t data_count = load_le16(smb.data() + words + 22);
    std::uint16_t data_offset = load_le16(smb.data() + words + 24);
    std::size_t bytes_at = words + smb[32] * 2u;
    if (bytes_at + 2 > smb.size()) return std::nullopt;
    std::size_t used = 0;
    Announcement a;
    a.mailslot = text::cstring(smb.subspan(bytes_at + 2), kMaxName, &used);
    if (data_offset > smb.size() || data_count > smb.size() - data_offset) return std::nullopt;
    Bytes data = smb.subspan(data_offset, data_count);
    if (data.empty()) return std::nullopt;
    a.opcode = data[0];
    if (a.mailslot == "\\MAILSLOT\\LANMAN") {
        // 0 opcode, 1 update count, 2-5 server type, 6-7 OS version, 8-9 periodicity, names.
        if (a.opcode != kHostAnnouncement || data.size() < 10) return std::nullopt;
        a.server_type = load_le32(data.data() + 2);
        a.os_major = data[6];
        a.os_minor = data[7];
        std::size_t n = 0;
        a.server_name = text::cstring(data.subspan(10), kMaxName, &n);
        if (10 + n <= data.size()) a.comment = text::cstring(data.subspan(10 + n), 256);
        return a;
    }
    if (a.mailslot != "\\MAILSLOT\\BROWSE") return std::nullopt;
    if (a.opcode != kHostAnnouncement && a.opcode != kLocalMasterAnnouncement &&
        a.opcode != kDomainAnnouncement)
        return std::nullopt;
    if (data.size() < 32) return std::nullopt;
    a.server_name = text::trim_right(text::cstring(data.subspan(6, 16), 16));
    a.os_major = data[22];
    a.os_minor = data[23];
    a.server_type = load_le32(data.data() + 24);
    a.comment = text::cstring(data.subspan(32), 256);
    return a;
}

}  // namespace clinicwatch::browser
