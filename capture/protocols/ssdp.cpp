#include "capture/protocols/ssdp.hpp"

#include <string_view>

#include "capture/protocols/text.hpp"

namespace clinicwatch::ssdp {

namespace {

using text::iequals;
using text::trim;

std::string clean(std::string_view v) {
    std::string out;
    for (char c : v.substr(0, kMaxHeaderValue)) {
        auto u = static_cast<unsigned char>(c);
        out.push_back(u >= 0x20 && u < 0x7f ? c : '?');
    }
    return out;
}

}  // namespace

std::optional<Message> parse(Bytes payload) {
    std::string_view text = as_chars(payload);
    auto eol = text.find('\n');
    if (eol == std::string_view::npos) return std::nullopt;
    std::string_view start = trim(text.substr(0, eol));
    Message m;
    if (start.starts_with("NOTIFY * HTTP/1."))
        m.kind = Kind::notify;
    else if (start.starts_with("M-SEARCH * HTTP/1."))
        m.kind = Kind::search;
    else if (start.starts_with("HTTP/1.") && start.find(" 200") != std::string_view::npos)
        m.kind = Kind::response;
    else
        return std::nullopt;
    text.remove_prefix(eol + 1);
    for (std::size_t n = 0; n < kMaxHeaders && !text.empty(); ++n) {
        eol = text.find('\n');
        std::string_view line = trim(text.substr(0, eol));
        text.remove_prefix(eol == std::string_view::npos ? text.size() : eol + 1);
        if (line.empty()) break;  // end of headers
        auto colon = line.find(':');
        if (colon == std::string_view::npos) continue;
        std::string_view name = trim(line.substr(0, colon));
        std::string_view value = trim(line.substr(colon + 1));
        if (iequals(name, "SERVER"))
            m.server = clean(value);
        else if (iequals(name, "USN"))
            m.usn = clean(value);
        else if (iequals(name, "LOCATION"))
            m.location = clean(value);
        else if (iequals(name, "NT") || iequals(name, "ST"))
            m.nt = clean(value);
        else if (iequals(name, "NTS"))
            m.nts = clean(value);
        else if (iequals(name, "USER-AGENT"))
            m.user_agent = clean(value);
    }
    return m;
}

}  // namespace clinicwatch::ssdp
