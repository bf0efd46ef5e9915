#include "daemon/export/metrics.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <SQLiteCpp/SQLiteCpp.h>
#include <spdlog/spdlog.h>

#include <array>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <optional>
#include <stdexcept>

#include "analyzers/findings.hpp"

namespace clinicwatch {

std::string build_architecture() {
#if defined(__aarch64__)
    return "aarch64";
#elif defined(__x86_64__)
    return "x86_64";
#elif defined(__arm__)
    return "armv7l";
#elif defined(__i386__)
    return "i686";
#else
    return "unknown";
#endif
}

namespace {

// Label values: backslash, double quote and newline escaped (text exposition format).
std::string label_value(const std::string& v) {
    std::string out;
    out.reserve(v.size());
    for (char c : v) {
        if (c == '\\')
            out += "\\\\";
        else if (c == '"')
            out += "\\\"";
        else if (c == '\n')
            out += "\\n";
        else
            out += c;
    }
    return out;
}

class Exposition {
  public:
    // One metric family: HELP and TYPE once, then its samples.
    void family(const char* name, const char* type, const char* help) {
        name_ = name;
        text_ += "# HELP ";
        text_ += name;
        text_ += ' ';
        text_ += help;
        text_ += "\n# TYPE ";
        text_ += name;
        text_ += ' ';
        text_ += type;
        text_ += '\n';
    }
    void sample(double value, const std::vector<std::pair<std::string, std::string>>& labels = {}) {
        text_ += name_;
        if (!labels.empty()) {
            text_ += '{';
            for (std::size_t i = 0; i < labels.size(); ++i) {
                if (i) text_ += ',';
                text_ += labels[i].first + "=\"" + label_value(labels[i].second) + '"';
            }
            text_ += '}';
        }
        char number[48];
        // Whole numbers exactly (counters can pass 2^53 only after centuries at line rate).
        if (value == static_cast<double>(static_cast<std::int64_t>(value)))
            std::snprintf(number, sizeof number, " %lld\n",
                          static_cast<long long>(static_cast<std::int64_t>(value)));
        else
            std::snprintf(number, sizeof number, " %.3f\n", value);
        text_ += number;
    }
    void sample(std::uint64_t value,
                const std::vector<std::pair<std::string, std::string>>& labels = {}) {
        sample(static_cast<double>(value), labels);
    }
    std::string take() { return std::move(text_); }

  private:
    std::string text_;
    std::string name_;
};

std::uint64_t file_size(const std::string& path) {
    std::error_code ec;
    auto n = std::filesystem::file_size(path, ec);
    return ec ? 0 : static_cast<std::uint64_t>(n);
}

}  // namespace

struct MetricsWriter::DatabaseFigures {
    bool read = false;
    std::map<std::string, std::uint64_t> open_alerts;  // severity name -> open alerts
    std::uint64_t known_devices = 0;
    std::optional<double> last_digest_sent;  // Unix time the mail server accepted it
};

MetricsWriter::MetricsWriter(MetricsOptions options) : options_(std::move(options)) {}
MetricsWriter::~MetricsWriter() = default;

MetricsWriter::DatabaseFigures MetricsWriter::read_database() {
    DatabaseFigures f;
    try {
        if (!db_) {
            db_ = std::make_unique<SQLite::Database>(options_.db_path, SQLite::OPEN_READONLY);
            db_->setBusyTimeout(200);
        }
        SQLite::Statement alerts(
            *db_, "SELECT severity, count(*) FROM alerts WHERE status = 'open' GROUP BY severity");
        while (alerts.executeStep()) {
            auto severity = static_cast<Severity>(alerts.getColumn(0).getInt());
            f.open_alerts[std::string(to_string(severity))] +=
                static_cast<std::uint64_t>(alerts.getColumn(1).getInt64());
        }
        f.known_devices =
            static_cast<std::uint64_t>(db_->execAndGet("SELECT count(*) FROM assets").getInt64());
        SQLite::Statement digest(*db_,
                                 "SELECT max(accepted_wall) FROM mails WHERE kind = 'digest' AND "
                                 "status = 'sent'");
        if (digest.executeStep() && !digest.getColumn(0).isNull())
            f.last_digest_sent = static_cast<double>(digest.getColumn(0).getInt64());
        f.read = true;
    } catch (const std::exception& e) {
        // Busy, missing (first start) or not yet migrated: figures are left out this round.
        spdlog::debug("metrics: database not read: {}", e.what());
        db_.reset();
    }
    return f;
}

std::string MetricsWriter::render(const SensorHealth& h, double now) {
    Exposition m;
    m.family("clinicwatch_build_info", "gauge",
             "Always 1; the labels give the version and the architecture of the running binary.");
    m.sample(1.0, {{"version", CLINICWATCH_VERSION}, {"architecture", build_architecture()}});
    m.family("clinicwatch_start_time_seconds", "gauge",
             "When the running sensor started, in seconds since the Unix epoch.");
    m.sample(options_.start_wall_seconds);
    m.family("clinicwatch_uptime_seconds", "gauge", "Seconds since the running sensor started.");
    m.sample(now > options_.start_wall_seconds ? now - options_.start_wall_seconds : 0.0);
    m.family("clinicwatch_metrics_updated_timestamp_seconds", "gauge",
             "When this file was written; stale means the sensor stopped writing it.");
    m.sample(now);

    m.family("clinicwatch_captured_packets_total", "counter",
             "Frames read from the capture interface.");
    m.sample(h.captured_packets);
    m.family("clinicwatch_captured_bytes_total", "counter",
             "Wire bytes of the frames read from the capture interface.");
    m.sample(h.captured_bytes);
    m.family("clinicwatch_analysed_packets_total", "counter", "Frames decoded and analysed.");
    m.sample(h.analysed_packets);
    m.family("clinicwatch_analysed_bytes_total", "counter",
             "Wire bytes of the frames decoded and analysed.");
    m.sample(h.analysed_bytes);
    m.family("clinicwatch_dropped_packets_total", "counter",
             "Frames lost before analysis: by the kernel (socket buffer full), by the interface, "
             "or in the sensor's capture ring (analysis fell behind).");
    m.sample(h.kernel_drops, {{"stage", "kernel"}});
    m.sample(h.interface_drops, {{"stage", "interface"}});
    m.sample(h.ring_drops, {{"stage", "ring"}});
    m.family("clinicwatch_undecodable_packets_total", "counter",
             "Frames analysed that could not be decoded (truncated or malformed).");
    m.sample(h.undecodable);
    m.family("clinicwatch_active_devices", "gauge",
             "Devices in the sensor's in-memory device table.");
    m.sample(h.devices);

    m.family("clinicwatch_table_capacity_entries", "gauge",
             "Capacity of each bounded table the sensor keeps.");
    for (const auto& t : h.tables) m.sample(t.capacity, {{"table", t.table}});
    m.family("clinicwatch_table_dropped_entries_total", "counter",
             "Entries each bounded table dropped or refused because it was full.");
    for (const auto& t : h.tables) m.sample(t.dropped, {{"table", t.table}});

    m.family("clinicwatch_store_queued_items", "gauge",
             "Findings, minutes, flows and devices waiting in memory to be written.");
    m.sample(h.store_queued);
    m.family("clinicwatch_store_write_errors_total", "counter",
             "Database writes that failed (disk full, file locked or gone).");
    m.sample(h.store_write_errors);

    std::uint64_t db_bytes = file_size(options_.db_path) + file_size(options_.db_path + "-wal");
    m.family("clinicwatch_database_size_bytes", "gauge",
             "Size of the SQLite database with its write-ahead log.");
    m.sample(db_bytes);
    auto folder = std::filesystem::path(options_.db_path).parent_path();
    struct statvfs fs {};
    if (statvfs(folder.empty() ? "." : folder.c_str(), &fs) == 0) {
        m.family("clinicwatch_database_filesystem_available_bytes", "gauge",
                 "Space left for the database on its file system (for the sensor's user).");
        m.sample(static_cast<std::uint64_t>(fs.f_bavail) * fs.f_frsize);
    }

    auto db = read_database();
    m.family("clinicwatch_digest_configured", "gauge",
             "1 when a mail server is configured, so a digest is expected every day.");
    m.sample(options_.digest_configured ? 1.0 : 0.0);
    if (db.read) {
        m.family("clinicwatch_open_alerts", "gauge", "Open alerts by severity.");
        for (auto s : {Severity::critical, Severity::high, Severity::medium, Severity::low,
                       Severity::info}) {
            auto it = db.open_alerts.find(std::string(to_string(s)));
            m.sample(it == db.open_alerts.end() ? std::uint64_t{0} : it->second,
                     {{"severity", std::string(to_string(s))}});
        }
        m.family("clinicwatch_known_devices", "gauge", "Devices in the asset inventory.");
        m.sample(db.known_devices);
        m.family("clinicwatch_digest_last_sent_timestamp_seconds", "gauge",
                 "When the mail server last accepted a nightly digest (0: never).");
        m.sample(db.last_digest_sent.value_or(0.0));
    }
    return m.take();
}

void MetricsWriter::write(const SensorHealth& health, double now_wall_seconds) {
    std::string text = render(health, now_wall_seconds);
    // node_exporter reads only *.prom: the half-written temporary file is never seen, and the
    // rename swaps the whole file at once.
    std::string tmp = options_.path + ".tmp";
    // Readable by node_exporter's user whatever the service's umask: nothing here is secret.
    int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) throw std::runtime_error(tmp + ": " + std::strerror(errno));
    ::fchmod(fd, 0644);
    std::FILE* f = ::fdopen(fd, "w");
    if (!f) {
        int err = errno;
        ::close(fd);
        throw std::runtime_error(tmp + ": " + std::strerror(err));
    }
    bool ok = std::fwrite(text.data(), 1, text.size(), f) == text.size();
    ok = (std::fclose(f) == 0) && ok;
    if (!ok) {
        int err = errno;
        std::remove(tmp.c_str());
        throw std::runtime_error(tmp + ": " + std::strerror(err));
    }
    if (std::rename(tmp.c_str(), options_.path.c_str()) != 0) {
        int err = errno;
        std::remove(tmp.c_str());
        throw std::runtime_error(options_.path + ": " + std::strerror(err));
    }
}

}  // namespace clinicwatch
