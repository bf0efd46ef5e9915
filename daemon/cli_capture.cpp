// `clinicwatch replay` and `clinicwatch run`: the pipeline with a file or a live source.
#include <spdlog/spdlog.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <csignal>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <future>
#include <iostream>
#include <thread>

#include <SQLiteCpp/SQLiteCpp.h>

#include "daemon/cli.hpp"
#include "daemon/export/event_log.hpp"
#include "daemon/output.hpp"
#include "daemon/pipeline.hpp"

namespace clinicwatch {

namespace {

std::atomic<bool> g_stop{false};

extern "C" void request_stop(int) {
    g_stop.store(true);
}

void install_stop_signals() {
    struct sigaction sa {};
    sa.sa_handler = request_stop;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, nullptr);
    sigaction(SIGTERM, &sa, nullptr);
}

std::string human_count(double v) {
    char buf[32];
    if (v >= 1e6)
        std::snprintf(buf, sizeof buf, "%.2f M", v / 1e6);
    else if (v >= 1e3)
        std::snprintf(buf, sizeof buf, "%.1f k", v / 1e3);
    else
        std::snprintf(buf, sizeof buf, "%.0f ", v);
    return buf;
}

void print_progress(const PipelineProgress& p) {
    std::fprintf(stderr, "\r  %12llu packets  %10spackets/s",
                 static_cast<unsigned long long>(p.packets),
                 human_count(p.packets_per_second).c_str());
    if (p.fraction_done >= 0) std::fprintf(stderr, "  %5.1f%% of input", p.fraction_done * 100.0);
    std::fprintf(stderr, "  %6zu devices", p.hosts);
    if (p.ring_drops)
        std::fprintf(stderr, "  ring drops %llu", static_cast<unsigned long long>(p.ring_drops));
    std::fprintf(stderr, "   ");
    std::fflush(stderr);
}

std::int64_t count_rows(Store& store, const char* sql) {
    return store.db().execAndGet(sql).getInt64();
}

void print_summary(Store& store, const PipelineResult& r, const std::string& db_path) {
    std::int64_t assets = count_rows(store, "SELECT count(*) FROM assets");
    std::int64_t alerts =
        count_rows(store, "SELECT count(*) FROM alerts WHERE status != 'resolved'");
    std::printf("\npackets      %llu (%llu bytes)\n", static_cast<unsigned long long>(r.packets),
                static_cast<unsigned long long>(r.bytes));
    std::printf("decoded      %llu\n", static_cast<unsigned long long>(r.packets - r.undecodable));
    std::printf("undecodable  %llu\n", static_cast<unsigned long long>(r.undecodable));
    std::printf("drops        %llu in the ring, %llu in the kernel\n",
                static_cast<unsigned long long>(r.ring_drops),
                static_cast<unsigned long long>(r.capture_drops));
    if (r.packets)
        std::printf("packet time  %s .. %s\n", format_time(r.first_packet).c_str(),
                    format_time(r.last_packet).c_str());
    std::printf("assets       %lld in the database\n", static_cast<long long>(assets));
    std::printf("alerts       %lld open\n", static_cast<long long>(alerts));
    std::printf("elapsed      %.2f s (%s packets/s)\n", r.elapsed_seconds,
                human_count(r.elapsed_seconds > 0 ? r.packets / r.elapsed_seconds : 0).c_str());
    std::printf("cpu          %.2f s analysis, %.2f s capture (threads)\n", r.analysis_cpu_seconds,
                r.capture_cpu_seconds);
    std::printf("database     %s\n", std::filesystem::absolute(db_path).c_str());
}

// A replay of the same files replaces the minute statistics the earlier replay stored instead
// of adding to them (the minutes are sums, so a second replay would double them).
void forget_earlier_replay_minutes(SQLite::Database& db, const std::string& identity) {
    if (identity.empty()) return;
    try {
        SQLite::Statement get(db, "SELECT value FROM meta WHERE key = ?");
        get.bind(1, identity);
        if (!get.executeStep()) return;
        long long first = 0, last = 0;
        if (std::sscanf(get.getColumn(0).getString().c_str(), "%lld %lld", &first, &last) != 2)
            return;
        SQLite::Statement del(db, "DELETE FROM minute_stats WHERE minute >= ? AND minute <= ?");
        del.bind(1, static_cast<std::int64_t>(first - first % (60 * kMicrosPerSecond)));
        del.bind(2, static_cast<std::int64_t>(last));
        int gone = del.exec();
        spdlog::info(
            "these files were replayed before: their {} minutes of statistics are "
            "replaced, not added to",
            gone);
    } catch (const SQLite::Exception& e) {
        spdlog::warn("could not check for an earlier replay of these files: {}", e.what());
    }
}

void remember_replay_minutes(SQLite::Database& db, const std::string& identity) {
    if (identity.empty()) return;
    try {
        SQLite::Statement run(db,
                              "SELECT first_packet, last_packet FROM runs WHERE mode = 'replay' "
                              "AND first_packet IS NOT NULL ORDER BY id DESC LIMIT 1");
        if (!run.executeStep()) return;
        SQLite::Statement set(db,
                              "INSERT INTO meta VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET "
                              "value = excluded.value");
        set.bind(1, identity);
        set.bind(2, std::to_string(run.getColumn(0).getInt64()) + " " +
                        std::to_string(run.getColumn(1).getInt64()));
        set.exec();
    } catch (const SQLite::Exception& e) {
        spdlog::warn("could not record this replay: {}", e.what());
    }
}

// Runs the pipeline and records the run; returns the exit code. A replay names its files'
// identity (replay_identity): its own records go on the run's database connection (opening the
// database again cost a checkpoint and its syncs each time, slow on a Raspberry Pi's SD card).
int run_pipeline(const Config& config, const std::string& db_path, PacketSource& source,
                 const std::string& mode, bool show_progress, RingFullPolicy policy,
                 const std::string& identity = {}) {
    // The rules and the vendor registry are read while the database opens (start-up is most of
    // a short replay's time). A configuration error is reported from get(), as before.
    auto prepared = std::async(std::launch::async,
                               [&config] { return prepare_config(config, ConfigUse::analysis); });
    auto events = open_event_log(config.export_events);
    Store store(db_path, StoreOptions{std::chrono::milliseconds(config.store.flush_interval_ms),
                                      2000, false, events.get()});
    forget_earlier_replay_minutes(store.db(), identity);
    RunRecord run;
    run.mode = mode;
    run.source = source.describe();
    run.id = store.begin_run(run);
    PipelineOptions options;
    options.ring_full = policy;
    // Analyzers need headers and the first payload bytes; a larger slot only costs memory.
    options.slot_bytes = static_cast<std::size_t>(std::min(config.capture.snaplen, 2048));
    if (show_progress) options.on_progress = print_progress;
    Pipeline pipeline(prepared.get(), store, options);
    install_stop_signals();
    PipelineResult result = pipeline.run(source, g_stop);
    if (show_progress) std::fputc('\n', stderr);

    run.first_packet = result.first_packet;
    run.last_packet = result.last_packet;
    run.packets = result.packets;
    run.bytes = result.bytes;
    run.undecodable = result.undecodable;
    run.capture_drops = result.capture_drops;
    run.ring_drops = result.ring_drops;
    int code = kExitOk;
    run.outcome = "ok";
    if (result.capture_error) {
        try {
            std::rethrow_exception(result.capture_error);
        } catch (const CaptureError& e) {
            run.outcome = std::string("error: ") + e.what();
            std::fprintf(stderr, "clinicwatch: %s\n", e.what());
            std::fprintf(stderr, "clinicwatch: the %llu packets read before the error are stored\n",
                         static_cast<unsigned long long>(result.packets));
            code = e.kind() == CaptureError::Kind::input_file ? kExitInput : kExitCapture;
        }
    }
    if (!result.store_error.empty()) {
        spdlog::error("the last findings could not be written: {}", result.store_error);
        code = kExitDatabase;
    }
    store.end_run(run);
    if (code == kExitOk) remember_replay_minutes(store.db(), identity);
    print_summary(store, result, db_path);
    return code;
}

}  // namespace

namespace {

// Which captures a replay read, by their content: a replay of the same files again (or of a
// copy or a renamed file) has the same identity. Size and the first and last 64 KiB, hashed
// (FNV-1a): enough to tell captures apart without reading gigabytes twice.
std::string replay_identity(const std::vector<std::string>& files) {
    std::uint64_t hash = 0xcbf29ce484222325ULL;
    auto mix = [&](const char* data, std::size_t n) {
        for (std::size_t i = 0; i < n; ++i) {
            hash ^= static_cast<unsigned char>(data[i]);
            hash *= 0x100000001b3ULL;
        }
    };
    constexpr std::uintmax_t kPart = 64 * 1024;
    std::vector<char> buffer(kPart);
    for (const auto& f : files) {
        std::error_code ec;
        std::uintmax_t size = std::filesystem::file_size(f, ec);
        std::ifstream in(f, std::ios::binary);
        if (ec || !in) return {};
        std::string size_text = std::to_string(size) + ";";
        mix(size_text.data(), size_text.size());
        for (std::uintmax_t offset : {std::uintmax_t{0}, size > kPart ? size - kPart : 0}) {
            in.seekg(static_cast<std::streamoff>(offset));
            in.read(buffer.data(), static_cast<std::streamsize>(std::min(kPart, size)));
            mix(buffer.data(), static_cast<std::size_t>(in.gcount()));
            in.clear();
        }
    }
    char id[40];
    std::snprintf(id, sizeof id, "replay.minutes:%016llx", static_cast<unsigned long long>(hash));
    return id;
}

}  // namespace

int command_replay(const CommonOptions& common, const ReplayOptions& options) {
    Config config = resolve_config(common);
    std::string db_path = resolve_db_path(common, config);
    auto source = open_capture_files(options.files);
    bool progress = options.progress && isatty(STDERR_FILENO);
    std::string identity = replay_identity(options.files);
    return run_pipeline(config, db_path, *source, "replay", progress, RingFullPolicy::wait,
                        identity);
}

}  // namespace clinicwatch
