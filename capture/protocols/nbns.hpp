// NetBIOS Name Service (RFC 1002) on UDP 137, parsed on top of the DNS message parser: the
// first-level encoded name ("EEEFFD...", two letters per byte) is decoded into the NetBIOS name
// and its suffix type, and registrations and positive answers give name <-> IPv4 bindings.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "capture/address.hpp"
#include "capture/bytes.hpp"

namespace clinicwatch::nbns {

constexpr std::uint16_t kPort = 137;

// Suffix types that say what a name is (the 16th byte of a NetBIOS name).
enum Suffix : std::uint8_t {
    kWorkstation = 0x00,
    kMessenger = 0x03,
    kServer = 0x20,
    kDomainMasterBrowser = 0x1b,
    kDomainControllers = 0x1c,
    kMasterBrowser = 0x1d,
    kBrowserElection = 0x1e
};

enum Opcode : std::uint8_t {
    kQuery = 0,
    kRegistration = 5,
    kRelease = 6,
    kWack = 7,
    kRefresh = 8,
    kRefreshAlt = 9,
    kMultiHomed = 15
};

struct Name {
    std::string name;  // up to 15 characters, trailing spaces removed
    std::uint8_t suffix = 0;
    std::string scope;  // rarely used; empty mostly
};

// A name bound to an address: from a registration/refresh (the sender's claim) or a positive
// answer to a query.
struct Binding {
    Name name;
    bool group = false;  // NB flags G bit: a workgroup/domain name, not a host
    IpAddress address;
};

struct Message {
    std::uint16_t id = 0;
    std::uint8_t opcode = 0;
    bool response = false;
    std::uint8_t rcode = 0;
    std::vector<Name> questions;
    std::vector<Binding> bindings;  // registrations (additional records) or answers
};

// Decodes a first-level encoded name ("FEEFFDFE..." label + optional scope).
std::optional<Name> decode_name(std::string_view encoded);

std::optional<Message> parse(Bytes payload);

// NetBIOS datagram service (UDP 138, RFC 1002 4.4): the sender's own NetBIOS name from the
// header of a direct or broadcast datagram (browser announcements carry the host's name here).
constexpr std::uint16_t kDatagramPort = 138;
std::optional<Name> datagram_source_name(Bytes payload);

// "workstation", "server", "domain-controllers", ... for display.
std::string_view suffix_name(std::uint8_t suffix);

}  // namespace clinicwatch::nbns
