#include "daemon/digest/mime.hpp"

#include <unistd.h>

#include <ctime>
#include <random>

namespace clinicwatch {

namespace {

constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

std::string random_hex(std::size_t n) {
    std::random_device rd;
    std::string out;
    static constexpr char kHex[] = "0123456789abcdef";
    for (std::size_t i = 0; i < n; ++i) out += kHex[rd() & 15];
    return out;
}

// Base64 in lines of 76 characters, CRLF after each (RFC 2045).
std::string base64_lines(const std::string& bytes) {
    std::string b64 = base64_encode(bytes), out;
    for (std::size_t i = 0; i < b64.size(); i += 76) out += b64.substr(i, 76) + "\r\n";
    return out;
}

bool plain_ascii(const std::string& s) {
    for (unsigned char c : s)
        if (c < 0x20 || c > 0x7e) return false;
    return s.find("=?") == std::string::npos;
}

// Length of the UTF-8 sequence starting with `lead` (1 for stray continuation bytes).
std::size_t utf8_length(unsigned char lead) {
    if (lead >= 0xf0) return 4;
    if (lead >= 0xe0) return 3;
    if (lead >= 0xc0) return 2;
    return 1;
}

}  // namespace

std::string base64_encode(const std::string& bytes) {
    std::string out;
    out.reserve((bytes.size() + 2) / 3 * 4);
    std::size_t i = 0;
    for (; i + 2 < bytes.size(); i += 3) {
        std::uint32_t v = (static_cast<unsigned char>(bytes[i]) << 16) |
                          (static_cast<unsigned char>(bytes[i + 1]) << 8) |
                          static_cast<unsigned char>(bytes[i + 2]);
        out += kAlphabet[(v >> 18) & 63];
        out += kAlphabet[(v >> 12) & 63];
        out += kAlphabet[(v >> 6) & 63];
        out += kAlphabet[v & 63];
    }
    if (std::size_t rest = bytes.size() - i; rest) {
        std::uint32_t v = static_cast<unsigned char>(bytes[i]) << 16;
        if (rest == 2) v |= static_cast<unsigned char>(bytes[i + 1]) << 8;
        out += kAlphabet[(v >> 18) & 63];
        out += kAlphabet[(v >> 12) & 63];
        out += rest == 2 ? kAlphabet[(v >> 6) & 63] : '=';
        out += '=';
    }
    return out;
}

std::string encode_header_text(const std::string& utf8) {
    if (plain_ascii(utf8) && utf8.size() <= 900) return utf8;
    // An encoded word is at most 75 characters: "=?UTF-8?B?" + payload + "?=" leaves 63
    // base64 characters, i.e. 45 bytes of text; never split a character between words.
    constexpr std::size_t kMaxBytes = 45;
    std::string out;
    std::size_t i = 0;
    while (i < utf8.size()) {
        std::size_t end = i;
        while (end < utf8.size()) {
            std::size_t len = utf8_length(static_cast<unsigned char>(utf8[end]));
            if (end + len > utf8.size()) len = utf8.size() - end;
            if (end + len - i > kMaxBytes) break;
            end += len;
        }
        if (end == i) end = i + 1;  // cannot happen with valid UTF-8; never loop forever
        if (!out.empty()) out += "\r\n ";
        out += "=?UTF-8?B?" + base64_encode(utf8.substr(i, end - i)) + "?=";
        i = end;
    }
    return out;
}

std::string rfc5322_date(std::int64_t unix_seconds) {
    std::time_t t = static_cast<std::time_t>(unix_seconds);
    std::tm tm{};
    localtime_r(&t, &tm);
    static const char* kDays[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
    static const char* kMonths[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                    "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
    char zone[8];
    std::strftime(zone, sizeof zone, "%z", &tm);  // locale-independent, unlike %a %b
    char buf[64];
    std::snprintf(buf, sizeof buf, "%s, %02d %s %04d %02d:%02d:%02d %s", kDays[tm.tm_wday],
                  tm.tm_mday, kMonths[tm.tm_mon], tm.tm_year + 1900, tm.tm_hour, tm.tm_min,
                  tm.tm_sec, zone);
    return buf;
}

std::string make_message_id(std::int64_t unix_seconds, const std::string& from_address) {
    std::string domain = "clinicwatch.invalid";
    if (auto at = from_address.find('@'); at != std::string::npos && at + 1 < from_address.size())
        domain = from_address.substr(at + 1);
    return "<" + std::to_string(unix_seconds) + "." + random_hex(16) + ".clinicwatch@" + domain +
           ">";
}

std::string build_message(const MailContent& mail) {
    std::string boundary = "=_clinicwatch_" + random_hex(24);
    std::string to;
    for (const auto& t : mail.to) to += (to.empty() ? "" : ", ") + t;
    std::string out;
    out += "From: " + mail.from + "\r\n";
    out += "To: " + to + "\r\n";
    out += "Subject: " + encode_header_text(mail.subject) + "\r\n";
    out += "Date: " + rfc5322_date(mail.date) + "\r\n";
    out += "Message-ID: " + mail.message_id + "\r\n";
    out += "MIME-Version: 1.0\r\n";
    out += "Auto-Submitted: auto-generated\r\n";
    out += "Content-Type: multipart/alternative; boundary=\"" + boundary + "\"\r\n";
    out += "\r\n";
    out += "This is a MIME message: a plain-text and an HTML version of the same text.\r\n";
    out += "\r\n--" + boundary + "\r\n";
    out += "Content-Type: text/plain; charset=UTF-8\r\n";
    out += "Content-Transfer-Encoding: base64\r\n\r\n";
    out += base64_lines(mail.text);
    out += "\r\n--" + boundary + "\r\n";
    out += "Content-Type: text/html; charset=UTF-8\r\n";
    out += "Content-Transfer-Encoding: base64\r\n\r\n";
    out += base64_lines(mail.html);
    out += "\r\n--" + boundary + "--\r\n";
    return out;
}

}  // namespace clinicwatch
