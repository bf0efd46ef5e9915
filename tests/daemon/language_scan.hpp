// Scanners for what people read: an English sentence left in a Japanese text, or Japanese left
// in an English one. Proper names (the clinic's name, register names, makers) are taken out
// first; command names in backquotes are code, not prose.
#pragma once

#include <cctype>
#include <string>
#include <vector>

namespace clinicwatch::test {

inline std::string without(std::string text, const std::vector<std::string>& names) {
    for (const auto& n : names) {
        if (n.empty()) continue;
        for (auto at = text.find(n); at != std::string::npos; at = text.find(n, at))
            text.replace(at, n.size(), " ");
    }
    // `clinicwatch incidents` and <code>...</code> are commands to type, not sentences.
    for (const auto& [open, close] :
         std::vector<std::pair<std::string, std::string>>{{"`", "`"}, {"<code>", "</code>"}}) {
        for (auto a = text.find(open); a != std::string::npos; a = text.find(open, a)) {
            auto b = text.find(close, a + open.size());
            if (b == std::string::npos) break;
            text.replace(a, b + close.size() - a, " ");
        }
    }
    return text;
}

// The lines of `text` for which `holds` is true of the line with `names` taken out.
template <typename Predicate>
std::vector<std::string> lines_where(const std::string& text, const std::vector<std::string>& names,
                                     Predicate holds) {
    std::vector<std::string> out;
    std::size_t start = 0;
    while (start <= text.size()) {
        std::size_t end = text.find('\n', start);
        if (end == std::string::npos) end = text.size();
        if (holds(without(text.substr(start, end - start), names)))
            out.push_back(text.substr(start, end - start));
        start = end + 1;
    }
    return out;
}

// Lines holding an English sentence: four or more ASCII words in a row of which at least two
// are lower-case words ("the", "from", "device" ...). Makers' names ("Allied Telesis R&D
// Center") and host names are capitalised or single tokens, so they do not count.
inline std::vector<std::string> english_sentences(const std::string& text,
                                                  const std::vector<std::string>& names = {}) {
    return lines_where(text, names, [](const std::string& line) {
        int run = 0, lower = 0;
        bool found = false;
        std::size_t i = 0;
        while (i < line.size() && !found) {
            auto c = static_cast<unsigned char>(line[i]);
            if (std::isalpha(c)) {
                std::size_t j = i;
                bool all_lower = true;
                while (j < line.size() &&
                       (std::isalpha(static_cast<unsigned char>(line[j])) || line[j] == '\'')) {
                    all_lower &= !std::isupper(static_cast<unsigned char>(line[j]));
                    ++j;
                }
                ++run;
                if (all_lower && j - i >= 2) ++lower;
                found = run >= 4 && lower >= 2;
                i = j;
                // Words of one sentence are separated by a space (and maybe , or .).
                std::size_t k = i;
                while (k < line.size() && (line[k] == ',' || line[k] == '.')) ++k;
                if (k < line.size() && line[k] == ' ' && k + 1 < line.size() &&
                    std::isalpha(static_cast<unsigned char>(line[k + 1]))) {
                    i = k + 1;
                    continue;
                }
                run = lower = 0;
                continue;
            }
            run = lower = 0;
            ++i;
        }
        return found;
    });
}

// Lines holding Japanese: hiragana, katakana or kanji (U+3040..U+30FF, U+4E00..U+9FFF), or
// the full-width punctuation Japanese uses (U+3000..U+303F, U+FF01..U+FF60).
inline std::vector<std::string> japanese_lines(const std::string& text,
                                               const std::vector<std::string>& names = {}) {
    return lines_where(text, names, [](const std::string& line) {
        bool found = false;
        for (std::size_t i = 0; i + 2 < line.size() + 0 && !found; ++i) {
            auto b0 = static_cast<unsigned char>(line[i]);
            if ((b0 & 0xF0) != 0xE0) continue;
            unsigned cp = ((b0 & 0x0Fu) << 12) |
                          ((static_cast<unsigned char>(line[i + 1]) & 0x3Fu) << 6) |
                          (static_cast<unsigned char>(line[i + 2]) & 0x3Fu);
            found = (cp >= 0x3000 && cp <= 0x30FF) || (cp >= 0x4E00 && cp <= 0x9FFF) ||
                    (cp >= 0xFF01 && cp <= 0xFF60);
        }
        return found;
    });
}

}  // namespace clinicwatch::test
