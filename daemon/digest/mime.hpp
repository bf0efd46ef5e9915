// Building the e-mail itself: RFC 5322 headers, RFC 2047 encoded words for Japanese subjects,
// and a multipart/alternative body (text and HTML, both UTF-8 in base64).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace clinicwatch {

std::string base64_encode(const std::string& bytes);

// "=?UTF-8?B?...?=" words of at most 75 characters, split on UTF-8 character boundaries and
// joined by CRLF + space (folding). Plain ASCII without specials is returned as it is.
std::string encode_header_text(const std::string& utf8);

// "Tue, 24 Nov 2026 07:30:00 +0900" in the process's local time zone.
std::string rfc5322_date(std::int64_t unix_seconds);

// "<random.time@host>": unique per message, kept with the queued message so a retry of the
// same message carries the same id.
std::string make_message_id(std::int64_t unix_seconds, const std::string& from_address);

struct MailContent {
    std::string from;
    std::vector<std::string> to;
    std::string subject;  // UTF-8
    std::string text;     // UTF-8
    std::string html;     // UTF-8
    std::string message_id;
    std::int64_t date = 0;  // unix seconds
};

// The whole message with CRLF line ends, ready for SMTP DATA.
std::string build_message(const MailContent& mail);

}  // namespace clinicwatch
