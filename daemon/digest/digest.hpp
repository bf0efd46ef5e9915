// The nightly digest and the immediate critical mails: what goes in them (compose_*), the
// outbox that keeps every message in the database until the mail server accepted it
// (MailOutbox), and the timer that drives both inside the daemon (DigestService).
//
// Exactly-once: a message is stored (pending) before the first attempt and re-sent as the same
// bytes with the same Message-ID until a server accepts it; only then, in one transaction, is
// it marked sent and its alerts marked as mailed. A crash before acceptance re-sends it after
// restart; the only window for a duplicate is a crash between the server's "250 OK" and that
// commit (milliseconds), and then the duplicate carries the same Message-ID.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "daemon/config.hpp"
#include "daemon/digest/smtp.hpp"

namespace SQLite {
class Database;
}

namespace clinicwatch {

struct ComposedMail {
    std::string kind;        // "digest" or "critical"
    std::string alert_kind;  // critical mails: the incident kind (the rate limit is per kind)
    std::string subject, text, html;
    nlohmann::json alerts = nlohmann::json::array();     // [[alert id, revision], ...]
    nlohmann::json incidents = nlohmann::json::array();  // [[incident id, revision], ...]
    bool all_quiet = false;
    nlohmann::json model;  // what the templates saw (for --dry-run --json and tests)
};

// The next digest: incidents opened or changed since the last accepted digest, plus open
// critical ones, and one line per standing-condition group. Correlates first when `db` can be
// written. Nothing when there is nothing new and digest.all_quiet_mail is off.
std::optional<ComposedMail> compose_digest(SQLite::Database& db, const Config& config,
                                           std::int64_t now_wall);

// One immediate mail per incident kind for critical incidents not yet mailed at once, leaving
// out kinds mailed (or queued) within digest.critical_rate_limit_minutes.
std::vector<ComposedMail> compose_critical(SQLite::Database& db, const Config& config,
                                           std::int64_t now_wall);

// Seconds to wait after the n-th failed attempt: 1, 2, 4 ... minutes, at most an hour.
std::int64_t retry_delay_seconds(int attempts);

class MailOutbox {
  public:
    MailOutbox(SQLite::Database& db, const Config& config) : db_(db), config_(config) {}

    // Stores the finished message as pending; returns its id. `claimed`: the caller sends it
    // right away with deliver(only_id), so the daemon must not pick it up meanwhile.
    std::int64_t enqueue(const ComposedMail& mail, std::int64_t now_wall, bool claimed = false);
    // Pending digests that were never accepted are replaced by a fresh one (their alerts are
    // still unmailed, so the new digest covers them).
    void supersede_pending_digests();
    // Tries every pending mail that is due (or only `only_id`, due or not). Returns how many
    // the server accepted. When the mailer says the daemon is stopping, the rest are left
    // pending and due, with no backoff.
    int deliver(Mailer& mailer, std::int64_t now_wall, std::optional<std::int64_t> only_id = {});

  private:
    std::int64_t claim_seconds() const;  // how long a send in progress keeps a mail to itself

    SQLite::Database& db_;
    const Config& config_;
};

class DigestService {
  public:
    using MailerFactory = std::function<std::unique_ptr<Mailer>()>;
    // Opens its own connection to the database (the pipeline writes through another).
    DigestService(const std::string& db_path, Config config, MailerFactory make_mailer = {});
    ~DigestService();

    // One step at wall time `now`: queue critical mails, queue the nightly digest when its
    // time has come today, deliver what is due.
    void tick(std::int64_t now_wall);
    // Ticks every `period` until `stop`, while smtp.url is set; errors are logged, never fatal
    // to the capture. Once `stop` is set, a send the mail server holds up is abandoned after a
    // short grace and the mail stays queued, due at once at the next start (see SmtpMailer).
    void run(const std::atomic<bool>& stop,
             std::chrono::milliseconds period = std::chrono::seconds(20));
    // From any thread (SIGHUP): run() uses `config` from its next step on. digest.timezone
    // stays as it was: the process's time zone is set once, at start.
    void request_reload(Config config);

  private:
    void apply_pending_reload();

    std::unique_ptr<SQLite::Database> db_;
    Config config_;
    MailerFactory make_mailer_;
    const std::atomic<bool>* stop_ = nullptr;  // run()'s, for the default mailer
    std::mutex reload_mutex_;
    std::optional<Config> pending_reload_;
    std::atomic<bool> reload_pending_{false};
};

// "2026-11-24" in the process's local time zone.
std::string local_date(std::int64_t unix_seconds);

}  // namespace clinicwatch
