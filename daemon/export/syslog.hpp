// Syslog forwarding of the event log's events (RFC 5424, one event per message, the fields as
// structured data) so rsyslog or syslog-ng, present on every Debian system, can relay them to
// any SIEM. Datagrams only (UDP, RFC 5426, or a unix datagram socket): a slow or absent
// collector never holds up the sensor; what cannot be sent is counted. Set-up: docs/fleet.md.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace clinicwatch {

// Where messages go: "udp://HOST:PORT" (IPv4, [IPv6] or a name) or "unix:/PATH".
struct SyslogTarget {
    enum class Kind { udp, unix_datagram } kind = Kind::udp;
    std::string host;  // udp
    int port = 514;    // udp
    std::string path;  // unix
    // nullopt and `error` set when `text` is not a target.
    static std::optional<SyslogTarget> parse(const std::string& text, std::string* error);
};

// RFC 5424 facility by name (local0 ... local7, user, daemon); -1 when unknown.
int syslog_facility(const std::string& name);

// The SD-ID of our structured data. 32473 is the enterprise number RFC 5612 reserves for
// documentation and examples; clinicwatch has none of its own, and collectors match the name.
inline constexpr const char* kSyslogSdId = "clinicwatch@32473";

// One RFC 5424 message for an event of the JSON-lines log (the object EventLog writes).
// At most `max_bytes` long: evidence is dropped first, then the text is cut.
std::string format_syslog_message(const nlohmann::json& event, int facility, int pid,
                                  std::size_t max_bytes = 8000);

class SyslogForwarder {
  public:
    SyslogForwarder(SyslogTarget target, int facility);
    ~SyslogForwarder();
    SyslogForwarder(const SyslogForwarder&) = delete;
    SyslogForwarder& operator=(const SyslogForwarder&) = delete;

    // Never blocks: a message the socket does not take at once is counted as lost.
    void send(const nlohmann::json& event);
    std::uint64_t sent() const { return sent_; }
    std::uint64_t send_errors() const { return send_errors_; }

  private:
    bool connect();

    SyslogTarget target_;
    int facility_;
    int fd_ = -1;
    int pid_;
    std::uint64_t sent_ = 0, send_errors_ = 0;
    bool error_logged_ = false;
};

}  // namespace clinicwatch
