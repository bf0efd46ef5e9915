#include "capture/protocols/http.hpp"

#include <array>

#include "capture/protocols/text.hpp"

namespace clinicwatch::http {

namespace {

constexpr std::array<std::string_view, 12> kMethods = {
    "GET ",     "POST ",  "HEAD ",   "PUT ",      "DELETE ",    "OPTIONS ",
    "CONNECT ", "PATCH ", "NOTIFY ", "M-SEARCH ", "SUBSCRIBE ", "PROPFIND "};

using text::iequals;
using text::trim;

// Next line without its CR LF (or bare LF, which SSDP senders use). False at the end of the
// data without a line ending: a header cut by the segment end is not trusted.
bool next_line(std::string_view& rest, std::string_view& line) {
    auto nl = rest.find('\n');
    if (nl == std::string_view::npos || nl > kMaxLine) return false;
    line = rest.substr(0, nl);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    rest.remove_prefix(nl + 1);
    return true;
}

bool printable(std::string_view s) {
    for (char c : s)
        if (static_cast<unsigned char>(c) < 0x20 && c != '\t') return false;
    return true;
}

}  // namespace

bool looks_like_http(Bytes payload) {
    std::string_view s = as_chars(payload.first(std::min<std::size_t>(payload.size(), 10)));
    if (s.substr(0, 5) == "HTTP/") return true;
    for (auto m : kMethods)
        if (s.size() >= m.size() && s.substr(0, m.size()) == m) return true;
    return false;
}

std::optional<Message> parse(Bytes payload) {
    if (!looks_like_http(payload)) return std::nullopt;
    std::string_view rest = as_chars(payload);
    std::string_view line;
    if (!next_line(rest, line) || !printable(line)) return std::nullopt;
    Message m;
    if (line.substr(0, 5) == "HTTP/") {
        auto sp = line.find(' ');
        if (sp == std::string_view::npos) return std::nullopt;
        m.version = line.substr(0, sp);
        std::string_view code = line.substr(sp + 1, 3);
        if (code.size() != 3) return std::nullopt;
        for (char c : code) {
            if (c < '0' || c > '9') return std::nullopt;
            m.status = m.status * 10 + (c - '0');
        }
        m.reason = line.size() > sp + 5 ? line.substr(sp + 5) : std::string_view{};
    } else {
        auto sp1 = line.find(' ');
        auto sp2 = line.rfind(' ');
        if (sp1 == std::string_view::npos || sp2 == sp1) return std::nullopt;
        m.request = true;
        m.method = line.substr(0, sp1);
        m.target = line.substr(sp1 + 1, sp2 - sp1 - 1);
        m.version = line.substr(sp2 + 1);
        if (m.version.substr(0, 5) != "HTTP/") return std::nullopt;
    }
    while (m.header_count < kMaxHeaders && next_line(rest, line)) {
        if (line.empty()) {
            m.headers_complete = true;
            break;
        }
        ++m.header_count;
        auto colon = line.find(':');
        if (colon == std::string_view::npos) continue;
        std::string_view name = trim(line.substr(0, colon));
        // Most headers are none of these: their length rules them out before any comparison.
        switch (name.size()) {
            case 4:
            case 6:
            case 10:
            case 13:
            case 16:
                break;
            default:
                continue;
        }
        std::string_view value = trim(line.substr(colon + 1));
        if (iequals(name, "host"))
            m.host = value;
        else if (iequals(name, "user-agent"))
            m.user_agent = value;
        else if (iequals(name, "server"))
            m.server = value;
        else if (iequals(name, "authorization") && m.authorization.empty())
            m.authorization = value;
        else if (iequals(name, "www-authenticate") && m.www_authenticate.empty() &&
                 value.find(' ') != std::string_view::npos)
            m.www_authenticate = value;  // the one with a token, not the bare offer
        else if (iequals(name, "01-nls"))
            m.nls = true;
    }
    return m;
}

std::string host_name(std::string_view value) {
    if (!value.empty() && value.front() == '[') {
        auto close = value.find(']');
        value = close == std::string_view::npos ? value.substr(1) : value.substr(1, close - 1);
    } else if (auto c = value.rfind(':'); c != std::string_view::npos) {
        value = value.substr(0, c);
    }
    std::string out;
    out.reserve(value.size());
    for (char c : value) out.push_back(c >= 'A' && c <= 'Z' ? static_cast<char>(c + 32) : c);
    return out;
}

std::optional<HttpRequest> request_of(const Message& m) {
    if (!m.request) return std::nullopt;
    // Header values may hold any byte but CR/LF: made safe here, once (ESC sequences, C1).
    return HttpRequest{std::string(m.method), text::safe_name(m.target, kMaxLine),
                       text::safe_name(host_name(m.host), 255), text::safe_name(m.user_agent, 512)};
}

std::optional<HttpRequest> parse_http_request(Bytes payload) {
    auto m = parse(payload);
    if (!m) return std::nullopt;
    return request_of(*m);
}

}  // namespace clinicwatch::http
