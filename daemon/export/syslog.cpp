#include "daemon/export/syslog.hpp"

#include <fcntl.h>
#include <netdb.h>
#include <spdlog/spdlog.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace clinicwatch {

std::optional<SyslogTarget> SyslogTarget::parse(const std::string& text, std::string* error) {
    SyslogTarget t;
    auto fail = [&](const std::string& why) -> std::optional<SyslogTarget> {
        if (error) *error = why;
        return std::nullopt;
    };
    if (text.rfind("unix:", 0) == 0) {
        t.kind = Kind::unix_datagram;
        t.path = text.substr(5);
        if (t.path.empty() || t.path[0] != '/')
            return fail("expected unix:/absolute/path of a datagram socket");
        if (t.path.size() >= sizeof(sockaddr_un{}.sun_path)) return fail("socket path too long");
        return t;
    }
    if (text.rfind("udp://", 0) != 0)
        return fail("expected udp://HOST:PORT or unix:/PATH (datagrams only)");
    std::string rest = text.substr(6);
    std::size_t colon;
    if (!rest.empty() && rest[0] == '[') {  // [IPv6]:port
        auto close = rest.find(']');
        if (close == std::string::npos) return fail("missing ']' after the IPv6 address");
        t.host = rest.substr(1, close - 1);
        colon = close + 1;
        if (colon < rest.size() && rest[colon] != ':') return fail("expected :PORT after ']'");
    } else {
        colon = rest.rfind(':');
        t.host = rest.substr(0, colon);
    }
    if (t.host.empty()) return fail("expected a host name or address");
    if (colon != std::string::npos && colon < rest.size()) {
        std::string port = rest.substr(colon + 1);
        if (port.empty() || port.size() > 5 ||
            port.find_first_not_of("0123456789") != std::string::npos)
            return fail("expected a port number after ':'");
        t.port = std::stoi(port);
        if (t.port < 1 || t.port > 65535) return fail("port must be from 1 to 65535");
    }
    return t;
}

int syslog_facility(const std::string& name) {
    if (name == "user") return 1;
    if (name == "daemon") return 3;
    if (name.size() == 6 && name.rfind("local", 0) == 0 && name[5] >= '0' && name[5] <= '7')
        return 16 + (name[5] - '0');
    return -1;
}

namespace {

// HOSTNAME, APP-NAME ...: printable US-ASCII without spaces, or "-" (RFC 5424 section 6).
std::string header_field(const std::string& s, std::size_t max) {
    std::string out;
    for (char c : s) {
        if (out.size() == max) break;
        out += (c > 32 && c < 127) ? c : '-';
    }
    return out.empty() ? "-" : out;
}

// PARAM-VALUE: '"', '\' and ']' escaped with a backslash (section 6.3.3).
void append_param(std::string& sd, const std::string& name, const std::string& value) {
    sd += ' ';
    sd += name;
    sd += "=\"";
    for (char c : value) {
        if (c == '"' || c == '\\' || c == ']') sd += '\\';
        sd += c;
    }
    sd += '"';
}

std::string value_text(const nlohmann::json& v) {
    if (v.is_string()) return v.get<std::string>();
    if (v.is_array()) {  // addresses, names: a comma-separated list reads best in a SIEM
        std::string out;
        for (const auto& item : v) {
            if (!out.empty()) out += ',';
            out += value_text(item);
        }
        return out;
    }
    if (v.is_null()) return "";
    return v.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

// Syslog severity (section 6.2.1) for an event: alerts by their severity, assets as notices
// (discovered) or informational (changed).
int syslog_severity(const nlohmann::json& event) {
    const auto& e = event.value("event", nlohmann::json::object());
    if (e.value("kind", "") == "alert") {
        switch (e.value("severity", 2)) {
            case 4:
                return 2;  // critical -> crit
            case 3:
                return 3;  // high -> err
            case 2:
                return 4;  // medium -> warning
            case 1:
                return 5;  // low -> notice
            default:
                return 6;
        }
    }
    return e.value("action", "") == "discovered" ? 5 : 6;
}

// Cuts `s` to at most `n` bytes without splitting a UTF-8 character.
void cut_utf8(std::string& s, std::size_t n) {
    if (s.size() <= n) return;
    while (n > 0 && (static_cast<unsigned char>(s[n]) & 0xC0) == 0x80) --n;
    s.resize(n);
}

}  // namespace

std::string format_syslog_message(const nlohmann::json& event, int facility, int pid,
                                  std::size_t max_bytes) {
    const auto empty = nlohmann::json::object();
    const auto& e = event.contains("event") ? event["event"] : empty;
    std::string kind = e.value("kind", "event");
    std::string header = "<" + std::to_string(facility * 8 + syslog_severity(event)) + ">1 " +
                         header_field(event.value("@timestamp", ""), 64) + ' ' +
                         header_field(event.value("observer", empty).value("name", ""), 255) +
                         " clinicwatch " + std::to_string(pid) + ' ' + header_field(kind, 32) + ' ';

    // The same fields as the JSON line: event.action/start/end, source.mac, then everything
    // under clinicwatch.<kind> (evidence last, the first thing dropped when too long).
    auto build_sd = [&](bool with_evidence) {
        std::string sd = "[";
        sd += kSyslogSdId;
        append_param(sd, "action", e.value("action", ""));
        for (const char* k : {"start", "end"})
            if (e.contains(k)) append_param(sd, k, value_text(e[k]));
        if (event.contains("source") && event["source"].contains("mac"))
            append_param(sd, "mac", value_text(event["source"]["mac"]));
        if (event.contains("clinicwatch") && event["clinicwatch"].contains(kind)) {
            const auto& fields = event["clinicwatch"][kind];
            for (const auto& [name, value] : fields.items()) {
                if (name == "evidence") continue;
                append_param(sd, name.substr(0, 32), value_text(value));
            }
            if (with_evidence && fields.contains("evidence"))
                append_param(sd, "evidence", value_text(fields["evidence"]));
        }
        sd += ']';
        return sd;
    };

    // MSG in UTF-8 starts with a byte order mark (section 6.4).
    std::string text = "\xEF\xBB\xBF" + event.value("message", std::string());
    std::string message = header + build_sd(true) + ' ' + text;
    if (message.size() <= max_bytes) return message;
    message = header + build_sd(false) + ' ';
    if (message.size() + 3 >= max_bytes) {
        cut_utf8(message, max_bytes);
        return message;
    }
    cut_utf8(text, max_bytes - message.size());
    return message + text;
}

SyslogForwarder::SyslogForwarder(SyslogTarget target, int facility)
    : target_(std::move(target)), facility_(facility), pid_(static_cast<int>(getpid())) {}

SyslogForwarder::~SyslogForwarder() {
    if (fd_ >= 0) ::close(fd_);
}

bool SyslogForwarder::connect() {
    if (target_.kind == SyslogTarget::Kind::unix_datagram) {
        fd_ = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
        if (fd_ < 0) return false;
        sockaddr_un addr{};
        addr.sun_family = AF_UNIX;
        std::strncpy(addr.sun_path, target_.path.c_str(), sizeof addr.sun_path - 1);
        if (::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0) return true;
    } else {
        addrinfo hints{};
        hints.ai_socktype = SOCK_DGRAM;
        hints.ai_family = AF_UNSPEC;
        addrinfo* found = nullptr;
        std::string port = std::to_string(target_.port);
        if (getaddrinfo(target_.host.c_str(), port.c_str(), &hints, &found) != 0 || !found)
            return false;
        fd_ = ::socket(found->ai_family, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
        bool ok = fd_ >= 0 && ::connect(fd_, found->ai_addr, found->ai_addrlen) == 0;
        freeaddrinfo(found);
        if (ok) return true;
    }
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
    return false;
}

void SyslogForwarder::send(const nlohmann::json& event) {
    std::string message = format_syslog_message(event, facility_, pid_);
    if (fd_ < 0 && !connect()) {
        ++send_errors_;
    } else if (::send(fd_, message.data(), message.size(), MSG_NOSIGNAL) ==
               static_cast<ssize_t>(message.size())) {
        ++sent_;
        error_logged_ = false;
        return;
    } else {
        ++send_errors_;
        // ECONNREFUSED (no listener yet) or a stale unix socket: connect afresh next time.
        if (errno != EAGAIN && errno != EWOULDBLOCK) {
            ::close(fd_);
            fd_ = -1;
        }
    }
    if (!error_logged_)
        spdlog::warn("syslog: events not delivered to {} ({}); counting what is lost",
                     target_.kind == SyslogTarget::Kind::udp
                         ? target_.host + ":" + std::to_string(target_.port)
                         : target_.path,
                     std::strerror(errno));
    error_logged_ = true;
}

}  // namespace clinicwatch
