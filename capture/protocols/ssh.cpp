#include "capture/protocols/ssh.hpp"

namespace clinicwatch::ssh {

std::optional<Banner> parse_banner(Bytes payload) {
    std::string_view s = as_chars(payload.first(std::min(payload.size(), kMaxBanner)));
    if (s.substr(0, 4) != "SSH-") return std::nullopt;
    auto end = s.find('\n');
    if (end == std::string_view::npos) return std::nullopt;  // longer than allowed, or cut
    std::string_view line = s.substr(0, end);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    for (char c : line)
        if (static_cast<unsigned char>(c) < 0x20 || static_cast<unsigned char>(c) > 0x7e)
            return std::nullopt;
    Banner b;
    b.line = line;
    std::string_view rest = line.substr(4);
    auto dash = rest.find('-');
    if (dash == std::string_view::npos || dash == 0) return std::nullopt;
    b.proto_version = rest.substr(0, dash);
    rest = rest.substr(dash + 1);
    auto sp = rest.find(' ');
    b.software = rest.substr(0, sp);
    if (b.software.empty()) return std::nullopt;
    if (sp != std::string_view::npos) b.comments = rest.substr(sp + 1);
    return b;
}

}  // namespace clinicwatch::ssh
