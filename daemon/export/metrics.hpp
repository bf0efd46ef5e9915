// Health metrics for those who watch many clinics, without a listening socket: `clinicwatch run`
// writes a Prometheus text-format file (export.metrics_path) every 15 s, atomically (temporary
// file + rename), for node_exporter's textfile collector. Names follow the Prometheus conventions
// (clinicwatch_..._total counters, _bytes, _seconds). Setup and alert rules: docs/fleet.md.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "analyzers/analyzer.hpp"

namespace SQLite {
class Database;
}

namespace clinicwatch {

// What the running sensor knows about itself, copied from the analysis thread's progress
// reports. Counters are since the process started.
struct SensorHealth {
    std::uint64_t captured_packets = 0, captured_bytes = 0;  // read from the interface
    std::uint64_t analysed_packets = 0, analysed_bytes = 0;  // decoded and analysed
    std::uint64_t kernel_drops = 0, interface_drops = 0, ring_drops = 0;
    std::uint64_t undecodable = 0;
    std::uint64_t devices = 0;  // devices in the in-memory table now
    std::uint64_t store_queued = 0, store_write_errors = 0;
    std::vector<TableUse> tables;  // every bounded table: capacity and entries dropped
};

struct MetricsOptions {
    std::string path;                // the .prom file node_exporter reads
    std::string db_path;             // read (never written) for alerts, digests, devices, size
    bool digest_configured = false;  // a mail server is set: a digest is expected every day
    double start_wall_seconds = 0;   // when the process started (Unix time)
};

// Renders and writes the textfile. Database figures come from a read-only connection of its
// own, so a busy or failing writer never blocks it: what cannot be read is left out that round.
class MetricsWriter {
  public:
    explicit MetricsWriter(MetricsOptions options);
    ~MetricsWriter();
    MetricsWriter(const MetricsWriter&) = delete;
    MetricsWriter& operator=(const MetricsWriter&) = delete;

    // The whole file's text for `health` at wall time `now_wall_seconds`.
    std::string render(const SensorHealth& health, double now_wall_seconds);
    // Writes render() to path.tmp, then renames it over path. Throws std::runtime_error.
    void write(const SensorHealth& health, double now_wall_seconds);

  private:
    struct DatabaseFigures;
    DatabaseFigures read_database();

    MetricsOptions options_;
    std::unique_ptr<SQLite::Database> db_;
};

// The architecture the binary was built for, as `uname -m` names it (x86_64, aarch64 ...).
std::string build_architecture();

}  // namespace clinicwatch
