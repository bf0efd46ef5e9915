#include "capture/protocols/http.hpp"

#include <array>
#include <string_view>

namespace clinicwatch::http {

namespace {

bool iequals(std::string_view a, std::string_view b) {
    if (a.size() != b.size()) return false;
    for (std::size_t i = 0; i < a.size(); ++i) {
        char x = a[i], y = b[i];
        if (x >= 'A' && x <= 'Z') x = static_cast<char>(x + 32);
        if (y >= 'A' && y <= 'Z') y = static_cast<char>(y + 32);
        if (x != y) return false;
    }
    return true;
}

std::string_view trim(std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r'))
        s.remove_suffix(1);
    return s;
}

bool printable(std::string_view s) {
    for (unsigned char c : s)
        if (c < 0x20 && c != '\t') return false;
    return true;
}

}  // namespace

std::optional<HttpRequest> parse_http_request(Bytes data) {
    std::string_view text = as_chars(data.first(std::min(data.size(), kMaxHead)));
    // Only methods a client really sends: a cheap test that rejects non-HTTP payloads quickly.
    static constexpr std::array<std::string_view, 9> kMethods = {
        "GET ", "POST ", "HEAD ", "PUT ", "DELETE ", "OPTIONS ", "CONNECT ", "PATCH ", "TRACE "};
    std::size_t method_len = 0;
    for (auto m : kMethods)
        if (text.substr(0, m.size()) == m) method_len = m.size() - 1;
    if (method_len == 0) return std::nullopt;
    auto line_end = text.find('\n');
    if (line_end == std::string_view::npos) return std::nullopt;
    std::string_view line = trim(text.substr(0, line_end));
    auto sp = line.rfind(' ');
    if (sp == std::string_view::npos || sp <= method_len) return std::nullopt;
    std::string_view version = line.substr(sp + 1);
    if (version.substr(0, 7) != "HTTP/1." || version.size() != 8) return std::nullopt;
    std::string_view target = trim(line.substr(method_len + 1, sp - method_len - 1));
    if (target.empty() || !printable(target)) return std::nullopt;

    HttpRequest out;
    out.method = std::string(line.substr(0, method_len));
    out.target = std::string(target.substr(0, kMaxFieldValue));
    std::size_t pos = line_end + 1;
    while (pos < text.size()) {
        auto end = text.find('\n', pos);
        if (end == std::string_view::npos) break;  // a header cut by the segment end is ignored
        std::string_view header = trim(text.substr(pos, end - pos));
        pos = end + 1;
        if (header.empty()) break;  // end of the head
        auto colon = header.find(':');
        if (colon == std::string_view::npos) continue;
        std::string_view name = header.substr(0, colon);
        std::string_view value = trim(header.substr(colon + 1)).substr(0, kMaxFieldValue);
        if (!printable(value)) continue;
        if (iequals(name, "host") && out.host.empty()) {
            // Strip the port; keep an IPv6 literal's brackets off too.
            if (!value.empty() && value.front() == '[') {
                auto close = value.find(']');
                value =
                    close == std::string_view::npos ? value.substr(1) : value.substr(1, close - 1);
            } else if (auto c = value.rfind(':'); c != std::string_view::npos) {
                value = value.substr(0, c);
            }
            out.host.reserve(value.size());
            for (char c : value) out.host.push_back(c >= 'A' && c <= 'Z' ? char(c + 32) : c);
        } else if (iequals(name, "user-agent") && out.user_agent.empty()) {
            out.user_agent = std::string(value);
        }
    }
    return out;
}

}  // namespace clinicwatch::http
