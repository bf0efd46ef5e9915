#include "capture/protocols/text.hpp"

#include <algorithm>

namespace clinicwatch::text {

namespace {
void append_utf8(std::string& out, std::uint32_t cp) {
    if (cp < 0x80) {
        out += static_cast<char>(cp);
    } else if (cp < 0x800) {
        out += static_cast<char>(0xc0 | (cp >> 6));
        out += static_cast<char>(0x80 | (cp & 0x3f));
    } else if (cp < 0x10000) {
        out += static_cast<char>(0xe0 | (cp >> 12));
        out += static_cast<char>(0x80 | ((cp >> 6) & 0x3f));
        out += static_cast<char>(0x80 | (cp & 0x3f));
    } else {
        out += static_cast<char>(0xf0 | (cp >> 18));
        out += static_cast<char>(0x80 | ((cp >> 12) & 0x3f));
        out += static_cast<char>(0x80 | ((cp >> 6) & 0x3f));
        out += static_cast<char>(0x80 | (cp & 0x3f));
    }
}
}  // namespace

std::string utf16le_to_utf8(Bytes in, std::size_t max_chars, std::size_t* consumed) {
    std::string out;
    std::size_t pos = 0, chars = 0;
    while (pos + 1 < in.size() && chars < max_chars) {
        std::uint32_t unit = load_le16(in.data() + pos);
        pos += 2;
        if (unit == 0) break;
        if (unit >= 0xd800 && unit < 0xdc00 && pos + 1 < in.size()) {
            std::uint32_t low = load_le16(in.data() + pos);
            if (low >= 0xdc00 && low < 0xe000) {
                pos += 2;
                unit = 0x10000 + ((unit - 0xd800) << 10) + (low - 0xdc00);
            } else {
                unit = 0xfffd;
            }
        } else if (unit >= 0xd800 && unit < 0xe000) {
            unit = 0xfffd;  // lone surrogate
        }
        append_utf8(out, unit);
        ++chars;
    }
    if (consumed) *consumed = pos;
    return out;
}

std::string cstring(Bytes in, std::size_t max_chars, std::size_t* consumed) {
    std::string out;
    std::size_t pos = 0;
    while (pos < in.size() && out.size() < max_chars) {
        std::uint8_t c = in[pos++];
        if (c == 0) break;
        out += (c >= 0x20 && c < 0x7f) ? static_cast<char>(c) : '?';
    }
    if (consumed) *consumed = pos;
    return out;
}

std::string trim_right(std::string s) {
    while (!s.empty() && (s.back() == ' ' || s.back() == '\0')) s.pop_back();
    return s;
}

bool iequals(std::string_view a, std::string_view b) {
    if (a.size() != b.size()) return false;
    for (std::size_t i = 0; i < a.size(); ++i) {
        char x = a[i], y = b[i];
        if (x >= 'A' && x <= 'Z') x = static_cast<char>(x - 'A' + 'a');
        if (y >= 'A' && y <= 'Z') y = static_cast<char>(y - 'A' + 'a');
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

std::string printable_ascii(Bytes in, std::size_t max_chars) {
    std::string out;
    for (auto c : in.first(std::min(in.size(), max_chars)))
        out.push_back(c == '\n' || c == '\r' || c == '\t' ? ' '
                      : (c >= 0x20 && c < 0x7f)           ? static_cast<char>(c)
                                                          : '?');
    return out;
}

}  // namespace clinicwatch::text
