#include "daemon/service.hpp"

#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/sinks/systemd_sink.h>
#include <spdlog/spdlog.h>
#include <systemd/sd-daemon.h>
#include <unistd.h>

#include <SQLiteCpp/SQLiteCpp.h>

#include <atomic>
#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <csignal>
#include <cstdlib>
#include <mutex>
#include <optional>
#include <thread>

#include "daemon/digest/digest.hpp"
#include "daemon/export/event_log.hpp"
#include "daemon/export/metrics.hpp"
#include "daemon/pipeline.hpp"
#include "daemon/prepared_config.hpp"
#include "daemon/privileges.hpp"
#include "daemon/report/report.hpp"

namespace clinicwatch {

void setup_logging(const std::string& level) {
    std::shared_ptr<spdlog::logger> logger;
    // systemd connects stderr to the journal and says so in JOURNAL_STREAM.
    if (std::getenv("JOURNAL_STREAM"))
        logger = std::make_shared<spdlog::logger>(
            "clinicwatch", std::make_shared<spdlog::sinks::systemd_sink_mt>("clinicwatch"));
    else
        logger = std::make_shared<spdlog::logger>(
            "clinicwatch", std::make_shared<spdlog::sinks::stderr_color_sink_mt>());
    logger->set_level(spdlog::level::from_str(level));
    logger->set_pattern("%Y-%m-%d %H:%M:%S %^%l%$ %v");
    spdlog::set_default_logger(logger);
}

namespace {

// From the first moment of `run` until the Boost.Asio signal set takes over (start-up done),
// SIGTERM/SIGINT and SIGHUP only set these flags: start-up checks them between its steps and
// inside the long ones (busy database, restoring state, the IEEE registry) and ends with exit
// 0, before anything is written; a SIGHUP is applied as a reload once start-up is done.
std::atomic<bool> stop_during_start_up{false};
std::atomic<bool> reload_during_start_up{false};
static_assert(std::atomic<bool>::is_always_lock_free, "set from a signal handler");

extern "C" void on_start_up_signal(int signal) {
    (signal == SIGHUP ? reload_during_start_up : stop_during_start_up).store(true);
}

void catch_signals_during_start_up() {
    struct sigaction action {};
    action.sa_handler = on_start_up_signal;
    sigemptyset(&action.sa_mask);
    action.sa_flags = SA_RESTART;
    for (int signal : {SIGINT, SIGTERM, SIGHUP}) sigaction(signal, &action, nullptr);
}

void give_up_if_stopping() {
    if (stop_during_start_up.load()) throw StartUpStopped();
}

struct Status {
    std::atomic<std::uint64_t> packets{0};
    std::atomic<std::uint64_t> ring_drops{0}, capture_drops{0};
    std::atomic<double> packets_per_second{0};
    std::atomic<std::size_t> hosts{0};
};

class Service {
  public:
    Service(Config config, std::string db_path, std::string config_path)
        : config_(std::move(config)),
          db_path_(std::move(db_path)),
          config_path_(std::move(config_path)),
          signals_(io_),  // the signals are added once start-up is done
          status_timer_(io_),
          watchdog_timer_(io_),
          metrics_timer_(io_) {}

    int run(const std::string& interface) {
        // A SIGTERM during start-up ends it wherever it is, with exit 0 and nothing half-written
        // (each step that writes is one transaction; a run row already begun is ended).
        try {
            return run_started(interface);
        } catch (...) {
            if (!stop_during_start_up.load()) throw;
            spdlog::info("signal during start-up: stopped before capturing");
            return kExitOk;
        }
    }

  private:
    int run_started(const std::string& interface) {
        // Rules, egress policy and register are built and checked before anything starts, as
        // check-config and a reload do (a fault: exit 3).
        PreparedConfig prepared = prepare_config(config_);
        give_up_if_stopping();
        LiveCaptureOptions live;
        live.interface = interface;
        live.snaplen = config_.capture.snaplen;
        live.buffer_mb = config_.capture.buffer_mb;
        live.bpf_filter = config_.capture.filter;
        live.before_reopen = raise_capture_capability;
        live.after_reopen = lower_capture_capability;
        auto source = open_live_capture(live);  // needs the privileges we are about to drop

        if (!config_.daemon.user.empty() && running_as_root()) {
            drop_privileges(config_.daemon.user);
            spdlog::info("running as user {} (capture capabilities kept, not effective)",
                         config_.daemon.user);
        } else if (running_as_root()) {
            spdlog::warn(
                "running as root: set daemon.user (or use the systemd unit) so the "
                "sensor does not analyse hostile traffic with full privileges");
        }
        give_up_if_stopping();

        auto events = open_event_log(config_.export_events);
        StoreOptions store_options{std::chrono::milliseconds(config_.store.flush_interval_ms), 2000,
                                   false, events.get()};
        store_options.give_up_when = &stop_during_start_up;
        Store store(db_path_, store_options);
        give_up_if_stopping();
        // The nightly digest and immediate critical mails run beside the capture, on their own
        // database connection; they send while a mail server is configured (a reload may set
        // one, or change it). Started once start-up is done.
        use_clinic_timezone(config_);
        struct DigestThread {  // stopped and joined however the run ends (even by an exception)
            std::atomic<bool> stop{false};
            std::unique_ptr<DigestService> service;
            std::thread thread;
            ~DigestThread() {
                stop.store(true);
                if (thread.joinable()) thread.join();
            }
        } digest;

        // Runs left running by a killed process are closed, with the episodes they left open
        // (one transaction: a SIGTERM meanwhile leaves all of it for the next start).
        RunRecord run;
        run.mode = "live";
        run.source = source->describe();
        run.id = store.begin_run(run);

        PipelineOptions options;
        options.ring_full = RingFullPolicy::drop;
        options.slot_bytes = static_cast<std::size_t>(std::min(config_.capture.snaplen, 2048));
        options.on_progress = [this](const PipelineProgress& p) {
            status_.packets = p.packets;
            status_.packets_per_second = p.packets_per_second;
            status_.ring_drops = p.ring_drops;
            status_.capture_drops = p.capture_drops;
            status_.hosts = p.hosts;
            if (metrics_) update_health(p);
        };
        options.start_up_stop = &stop_during_start_up;
        std::optional<Pipeline> pipeline_storage;
        try {
            pipeline_storage.emplace(std::move(prepared), store, options);
            give_up_if_stopping();
        } catch (...) {
            if (stop_during_start_up.load()) {
                store.end_start_up();  // the run's row is closed even while the file is busy
                run.outcome = "stopped during start-up";
                store.end_run(run);
            }
            throw;
        }
        Pipeline& pipeline = *pipeline_storage;

        // Start-up is done: from here on the signals go to the io_context (a SIGTERM that came
        // in between is seen in the flag right after).
        store.end_start_up();
        signals_.add(SIGINT);
        signals_.add(SIGTERM);
        signals_.add(SIGHUP);
        if (stop_during_start_up.load()) {
            spdlog::info("signal during start-up: stopping (nothing was captured yet)");
            stop_.store(true);
        }

        try {
            digest.service = std::make_unique<DigestService>(db_path_, config_);
            digest.thread = std::thread([&digest] {
                try {
                    digest.service->run(digest.stop);
                } catch (const std::exception& e) {
                    spdlog::error("digest stopped: {}", e.what());
                }
            });
            digest_ = digest.service.get();
        } catch (const std::exception& e) {
            spdlog::error("digest stopped: {}", e.what());
        }

        if (!config_.export_events.metrics_path.empty()) {
            metrics_ = std::make_unique<MetricsWriter>(
                MetricsOptions{config_.export_events.metrics_path, db_path_,
                               !config_.smtp.url.empty(), wall_seconds()});
        }
        pipeline_ = &pipeline;
        if (reload_during_start_up.exchange(false)) reload();

        PipelineResult result;
        std::string analysis_failure;
        std::thread analysis([&] {
            // No exception may leave a thread (std::terminate): it is logged, and the daemon
            // stops cleanly with exit code 1 (systemd restarts it).
            try {
                result = pipeline.run(*source, stop_);
            } catch (const std::exception& e) {
                analysis_failure = e.what();
            } catch (...) {
                analysis_failure = "unknown exception";
            }
            io_.stop();  // thread-safe; ends the main loop if the pipeline stopped on its own
        });

        wait_for_signal();
        schedule_status();
        schedule_watchdog();
        write_metrics();
        sd_notify(0, "READY=1\nSTATUS=capturing");
        spdlog::info("capturing on {} (snaplen {}, buffer {} MB), database {}", interface,
                     live.snaplen, live.buffer_mb, db_path_);
        io_.run();
        digest_ = nullptr;  // no more reloads
        stop_.store(true);
        digest.stop.store(true);  // winds down (a send in progress: see SmtpMailer) meanwhile
        analysis.join();
        pipeline_ = nullptr;
        write_metrics(false);  // the final counters; the file's age then shows the stop

        sd_notify(0, "STOPPING=1");
        run.first_packet = result.first_packet;
        run.last_packet = result.last_packet;
        run.packets = result.packets;
        run.bytes = result.bytes;
        run.undecodable = result.undecodable;
        run.capture_drops = result.capture_drops;
        run.ring_drops = result.ring_drops;
        run.outcome = "ok";
        int code = kExitOk;
        if (!analysis_failure.empty()) {
            spdlog::critical("analysis stopped: {}", analysis_failure);
            run.outcome = "error: analysis stopped: " + analysis_failure;
            code = kExitFailure;
        }
        if (result.capture_error) {
            try {
                std::rethrow_exception(result.capture_error);
            } catch (const std::exception& e) {
                run.outcome = std::string("error: ") + e.what();
                spdlog::error("capture failed: {}", e.what());
                code = kExitCapture;
            }
        }
        if (!result.store_error.empty()) {
            spdlog::error("the last findings could not be written: {}", result.store_error);
            code = kExitDatabase;
        }
        store.end_run(run);
        spdlog::info("stopped: {} packets, {} ring drops, {} kernel drops, {} devices",
                     result.packets, result.ring_drops, result.capture_drops, result.hosts);
        return code;
    }

    void wait_for_signal() {
        signals_.async_wait([this](const boost::system::error_code& ec, int signal) {
            if (ec) return;
            if (signal == SIGHUP) {
                reload();
                wait_for_signal();
                return;
            }
            spdlog::info("signal {}: stopping (draining the ring, flushing the store)", signal);
            sd_notify(0, "STOPPING=1");
            stop_.store(true);
            io_.stop();
        });
    }

    void reload() {
        if (config_path_.empty()) {
            spdlog::warn("SIGHUP: no configuration file to reload (started without one)");
            return;
        }
        // Everything is built and validated here, before anything is swapped: a fault anywhere
        // (YAML, rules, egress policy, register) leaves the old configuration running.
        try {
            PreparedConfig next = prepare_config(load_config(config_path_));
            sd_notify(0, "RELOADING=1");
            if (digest_) digest_->request_reload(next.config);
            if (pipeline_) pipeline_->request_reload(std::move(next));
            sd_notify(0, "READY=1");
        } catch (const ConfigError& e) {
            // Keep running with the old configuration: a typo must not stop the sensor.
            for (const auto& p : e.problems()) spdlog::error("reload refused: {}", p);
            spdlog::error("reload refused: still running with the configuration loaded before");
        } catch (const std::exception& e) {
            spdlog::error("reload refused: {}; still running with the configuration loaded before",
                          e.what());
        }
    }

    void schedule_status() {
        status_timer_.expires_after(std::chrono::seconds(10));
        status_timer_.async_wait([this](const boost::system::error_code& ec) {
            if (ec) return;
            char line[200];
            std::snprintf(line, sizeof line,
                          "STATUS=%.0f packets/s, %llu packets, %zu devices, drops: %llu ring, "
                          "%llu kernel",
                          status_.packets_per_second.load(),
                          static_cast<unsigned long long>(status_.packets.load()),
                          status_.hosts.load(),
                          static_cast<unsigned long long>(status_.ring_drops.load()),
                          static_cast<unsigned long long>(status_.capture_drops.load()));
            sd_notify(0, line);
            spdlog::debug("{}", line + 7);
            schedule_status();
        });
    }

    static double wall_seconds() {
        return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch())
            .count();
    }

    // Called on the analysis thread about 4 times a second.
    void update_health(const PipelineProgress& p) {
        std::lock_guard lock(health_mutex_);
        health_.captured_packets = p.captured_packets;
        health_.captured_bytes = p.captured_bytes;
        health_.analysed_packets = p.packets;
        health_.analysed_bytes = p.bytes;
        health_.kernel_drops = p.capture_drops;
        health_.interface_drops = p.interface_drops;
        health_.ring_drops = p.ring_drops;
        health_.undecodable = p.undecodable;
        health_.devices = p.hosts;
        health_.store_queued = p.store_queued;
        health_.store_write_errors = p.store_write_errors;
        health_.tables = p.tables;
    }

    // Writes the metrics textfile now and, while `again`, every export.metrics_interval_seconds.
    void write_metrics(bool again = true) {
        if (!metrics_) return;
        SensorHealth health;
        {
            std::lock_guard lock(health_mutex_);
            health = health_;
        }
        try {
            metrics_->write(health, wall_seconds());
            metrics_error_logged_ = false;
        } catch (const std::exception& e) {
            if (!metrics_error_logged_) spdlog::error("metrics: {}", e.what());
            metrics_error_logged_ = true;  // once until it works again, not every 15 s
        }
        if (!again) return;
        metrics_timer_.expires_after(
            std::chrono::seconds(config_.export_events.metrics_interval_seconds));
        metrics_timer_.async_wait([this](const boost::system::error_code& ec) {
            if (!ec) write_metrics();
        });
    }

    void schedule_watchdog() {
        std::uint64_t usec = 0;
        if (sd_watchdog_enabled(0, &usec) <= 0 || usec == 0) return;
        watchdog_timer_.expires_after(std::chrono::microseconds(usec / 2));
        watchdog_timer_.async_wait([this](const boost::system::error_code& ec) {
            if (ec) return;
            // Only vouch for the sensor while the analysis thread is making progress.
            std::uint64_t beat = pipeline_ ? pipeline_->heartbeat() : 0;
            if (beat != last_heartbeat_)
                sd_notify(0, "WATCHDOG=1");
            else
                spdlog::warn("analysis thread made no progress since the last watchdog ping");
            last_heartbeat_ = beat;
            schedule_watchdog();
        });
    }

    Config config_;
    std::string db_path_, config_path_;
    boost::asio::io_context io_;
    boost::asio::signal_set signals_;
    boost::asio::steady_timer status_timer_, watchdog_timer_, metrics_timer_;
    std::unique_ptr<MetricsWriter> metrics_;
    std::mutex health_mutex_;
    SensorHealth health_;
    bool metrics_error_logged_ = false;
    std::atomic<bool> stop_{false};
    Pipeline* pipeline_ = nullptr;
    DigestService* digest_ = nullptr;
    Status status_;
    std::uint64_t last_heartbeat_ = ~0ULL;
};

}  // namespace

int run_service(const CommonOptions& common, const RunOptions& options) {
    catch_signals_during_start_up();
    Config config = resolve_config(common);
    setup_logging(config.logging.level);
    if (!options.user.empty()) config.daemon.user = options.user;
    std::string interface =
        options.interface.empty() ? config.capture.interface : options.interface;
    if (interface.empty()) {
        spdlog::error("no capture interface: set capture.interface in {} or give --interface",
                      config.source);
        return kExitConfig;
    }
    config.capture.interface = interface;
    std::string config_path = common.config_path;
    if (config_path.empty() && config.source != "(built-in defaults)") config_path = config.source;
    if (stop_during_start_up.load()) {
        spdlog::info("signal during start-up: stopped before capturing (nothing written)");
        return kExitOk;
    }
    Service service(config, resolve_db_path(common, config), config_path);
    return service.run(interface);
}

}  // namespace clinicwatch
