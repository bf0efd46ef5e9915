#include "capture/pcap_file_reader.hpp"

#include <cstring>

namespace clinicwatch {

namespace {
constexpr std::uint32_t kMaxRecordBytes = 262144;  // libpcap's MAXIMUM_SNAPLEN

std::uint32_t field32(const PcapFileHeader& h, const std::uint8_t* p) {
    std::uint32_t v = load_le32(p);
    return h.swapped ? __builtin_bswap32(v) : v;
}
}  // namespace

std::optional<PcapFileHeader> parse_pcap_file_header(Bytes data) {
    if (data.size() < 24) return std::nullopt;
    PcapFileHeader h;
    std::uint32_t magic = load_le32(data.data());
    switch (magic) {
        case 0xa1b2c3d4:
            break;
        case 0xa1b23c4d:
            h.nanoseconds = true;
            break;
        case 0xd4c3b2a1:
            h.swapped = true;
            break;
        case 0x4d3cb2a1:
            h.swapped = h.nanoseconds = true;
            break;
        default:
            return std::nullopt;
    }
    std::uint16_t major = load_le16(data.data() + 4), minor = load_le16(data.data() + 6);
    h.version_major = h.swapped ? __builtin_bswap16(major) : major;
    h.version_minor = h.swapped ? __builtin_bswap16(minor) : minor;
    h.snaplen = field32(h, data.data() + 16);
    // The link type's upper bits hold FCS flags in newer writers; the type is the low 16.
    h.linktype = field32(h, data.data() + 20) & 0xffff;
    if (h.version_major != 2) return std::nullopt;
    return h;
}

std::optional<PcapRecord> parse_pcap_record_header(const PcapFileHeader& file, Bytes data) {
    if (data.size() < 16) return std::nullopt;
    std::uint32_t secs = field32(file, data.data());
    std::uint32_t frac = field32(file, data.data() + 4);
    PcapRecord r;
    r.captured_length = field32(file, data.data() + 8);
    r.wire_length = field32(file, data.data() + 12);
    if (r.captured_length > kMaxRecordBytes) return std::nullopt;
    std::int64_t micros = file.nanoseconds ? frac / 1000 : frac;
    r.ts = static_cast<Timestamp>(secs) * kMicrosPerSecond + micros;
    return r;
}

PcapFileReader::PcapFileReader(std::FILE* file, const PcapFileHeader& header,
                               std::size_t buffer_bytes)
    : file_(file),
      header_(header),
      buffer_(std::max<std::size_t>(buffer_bytes, 2 * kMaxRecordBytes)) {}

PcapFileReader::~PcapFileReader() {
    if (file_) std::fclose(file_);
}

bool PcapFileReader::fill(std::size_t needed) {
    if (end_ - begin_ >= needed) return true;
    // Move the unread tail to the front, then read as much as fits.
    std::memmove(buffer_.data(), buffer_.data() + begin_, end_ - begin_);
    end_ -= begin_;
    begin_ = 0;
    while (end_ < needed) {
        std::size_t n = std::fread(buffer_.data() + end_, 1, buffer_.size() - end_, file_);
        if (n == 0) return false;
        end_ += n;
    }
    return true;
}

PcapFileReader::Result PcapFileReader::next(PcapRecord& record, Bytes& data, std::string& error) {
    if (!fill(16)) {
        if (end_ == begin_) return Result::end;
        error = "truncated record header (" + std::to_string(end_ - begin_) + " of 16 bytes)";
        return Result::corrupt;
    }
    auto header = parse_pcap_record_header(header_, Bytes(buffer_.data() + begin_, 16));
    if (!header) {
        error = "record claims " + std::to_string(field32(header_, buffer_.data() + begin_ + 8)) +
                " captured bytes, more than any capture allows";
        return Result::corrupt;
    }
    if (!fill(16 + std::size_t{header->captured_length})) {
        error = "truncated record: " + std::to_string(header->captured_length) +
                " bytes announced, " + std::to_string(end_ - begin_ - 16) + " present";
        return Result::corrupt;
    }
    record = *header;
    data = Bytes(buffer_.data() + begin_ + 16, header->captured_length);
    begin_ += 16 + header->captured_length;
    offset_ += 16 + header->captured_length;
    return Result::frame;
}

}  // namespace clinicwatch
