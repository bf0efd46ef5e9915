#include "daemon/export/event_log.hpp"

#include <fcntl.h>
#include <spdlog/spdlog.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "daemon/output.hpp"

namespace clinicwatch {

namespace {
std::string host_name() {
    char buf[256] = {};
    if (gethostname(buf, sizeof buf - 1) != 0) return "clinicwatch";
    return buf;
}

nlohmann::json observed_values(const std::vector<Observed>& list) {
    auto out = nlohmann::json::array();
    for (const auto& o : list) out.push_back(o.value);
    return out;
}

// A sensor stopped in the middle of a write (kill -9, the OOM killer, a power cut) leaves the
// last line unfinished; appending to it would glue the next event onto it and make one line no
// shipper can parse. Cut the file back to its last complete line (shippers only take complete
// lines, so what is cut was never sent).
void drop_unfinished_line(const std::string& path) {
    int fd = ::open(path.c_str(), O_RDWR | O_CLOEXEC);
    if (fd < 0) return;  // not there yet; other problems are reported when it is opened
    struct stat st {};
    char last = '\n';
    if (fstat(fd, &st) == 0 && st.st_size > 0 && pread(fd, &last, 1, st.st_size - 1) == 1 &&
        last != '\n') {
        off_t keep = 0;
        char buf[4096];
        for (off_t pos = st.st_size; pos > 0;) {
            off_t from = std::max<off_t>(0, pos - static_cast<off_t>(sizeof buf));
            if (pread(fd, buf, static_cast<std::size_t>(pos - from), from) != pos - from) {
                keep = -1;  // cannot read it: leave the file as it is
                break;
            }
            auto* nl = static_cast<char*>(memrchr(buf, '\n', static_cast<std::size_t>(pos - from)));
            if (nl) {
                keep = from + (nl - buf) + 1;
                break;
            }
            pos = from;
        }
        if (keep >= 0 && ftruncate(fd, keep) == 0)
            spdlog::warn(
                "event log {}: removed an unfinished last line ({} bytes) left when the "
                "sensor stopped in the middle of writing it",
                path, st.st_size - keep);
    }
    ::close(fd);
}
}  // namespace

EventLog::EventLog(EventLogOptions options, std::unique_ptr<SyslogForwarder> syslog)
    : options_(std::move(options)), syslog_(std::move(syslog)) {
    if (options_.observer.empty()) options_.observer = host_name();
    if (!options_.path.empty()) open();
}

EventLog::~EventLog() {
    if (file_) std::fclose(file_);
}

void EventLog::open() {
    drop_unfinished_line(options_.path);
    file_ = std::fopen(options_.path.c_str(), "a");
    if (!file_) {
        spdlog::error("event log {}: cannot open: {}", options_.path, std::strerror(errno));
        ++write_errors_;
        return;
    }
    struct stat st {};
    size_ = fstat(fileno(file_), &st) == 0 ? static_cast<std::uint64_t>(st.st_size) : 0;
}

void EventLog::rotate() {
    if (file_) std::fclose(file_);
    file_ = nullptr;
    for (int i = options_.keep; i >= 1; --i) {
        std::string from = i == 1 ? options_.path : options_.path + "." + std::to_string(i - 1);
        std::string to = options_.path + "." + std::to_string(i);
        std::rename(from.c_str(), to.c_str());  // a missing older file is fine
    }
    open();
}

void EventLog::write(const nlohmann::json& event) {
    if (syslog_) syslog_->send(event);
    if (options_.path.empty()) return;
    std::string line = event.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
    if (size_ > 0 && size_ + line.size() > options_.max_bytes) rotate();
    if (!file_) open();
    if (!file_ || std::fwrite(line.data(), 1, line.size(), file_) != line.size()) {
        ++write_errors_;
        return;
    }
    size_ += line.size();
}

void EventLog::flush() {
    if (file_) std::fflush(file_);
}

void EventLog::alert(const AlertUpdate& a, const std::string& action) {
    nlohmann::json e = {
        {"@timestamp", format_time_iso(a.last_seen)},
        {"message", a.summary},
        {"event",
         {{"kind", "alert"},
          {"category", nlohmann::json::array({"network"})},
          {"action", action},
          {"severity", static_cast<int>(a.severity)},
          {"start", format_time_iso(a.first_seen)}}},
        {"observer", {{"name", options_.observer}, {"product", "clinicwatch"}, {"type", "sensor"}}},
        {"clinicwatch",
         {{"alert",
           {{"kind", a.kind},
            {"key", a.key},
            {"severity", std::string(to_string(a.severity))},
            {"subject", a.subject},
            {"count", a.count}}}}},
    };
    if (a.ended) e["event"]["end"] = format_time_iso(a.last_seen);
    if (a.subject_mac) e["source"] = {{"mac", a.subject_mac->to_string()}};
    if (!a.evidence.is_null()) e["clinicwatch"]["alert"]["evidence"] = a.evidence;
    write(e);
}

void EventLog::asset(const Host& h, const std::string& action) {
    nlohmann::json e = {
        {"@timestamp", format_time_iso(h.last_seen)},
        {"message", "asset " + h.key.mac.to_string() + " " + action},
        {"event",
         {{"kind", "asset"},
          {"category", nlohmann::json::array({"host"})},
          {"action", action},
          {"start", format_time_iso(h.first_seen)}}},
        {"observer", {{"name", options_.observer}, {"product", "clinicwatch"}, {"type", "sensor"}}},
        {"source", {{"mac", h.key.mac.to_string()}}},
        {"clinicwatch",
         {{"asset",
           {{"vlan", h.key.vlan},
            {"vendor", h.vendor},
            {"randomized_mac", h.randomized_mac},
            {"addresses", observed_values(h.addresses)},
            {"names", observed_values(h.names)},
            {"os_family", h.os_family},
            {"os_version", h.os_version}}}}},
    };
    write(e);
}

std::unique_ptr<EventLog> open_event_log(const ExportConfig& config) {
    if (config.events_path.empty() && config.syslog_target.empty()) return nullptr;
    EventLogOptions o;
    o.path = config.events_path;
    o.max_bytes = static_cast<std::uint64_t>(config.max_megabytes) * 1024 * 1024;
    o.keep = config.keep;
    std::unique_ptr<SyslogForwarder> syslog;
    if (auto target = SyslogTarget::parse(config.syslog_target, nullptr))  // validated on load
        syslog = std::make_unique<SyslogForwarder>(
            *target, std::max(0, syslog_facility(config.syslog_facility)));
    return std::make_unique<EventLog>(o, std::move(syslog));
}

}  // namespace clinicwatch
