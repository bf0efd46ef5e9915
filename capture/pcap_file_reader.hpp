// A reader for classic pcap files (not pcapng) that parses records straight out of a large read
// buffer. libpcap's reader copies each record once more (stdio buffer -> its own buffer); at
// millions of frames per second that copy is a fifth of the replay's cost. pcapng and anything
// unusual still go through libpcap (capture/packet_source.cpp).
#pragma once

#include <cstdint>
#include <cstdio>
#include <optional>
#include <string>
#include <vector>

#include "capture/bytes.hpp"
#include "capture/packet.hpp"

namespace clinicwatch {

struct PcapFileHeader {
    bool swapped = false;      // written on a machine of the other byte order
    bool nanoseconds = false;  // timestamps in ns (magic a1b23c4d)
    std::uint16_t version_major = 0, version_minor = 0;
    std::uint32_t snaplen = 0;
    std::uint32_t linktype = 0;
};

// Parses the 24-byte global header; nothing when the magic is not a classic pcap one.
std::optional<PcapFileHeader> parse_pcap_file_header(Bytes data);

struct PcapRecord {
    Timestamp ts = 0;
    std::uint32_t captured_length = 0;
    std::uint32_t wire_length = 0;
};

// Parses one 16-byte record header. Nothing when the lengths are impossible (captured length
// larger than the wire length would allow, or than 256 KiB, as libpcap also refuses).
std::optional<PcapRecord> parse_pcap_record_header(const PcapFileHeader& file, Bytes data);

class PcapFileReader {
  public:
    enum class Result { frame, end, corrupt };

    // Takes ownership of `file` (closed on destruction). The header must already be known.
    PcapFileReader(std::FILE* file, const PcapFileHeader& header, std::size_t buffer_bytes);
    ~PcapFileReader();
    PcapFileReader(const PcapFileReader&) = delete;
    PcapFileReader& operator=(const PcapFileReader&) = delete;

    // On `frame`, `record` and `data` describe the next record (data valid until next call).
    // On `corrupt`, `error` says what is wrong and `record_offset()` where the record starts.
    Result next(PcapRecord& record, Bytes& data, std::string& error);
    std::uint64_t record_offset() const { return offset_; }  // file offset of the next record

  private:
    bool fill(std::size_t needed);

    std::FILE* file_;
    PcapFileHeader header_;
    std::vector<std::uint8_t> buffer_;
    std::size_t begin_ = 0, end_ = 0;  // unread bytes in buffer_
    std::uint64_t offset_ = 24;
};

}  // namespace clinicwatch
