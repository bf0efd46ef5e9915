// An optional JSON-lines event log for people who watch many clinics: one line per alert opened,
// updated or ended and per asset seen for the first time or changed. Field names follow the
// Elastic Common Schema where one fits (@timestamp, event.*, source.mac, observer.*), so Fluent
// Bit, Vector or Filebeat ship it to Elasticsearch, OpenSearch or Wazuh without a custom parser.
// Rotation by size: FILE -> FILE.1 -> ... -> FILE.<keep>. Field list: docs/events.md.
#pragma once

#include <cstdint>
#include <cstdio>
#include <memory>
#include <string>

#include <nlohmann/json.hpp>

#include "analyzers/findings.hpp"
#include "analyzers/host_table.hpp"
#include "daemon/config.hpp"
#include "daemon/export/syslog.hpp"

namespace clinicwatch {

struct EventLogOptions {
    std::string path;  // empty: no event log
    std::uint64_t max_bytes = 10 * 1024 * 1024;
    int keep = 5;
    std::string observer;  // the sensor's name in every event (default: the host name)
};

class EventLog {
  public:
    // `syslog`: also forward every event there (RFC 5424); the file may then be off (no path).
    explicit EventLog(EventLogOptions options, std::unique_ptr<SyslogForwarder> syslog = nullptr);
    ~EventLog();
    EventLog(const EventLog&) = delete;
    EventLog& operator=(const EventLog&) = delete;

    // action: "opened", "updated" or "ended".
    void alert(const AlertUpdate& update, const std::string& action);
    // action: "discovered" or "changed".
    void asset(const Host& host, const std::string& action);
    void flush();

    std::uint64_t write_errors() const { return write_errors_; }
    // Events not handed to the syslog target (0 without one).
    std::uint64_t syslog_errors() const { return syslog_ ? syslog_->send_errors() : 0; }

  private:
    void write(const nlohmann::json& event);
    void open();
    void rotate();

    EventLogOptions options_;
    std::FILE* file_ = nullptr;
    std::uint64_t size_ = 0;
    std::uint64_t write_errors_ = 0;
    std::unique_ptr<SyslogForwarder> syslog_;
};

// The event log the configuration asks for (a file, syslog forwarding or both), or nothing when
// neither export.events_path nor export.syslog_target is set.
std::unique_ptr<EventLog> open_event_log(const ExportConfig& config);

}  // namespace clinicwatch
