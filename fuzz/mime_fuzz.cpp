// The digest's header encoding with any bytes (subjects carry asset names seen on the wire):
// every encoded word stays within 75 characters and decodes back to exactly the input.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "daemon/digest/mime.hpp"

namespace {

std::string base64_decode(const std::string& in) {
    static const std::string kAlphabet =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    std::string out;
    std::uint32_t acc = 0;
    int bits = 0;
    for (char c : in) {
        if (c == '=') break;
        auto v = kAlphabet.find(c);
        if (v == std::string::npos) std::abort();
        acc = (acc << 6) | static_cast<std::uint32_t>(v);
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out += static_cast<char>((acc >> bits) & 0xff);
        }
    }
    return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    std::string input(reinterpret_cast<const char*>(data), size);
    if (base64_decode(clinicwatch::base64_encode(input)) != input) std::abort();
    std::string encoded = clinicwatch::encode_header_text(input);
    if (encoded == input) return 0;  // plain ASCII passes through
    std::string decoded;
    std::size_t start = 0;
    while (start < encoded.size()) {
        std::size_t end = encoded.find("\r\n ", start);
        std::string word =
            encoded.substr(start, end == std::string::npos ? std::string::npos : end - start);
        if (word.size() > 75 || word.rfind("=?UTF-8?B?", 0) != 0 || word.size() < 12 ||
            word.substr(word.size() - 2) != "?=")
            std::abort();
        decoded += base64_decode(word.substr(10, word.size() - 12));
        start = end == std::string::npos ? encoded.size() : end + 3;
    }
    if (decoded != input) std::abort();
    return 0;
}
