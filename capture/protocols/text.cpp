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
    return safe_name(out, out.size());  // no control characters (ESC sequences) from the wire
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

std::string safe_name(std::string_view in, std::size_t max_bytes) {
    std::string out;
    out.reserve(std::min(in.size(), max_bytes));
    std::size_t i = 0;
    while (i < in.size()) {
        auto c = static_cast<unsigned char>(in[i]);
        std::size_t len = c < 0x80         ? 1
                          : (c >> 5) == 6  ? 2
                          : (c >> 4) == 14 ? 3
                          : (c >> 3) == 30 ? 4
                                           : 0;
        bool valid = len != 0 && i + len <= in.size();
        std::uint32_t cp = len == 1 ? c : len == 2 ? c & 0x1f : len == 3 ? c & 0x0f : c & 0x07;
        for (std::size_t k = 1; valid && k < len; ++k) {
            auto cc = static_cast<unsigned char>(in[i + k]);
            valid = (cc & 0xc0) == 0x80;
            cp = cp << 6 | (cc & 0x3f);
        }
        // Overlong forms, surrogates and values past U+10FFFF are not valid UTF-8.
        if (valid &&
            ((len == 2 && cp < 0x80) || (len == 3 && cp < 0x800) ||
             (len == 4 && (cp < 0x10000 || cp > 0x10ffff)) || (cp >= 0xd800 && cp < 0xe000)))
            valid = false;
        bool control = valid && (cp < 0x20 || cp == 0x7f || (cp >= 0x80 && cp < 0xa0));
        if (!valid || control) {
            if (out.size() + 1 > max_bytes) break;
            out += '?';
            i += valid ? len : 1;
            continue;
        }
        if (out.size() + len > max_bytes) break;
        out.append(in.substr(i, len));
        i += len;
    }
    return out;
}

}  // namespace clinicwatch::text
