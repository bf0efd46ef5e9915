#include "analyzers/findings.hpp"

#include <array>

namespace clinicwatch {

namespace {
constexpr std::array<std::string_view, 5> kSeverityNames = {"info", "low", "medium", "high",
                                                            "critical"};
}

std::string_view to_string(Severity s) {
    return kSeverityNames.at(static_cast<std::size_t>(s));
}

std::optional<Severity> parse_severity(std::string_view text) {
    for (std::size_t i = 0; i < kSeverityNames.size(); ++i)
        if (kSeverityNames[i] == text) return static_cast<Severity>(i);
    return std::nullopt;
}

const std::vector<std::string>& episode_kinds() {
    static const std::vector<std::string> kinds = {
        "l2-loop",
        "broadcast-storm",
        "arp-storm",
        "mac-flood",
        "dhcp-flood",
        "stp-topology-change",
        "capture-interrupted",
        // outages (issue 22) end when clients are answered again
        "server-not-answering", "dns-not-answering", "dhcp-not-answering",
        "router-not-answering-arp", "throughput-ceiling",
        // a stopped service on a running server, DHCP out of addresses (issue 22)
        "service-not-running", "dhcp-out-of-addresses",
    };
    return kinds;
}

bool is_episode_kind(std::string_view kind) {
    for (const auto& k : episode_kinds())
        if (k == kind) return true;
    return false;
}

std::string remote_session_key(std::string_view scope, std::uint8_t protocol, const IpAddress& ours,
                               std::uint16_t our_port, const IpAddress& theirs,
                               std::uint16_t their_port, std::string_view day) {
    std::string key(scope);
    key += '|';
    key += std::to_string(protocol);
    key += '|';
    key += ours.to_string() + "|" + std::to_string(our_port) + "|" + theirs.to_string() + "|" +
           std::to_string(their_port) + "|";
    key += day;
    return key;
}

}  // namespace clinicwatch
