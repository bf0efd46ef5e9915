#pragma once
// Text measures for the SVGs the report draws (the network map, the availability chart). SVG
// text does not wrap or clip itself, so labels are measured and cut here.

#include <cstddef>
#include <string>

namespace clinicwatch::svg_text {

// Bytes of the UTF-8 sequence that starts with `lead`.
inline std::size_t sequence_length(unsigned char lead) {
    return lead < 0x80 ? 1 : lead < 0xe0 ? 2 : lead < 0xf0 ? 3 : 4;
}

// Width of a text in font sizes: CJK characters (3-byte and longer sequences) square, the rest
// `narrow` (the drawing's font decides: about 0.6 for a sans-serif).
inline double width_em(const std::string& s, double narrow) {
    double w = 0;
    for (std::size_t i = 0; i < s.size();) {
        std::size_t n = sequence_length(static_cast<unsigned char>(s[i]));
        w += n >= 3 ? 1.0 : narrow;
        i += n;
    }
    return w;
}

// Cut to fit `em` font sizes, with an ellipsis, never inside a UTF-8 sequence.
inline std::string fit(const std::string& s, double em, double narrow) {
    if (width_em(s, narrow) <= em) return s;
    std::string out;
    double w = 0;
    for (std::size_t i = 0; i < s.size();) {
        std::size_t n = sequence_length(static_cast<unsigned char>(s[i]));
        double cw = n >= 3 ? 1.0 : narrow;
        if (w + cw > em - 1) break;
        out += s.substr(i, n);
        w += cw;
        i += n;
    }
    return out + "…";
}

}  // namespace clinicwatch::svg_text
