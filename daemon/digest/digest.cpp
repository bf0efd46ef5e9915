#include "daemon/digest/digest.hpp"

#include <SQLiteCpp/SQLiteCpp.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <ctime>
#include <map>
#include <set>
#include <thread>

#include "analyzers/findings.hpp"
#include "daemon/digest/mime.hpp"
#include "daemon/report/ledger.hpp"
#include "daemon/report/template.hpp"

namespace clinicwatch {

namespace {

struct Texts {
    std::filesystem::path dir;
    nlohmann::json messages;
};

Texts texts_for(const Config& config) {
    Texts t;
    t.dir = templates_dir(config);
    t.messages = load_messages(t.dir, config.digest.language);
    return t;
}

bool is_critical(const nlohmann::json& alert, const Config& config) {
    if (alert["critical"].get<bool>()) return true;
    const auto& kinds = config.digest.critical_kinds;
    // A listed kind counts while it is going on (a loop that has stopped can wait for the digest).
    return alert["ongoing"].get<bool>() &&
           std::find(kinds.begin(), kinds.end(), alert["kind"].get<std::string>()) != kinds.end();
}

std::string clinic_name(const Config& config) {
    return config.report.clinic_name;  // may be empty: the templates leave it out then
}

ComposedMail render_mail(const Texts& texts, const Config& config, nlohmann::json model,
                         const std::string& subject_template) {
    ComposedMail mail;
    const std::string& lang = config.digest.language;
    mail.subject = render_string(texts.messages["digest"].value(subject_template, ""), model);
    model["subject"] = mail.subject;
    mail.text = render_file(texts.dir, "digest." + lang + ".txt", model, Escape::none);
    mail.html = render_file(texts.dir, "digest." + lang + ".html", model, Escape::html);
    mail.model = std::move(model);
    return mail;
}

std::int64_t wall_now() {
    return static_cast<std::int64_t>(std::time(nullptr));
}

}  // namespace

std::string local_date(std::int64_t unix_seconds) {
    std::time_t t = static_cast<std::time_t>(unix_seconds);
    std::tm tm{};
    localtime_r(&t, &tm);
    char buf[16];
    std::strftime(buf, sizeof buf, "%Y-%m-%d", &tm);
    return buf;
}

std::int64_t retry_delay_seconds(int attempts) {
    if (attempts < 1) return 0;
    std::int64_t delay = 60;
    for (int i = 1; i < attempts && delay < 3600; ++i) delay *= 2;
    return std::min<std::int64_t>(delay, 3600);
}

std::optional<ComposedMail> compose_digest(SQLite::Database& db, const Config& config,
                                           std::int64_t now_wall) {
    Texts texts = texts_for(config);
    auto assets = load_assets(db, texts.messages, 0, now_wall * kMicrosPerSecond);
    auto devices = assets_by_mac(assets);
    auto changed = load_alerts(db, texts.messages, devices, "revision > mailed_revision");
    auto open = load_alerts(db, texts.messages, devices, "status = 'open'");
    auto critical_open = nlohmann::json::array();
    for (const auto& a : open) {
        bool already = std::any_of(changed.begin(), changed.end(),
                                   [&](const nlohmann::json& c) { return c["id"] == a["id"]; });
        if (!already && is_critical(a, config)) critical_open.push_back(a);
    }
    bool quiet = changed.empty() && critical_open.empty();
    if (quiet && !config.digest.all_quiet_mail) return std::nullopt;

    int highest = -1;
    for (const auto* list : {&changed, &critical_open})
        for (const auto& a : *list) highest = std::max(highest, a["severity"].get<int>());
    std::string highest_name =
        highest < 0 ? "" : std::string(to_string(static_cast<Severity>(highest)));

    std::int64_t last_accepted = 0;
    {
        SQLite::Statement st(
            db, "SELECT max(accepted_wall) FROM mails WHERE kind = 'digest' AND status = 'sent'");
        if (st.executeStep() && !st.getColumn(0).isNull())
            last_accepted = st.getColumn(0).getInt64();
    }
    nlohmann::json model = {
        {"clinic", clinic_name(config)},
        {"generated", local_minute(now_wall * kMicrosPerSecond)},
        {"since", last_accepted ? local_minute(last_accepted * kMicrosPerSecond) : ""},
        {"has_since", last_accepted != 0},
        {"immediate", false},
        {"all_quiet", quiet},
        {"new_alerts", changed},
        {"has_new", !changed.empty()},
        {"new_count", changed.size()},
        {"critical_alerts", critical_open},
        {"has_critical", !critical_open.empty()},
        {"critical_count", critical_open.size()},
        {"highest",
         highest_name.empty() ? "-" : texts.messages["severity"].value(highest_name, highest_name)},
        {"assets_total", assets.size()},
    };
    ComposedMail mail = render_mail(texts, config, model, quiet ? "subject_quiet" : "subject");
    mail.kind = "digest";
    mail.all_quiet = quiet;
    for (const auto* list : {&changed, &critical_open})
        for (const auto& a : *list) mail.alerts.push_back({a["id"], a["revision"]});
    return mail;
}

std::vector<ComposedMail> compose_critical(SQLite::Database& db, const Config& config,
                                           std::int64_t now_wall) {
    std::vector<ComposedMail> out;
    // Cheap checks first (this runs every few seconds in the daemon): which kinds have
    // candidates, and which of those are not rate-limited right now.
    std::int64_t window = static_cast<std::int64_t>(config.digest.critical_rate_limit_minutes) * 60;
    auto rate_limited = [&](const std::string& kind) {
        SQLite::Statement recent(db,
                                 "SELECT count(*) FROM mails WHERE kind = 'critical' AND "
                                 "alert_kind = ? AND status != 'superseded' AND created_wall > ?");
        recent.bind(1, kind);
        recent.bind(2, now_wall - window);
        return recent.executeStep() && recent.getColumn(0).getInt64() > 0;
    };
    std::string sql =
        "SELECT DISTINCT kind FROM alerts WHERE status = 'open' AND "
        "immediate_mailed_wall IS NULL AND (severity >= 4";
    for (std::size_t i = 0; i < config.digest.critical_kinds.size(); ++i) sql += " OR kind = ?";
    SQLite::Statement any(db, sql + ")");
    for (std::size_t i = 0; i < config.digest.critical_kinds.size(); ++i)
        any.bind(static_cast<int>(i + 1), config.digest.critical_kinds[i]);
    std::set<std::string> eligible_kinds;
    while (any.executeStep()) eligible_kinds.insert(any.getColumn(0).getString());
    for (auto it = eligible_kinds.begin(); it != eligible_kinds.end();)
        it = rate_limited(*it) ? eligible_kinds.erase(it) : std::next(it);
    if (eligible_kinds.empty()) return out;
    Texts texts = texts_for(config);
    auto assets = load_assets(db, texts.messages, 0, now_wall * kMicrosPerSecond);
    auto devices = assets_by_mac(assets);
    auto candidates = load_alerts(db, texts.messages, devices,
                                  "status = 'open' AND immediate_mailed_wall IS NULL");
    // Alerts already waiting in a queued critical mail are not queued twice.
    std::set<std::int64_t> queued;
    {
        SQLite::Statement st(
            db, "SELECT alerts FROM mails WHERE kind = 'critical' AND status = 'pending'");
        while (st.executeStep())
            for (const auto& pair :
                 nlohmann::json::parse(st.getColumn(0).getString(), nullptr, false))
                if (pair.is_array() && !pair.empty()) queued.insert(pair[0].get<std::int64_t>());
    }
    std::map<std::string, nlohmann::json> by_kind;
    for (const auto& a : candidates)
        if (is_critical(a, config) && !queued.count(a["id"].get<std::int64_t>()))
            by_kind[a["kind"].get<std::string>()].push_back(a);
    for (auto& [kind, alerts] : by_kind) {
        if (!eligible_kinds.count(kind)) continue;  // rate limit: the digest will carry it
        int highest = 0;
        for (const auto& a : alerts) highest = std::max(highest, a["severity"].get<int>());
        std::string highest_name(to_string(static_cast<Severity>(highest)));
        nlohmann::json model = {
            {"clinic", clinic_name(config)},
            {"generated", local_minute(now_wall * kMicrosPerSecond)},
            {"immediate", true},
            {"all_quiet", false},
            {"new_alerts", alerts},
            {"has_new", true},
            {"new_count", alerts.size()},
            {"critical_alerts", nlohmann::json::array()},
            {"has_critical", false},
            {"critical_count", alerts.size()},
            {"count", alerts.size()},
            {"title", describe_kind(texts.messages, kind)["title"]},
            {"highest", texts.messages["severity"].value(highest_name, highest_name)},
            {"rate_limit_minutes", config.digest.critical_rate_limit_minutes},
        };
        ComposedMail mail = render_mail(texts, config, model, "subject_critical");
        mail.kind = "critical";
        mail.alert_kind = kind;
        for (const auto& a : alerts) mail.alerts.push_back({a["id"], a["revision"]});
        out.push_back(std::move(mail));
    }
    return out;
}

std::int64_t MailOutbox::claim_seconds() const {
    return static_cast<std::int64_t>(config_.smtp.timeout_seconds) + 60;
}

std::int64_t MailOutbox::enqueue(const ComposedMail& mail, std::int64_t now_wall, bool claimed) {
    MailContent content;
    content.from = config_.smtp.from.empty() ? "clinicwatch@localhost" : config_.smtp.from;
    content.to = config_.smtp.to;
    content.subject = mail.subject;
    content.text = mail.text;
    content.html = mail.html;
    content.date = now_wall;
    content.message_id = make_message_id(now_wall, content.from);
    std::string message = build_message(content);
    SQLite::Statement st(db_, R"sql(
        INSERT INTO mails (kind, alert_kind, created_wall, message_id, subject, recipients,
                           message, alerts, next_attempt_wall)
        VALUES (?,?,?,?,?,?,?,?,?))sql");
    st.bind(1, mail.kind);
    if (mail.alert_kind.empty())
        st.bind(2);
    else
        st.bind(2, mail.alert_kind);
    st.bind(3, now_wall);
    st.bind(4, content.message_id);
    st.bind(5, mail.subject);
    st.bind(6, nlohmann::json(content.to).dump());
    st.bind(7, message.data(), static_cast<int>(message.size()));
    st.bind(8, mail.alerts.dump());
    st.bind(9, claimed ? now_wall + claim_seconds() : now_wall);
    st.exec();
    return db_.getLastInsertRowid();
}

void MailOutbox::supersede_pending_digests() {
    db_.exec("UPDATE mails SET status = 'superseded' WHERE kind = 'digest' AND status = 'pending'");
}

int MailOutbox::deliver(Mailer& mailer, std::int64_t now_wall,
                        std::optional<std::int64_t> only_id) {
    struct Pending {
        std::int64_t id;
        int attempts;
        std::string kind, message, alerts;
        std::vector<std::string> recipients;
        std::int64_t next_attempt = 0;
    };
    std::vector<Pending> found, due;
    {
        SQLite::Statement st(
            db_, only_id ? "SELECT id, attempts, kind, message, alerts, recipients, "
                           "next_attempt_wall FROM mails WHERE status = 'pending' AND id = ?"
                         : "SELECT id, attempts, kind, message, alerts, recipients, "
                           "next_attempt_wall FROM mails WHERE status = 'pending' AND "
                           "next_attempt_wall <= ? ORDER BY id");
        if (only_id)
            st.bind(1, *only_id);
        else
            st.bind(1, now_wall);
        while (st.executeStep()) {
            auto blob = st.getColumn(3);
            Pending p{st.getColumn(0).getInt64(),
                      st.getColumn(1).getInt(),
                      st.getColumn(2).getString(),
                      std::string(static_cast<const char*>(blob.getBlob()),
                                  static_cast<std::size_t>(blob.getBytes())),
                      st.getColumn(4).getString(),
                      {},
                      st.getColumn(6).getInt64()};
            for (const auto& r : nlohmann::json::parse(st.getColumn(5).getString(), nullptr, false))
                if (r.is_string()) p.recipients.push_back(r.get<std::string>());
            found.push_back(std::move(p));
        }
    }
    // Claim each (compare-and-set on next_attempt_wall) so that the daemon and a
    // `digest --send` running at the same moment never both send it; after a crash while
    // sending, the claim expires and the mail is retried.
    for (auto& p : found) {
        SQLite::Statement claim(db_,
                                "UPDATE mails SET next_attempt_wall = ? WHERE id = ? AND "
                                "status = 'pending' AND next_attempt_wall = ?");
        claim.bind(1, now_wall + claim_seconds());
        claim.bind(2, p.id);
        claim.bind(3, p.next_attempt);
        if (claim.exec() == 1) due.push_back(std::move(p));
    }
    int accepted = 0;
    for (std::size_t i = 0; i < due.size(); ++i) {
        const auto& p = due[i];
        bool tried = !mailer.stopping();
        SendResult result = !tried                 ? SendResult{false, "", true}
                            : p.recipients.empty() ? SendResult{false, "no recipients (smtp.to)"}
                                                   : mailer.send(p.recipients, p.message);
        if (result.interrupted) {
            // The daemon is stopping: not the server's failure, so no backoff. This mail and
            // those not tried yet give up their claim and are due at once at the next start.
            SQLite::Transaction tx(db_);
            if (tried) {
                SQLite::Statement attempt(db_,
                                          "INSERT INTO mail_attempts (mail_id, attempt_wall, "
                                          "accepted, detail) VALUES (?,?,0,?)");
                attempt.bind(1, p.id);
                attempt.bind(2, now_wall);
                attempt.bind(3, result.detail);
                attempt.exec();
            }
            SQLite::Statement release(db_,
                                      "UPDATE mails SET next_attempt_wall = ? WHERE id = ? AND "
                                      "status = 'pending'");
            for (std::size_t j = i; j < due.size(); ++j) {
                release.bind(1, due[j].next_attempt);
                release.bind(2, due[j].id);
                release.exec();
                release.reset();
            }
            tx.commit();
            if (tried)
                spdlog::warn("mail {} ({}) not sent: {}; it goes out at the next start", p.id,
                             p.kind, result.detail);
            break;
        }
        SQLite::Transaction tx(db_);
        SQLite::Statement attempt(db_,
                                  "INSERT INTO mail_attempts (mail_id, attempt_wall, accepted, "
                                  "detail) VALUES (?,?,?,?)");
        attempt.bind(1, p.id);
        attempt.bind(2, now_wall);
        attempt.bind(3, result.accepted ? 1 : 0);
        attempt.bind(4, result.detail);
        attempt.exec();
        if (result.accepted) {
            SQLite::Statement sent(db_,
                                   "UPDATE mails SET status = 'sent', attempts = attempts + 1, "
                                   "accepted_wall = ?, last_error = '' WHERE id = ?");
            sent.bind(1, now_wall);
            sent.bind(2, p.id);
            sent.exec();
            // The digest marks the revision it reported; a later change shows in the next one.
            // The digest marks the revision it reported (a later change shows in the next
            // digest); a critical mail marks the alert as mailed at once.
            SQLite::Statement mark(
                db_,
                p.kind == "digest"
                    ? "UPDATE alerts SET mailed_revision = max(mailed_revision, ?) WHERE id = ?"
                    : "UPDATE alerts SET immediate_mailed_wall = ? WHERE id = ?");
            for (const auto& pair : nlohmann::json::parse(p.alerts, nullptr, false)) {
                if (!pair.is_array() || pair.size() != 2) continue;
                if (p.kind == "digest")
                    mark.bind(1, pair[1].get<std::int64_t>());
                else
                    mark.bind(1, now_wall);
                mark.bind(2, pair[0].get<std::int64_t>());
                mark.exec();
                mark.reset();
            }
            ++accepted;
            spdlog::info("mail {} ({}) accepted by the mail server", p.id, p.kind);
        } else {
            std::int64_t next = now_wall + retry_delay_seconds(p.attempts + 1);
            SQLite::Statement failed(db_,
                                     "UPDATE mails SET attempts = attempts + 1, "
                                     "next_attempt_wall = ?, last_error = ? WHERE id = ?");
            failed.bind(1, next);
            failed.bind(2, result.detail);
            failed.bind(3, p.id);
            failed.exec();
            spdlog::warn("mail {} ({}) not sent: {}; next try in {} s", p.id, p.kind, result.detail,
                         next - now_wall);
        }
        tx.commit();
    }
    return accepted;
}

DigestService::DigestService(const std::string& db_path, Config config, MailerFactory make_mailer)
    : config_(std::move(config)), make_mailer_(std::move(make_mailer)) {
    db_ = std::make_unique<SQLite::Database>(db_path, SQLite::OPEN_READWRITE);
    db_->setBusyTimeout(10000);
    if (!make_mailer_) {
        make_mailer_ = [this]() -> std::unique_ptr<Mailer> {
            return std::make_unique<SmtpMailer>(config_.smtp, stop_);
        };
    }
}

DigestService::~DigestService() = default;

void DigestService::tick(std::int64_t now_wall) {
    MailOutbox outbox(*db_, config_);
    if (config_.digest.critical_immediate) {
        for (const auto& mail : compose_critical(*db_, config_, now_wall)) {
            outbox.enqueue(mail, now_wall);
            spdlog::info("critical mail queued: {}", mail.subject);
        }
    }
    std::time_t t = static_cast<std::time_t>(now_wall);
    std::tm tm{};
    localtime_r(&t, &tm);
    std::string today = local_date(now_wall);
    bool time_reached =
        tm.tm_hour * 60 + tm.tm_min >= config_.digest.hour * 60 + config_.digest.minute;
    std::string last;
    {
        SQLite::Statement st(*db_, "SELECT value FROM meta WHERE key = 'digest.last_scheduled'");
        if (st.executeStep()) last = st.getColumn(0).getString();
    }
    if (time_reached && last != today) {
        SQLite::Transaction tx(*db_);
        outbox.supersede_pending_digests();
        if (auto mail = compose_digest(*db_, config_, now_wall)) outbox.enqueue(*mail, now_wall);
        SQLite::Statement st(*db_,
                             "INSERT INTO meta VALUES ('digest.last_scheduled', ?) "
                             "ON CONFLICT (key) DO UPDATE SET value = excluded.value");
        st.bind(1, today);
        st.exec();
        tx.commit();
        spdlog::info("digest for {} queued", today);
    }
    auto pending = db_->execAndGet(
                          "SELECT count(*) FROM mails WHERE status = 'pending' AND "
                          "next_attempt_wall <= " +
                          std::to_string(now_wall))
                       .getInt64();
    if (pending == 0) return;
    std::unique_ptr<Mailer> mailer;
    try {
        mailer = make_mailer_();
    } catch (const MailError& e) {
        spdlog::error("cannot send mail: {}", e.what());
        return;
    }
    outbox.deliver(*mailer, now_wall);
}

void DigestService::request_reload(Config config) {
    std::lock_guard lock(reload_mutex_);
    pending_reload_ = std::move(config);
    reload_pending_.store(true);
}

void DigestService::apply_pending_reload() {
    std::optional<Config> next;
    {
        std::lock_guard lock(reload_mutex_);
        next.swap(pending_reload_);
        reload_pending_.store(false);
    }
    if (!next) return;
    if (next->digest.timezone != config_.digest.timezone) {
        spdlog::warn("reload: digest.timezone {} takes effect after a restart (still {})",
                     next->digest.timezone, config_.digest.timezone);
        next->digest.timezone = config_.digest.timezone;
    }
    config_ = std::move(*next);
    if (config_.smtp.url.empty())
        spdlog::info("reload: mail settings applied: no mail server (smtp.url), no mail is sent");
    else
        spdlog::info("reload: mail settings applied: {}, digest at {:02}:{:02}", config_.smtp.url,
                     config_.digest.hour, config_.digest.minute);
}

void DigestService::run(const std::atomic<bool>& stop, std::chrono::milliseconds period) {
    stop_ = &stop;  // the mailer gives up a send the server holds up once the daemon stops
    while (!stop.load()) {
        apply_pending_reload();
        try {
            if (!config_.smtp.url.empty()) tick(wall_now());
        } catch (const std::exception& e) {
            spdlog::error("digest: {}", e.what());
        }
        for (auto waited = std::chrono::milliseconds(0);
             waited < period && !stop.load() && !reload_pending_.load();
             waited += std::chrono::milliseconds(200))
            std::this_thread::sleep_for(std::chrono::milliseconds(200));
    }
}

}  // namespace clinicwatch
