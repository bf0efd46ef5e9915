// DNS messages (also mDNS on 5353 and LLMNR on 5355, which share the format; NBNS on 137 uses
// it too, with encoded names). A pure function from bytes to a typed message, bounded in every
// dimension so a hostile packet cannot make us allocate much or loop.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "capture/address.hpp"
#include "capture/bytes.hpp"

namespace clinicwatch::dns {

enum Type : std::uint16_t {
    kA = 1, kNs = 2, kCname = 5, kPtr = 12, kTxt = 16, kAaaa = 28, kSrv = 33, kNb = 32,
    kNbstat = 33,  // NBNS reuses 33 (SRV in DNS)
    kAny = 255
};

struct Question {
    std::string name;  // dotted, lower-case as sent (case kept)
    std::uint16_t type = 0;
    std::uint16_t klass = 0;  // top bit = mDNS "unicast response wanted"
};

struct Record {
    std::string name;
    std::uint16_t type = 0;
    std::uint16_t klass = 0;  // top bit = mDNS "cache flush"
    std::uint32_t ttl = 0;
    Bytes rdata;               // points into the message
    IpAddress address;         // A / AAAA
    std::string target;        // CNAME, PTR, NS, SRV target
    std::uint16_t port = 0;    // SRV
};

struct Message {
    std::uint16_t id = 0;
    std::uint16_t flags = 0;
    bool is_response() const { return flags & 0x8000; }
    std::uint8_t opcode() const { return (flags >> 11) & 0x0f; }
    std::uint8_t rcode() const { return flags & 0x0f; }
    std::vector<Question> questions;
    std::vector<Record> answers, authorities, additionals;
    bool truncated_sections = false;  // more records than we keep
};

// Limits that bound the work and memory per message.
constexpr std::size_t kMaxQuestions = 16;
constexpr std::size_t kMaxRecordsPerSection = 64;
constexpr std::size_t kMaxNameLength = 255;
constexpr int kMaxCompressionJumps = 16;

std::optional<Message> parse(Bytes message);

// Reads a (possibly compressed) name starting at `offset` within `message`. On success sets
// `next` to the offset just after the name's bytes at the original position.
std::optional<std::string> read_name(Bytes message, std::size_t offset, std::size_t& next);

}  // namespace clinicwatch::dns
