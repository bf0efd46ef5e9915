#include "daemon/digest/digest.hpp"
#include "daemon/map/network_map.hpp"

#include <SQLiteCpp/SQLiteCpp.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <ctime>
#include <map>
#include <set>
#include <thread>

#include "analyzers/findings.hpp"
#include "daemon/digest/mime.hpp"
#include "daemon/incidents/describe.hpp"
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

namespace {

// Incidents that would be in a critical mail: critical ones, and those with a member of a kind
// listed in digest.critical_kinds that is still going on.
std::set<std::int64_t> critical_incident_ids(SQLite::Database& db, const Config& config) {
    std::set<std::int64_t> out;
    std::string sql =
        "SELECT id FROM incidents WHERE status != 'resolved' AND (severity >= 4 OR EXISTS "
        "(SELECT 1 FROM incident_alerts ia JOIN alerts a ON a.id = ia.alert_id WHERE "
        "ia.incident_id = incidents.id AND a.ended_at IS NULL AND a.kind IN (''";
    for (std::size_t i = 0; i < config.digest.critical_kinds.size(); ++i) sql += ",?";
    SQLite::Statement st(db, sql + ")))");
    for (std::size_t i = 0; i < config.digest.critical_kinds.size(); ++i)
        st.bind(static_cast<int>(i + 1), config.digest.critical_kinds[i]);
    while (st.executeStep()) out.insert(st.getColumn(0).getInt64());
    return out;
}

bool in_memory_critical(const StoredIncident& s, const Config& config) {
    (void)config;
    return s.incident.severity >= static_cast<int>(Severity::critical);
}

// The member alerts with their revisions, for the mail's bookkeeping.
nlohmann::json member_revisions(SQLite::Database& db, const std::vector<StoredIncident>& list) {
    auto out = nlohmann::json::array();
    std::set<std::int64_t> ids;
    for (const auto& s : list) ids.insert(s.incident.alerts.begin(), s.incident.alerts.end());
    SQLite::Statement st(db, "SELECT revision FROM alerts WHERE id = ?");
    for (auto id : ids) {
        st.bind(1, id);
        if (st.executeStep()) out.push_back({id, st.getColumn(0).getInt64()});
        st.reset();
    }
    return out;
}

// Wall time (seconds) of the last digest the mail server accepted; 0 when none.
std::int64_t last_accepted_digest(SQLite::Database& db) {
    SQLite::Statement st(
        db, "SELECT max(accepted_wall) FROM mails WHERE kind = 'digest' AND status = 'sent'");
    return st.executeStep() && !st.getColumn(0).isNull() ? st.getColumn(0).getInt64() : 0;
}

// Ranked for the reader: worse first; at equal severity an event before a standing condition;
// then the oldest first.
bool worse_first(const nlohmann::json& a, const nlohmann::json& b) {
    if (a["severity"] != b["severity"]) return a["severity"] > b["severity"];
    if (a["standing"] != b["standing"]) return !a["standing"].get<bool>();
    return a["first_seen_us"] < b["first_seen_us"];
}

// One line per standing condition group over all open device-conditions incidents; devices
// whose OS support is to be checked are counted beside the ended ones.
nlohmann::json standing_lines(const nlohmann::json& messages, const nlohmann::json& standing) {
    std::map<std::string, std::vector<std::string>> devices;  // condition kind -> names
    std::map<std::string, std::vector<std::string>> details;  // condition kind -> texts
    for (const auto& s : standing)
        for (const auto& c : s["conditions"]) {
            auto& list = devices[c["kind"].get<std::string>()];
            std::string name = s["device"].get<std::string>();
            if (std::find(list.begin(), list.end(), name) == list.end()) list.push_back(name);
            auto& texts = details[c["kind"].get<std::string>()];
            std::string t = c["text"].get<std::string>();
            if (std::find(texts.begin(), texts.end(), t) == texts.end()) texts.push_back(t);
        }
    const auto& d = messages["digest"];
    std::string sep = messages.value("list_separator", ", ");
    auto names = [&](const std::vector<std::string>& list) {
        std::string out;
        for (std::size_t i = 0; i < list.size() && i < 5; ++i) out += (i ? sep : "") + list[i];
        if (list.size() > 5)
            out += render_string(messages.value("and_more_devices", ""), {{"n", list.size() - 5}});
        return out;
    };
    auto lines = nlohmann::json::array();
    auto count = [&](const char* kind) { return devices.count(kind) ? devices[kind].size() : 0; };
    if (count("legacy-os"))
        lines.push_back({{"text", render_string(d.value("standing_past", ""),
                                                {{"count", count("legacy-os")},
                                                 {"check", count("os-support-check")},
                                                 {"names", names(devices["legacy-os"])}})}});
    if (count("os-support-check")) {
        std::string detail;
        for (std::size_t i = 0; i < details["os-support-check"].size() && i < 2; ++i)
            detail += (i ? " " : "") + details["os-support-check"][i];
        lines.push_back({{"text", render_string(d.value("standing_check", ""),
                                                {{"count", count("os-support-check")},
                                                 {"names", names(devices["os-support-check"])},
                                                 {"detail", detail}})}});
    }
    for (const char* kind : {"os-support-ending", "internet-explorer", "smb1-in-use", "legacy-tls",
                             "cleartext-login", "legacy-ssh", "ntlmv1"}) {
        if (!count(kind)) continue;
        lines.push_back(
            {{"text", render_string(d.value("standing_other", ""),
                                    {{"name", messages["condition_names"].value(kind, kind)},
                                     {"count", count(kind)},
                                     {"names", names(devices[kind])}})}});
    }
    return lines;
}

}  // namespace

std::optional<ComposedMail> compose_digest(SQLite::Database& db, const Config& config,
                                           std::int64_t now_wall) {
    Texts texts = texts_for(config);
    auto open = current_incidents(db, config, "status != 'resolved'");
    auto assets = load_assets(db, texts.messages, 0, now_wall * kMicrosPerSecond);
    DeviceNames names(texts.messages, assets);
    bool stored = has_incident_tables(db) && (open.empty() || open.front().id != 0);
    std::set<std::int64_t> critical_ids;
    if (stored) critical_ids = critical_incident_ids(db, config);
    std::vector<StoredIncident> reported;  // new or changed, plus open critical
    auto events = nlohmann::json::array(), standing = nlohmann::json::array(),
         ranked = nlohmann::json::array();
    for (const auto& s : open) {
        bool changed = s.revision > s.mailed_revision;
        bool critical = stored ? critical_ids.count(s.id) > 0 : in_memory_critical(s, config);
        auto d = describe_incident(s.incident, s.id, texts.messages, names);
        d["new"] = changed;
        if (d["standing"].get<bool>()) {
            standing.push_back(d);  // every open one: the standing lines say how things are
            if (changed) {
                reported.push_back(s);
                ranked.push_back(d);
            }
            continue;
        }
        if (!changed && !critical) continue;
        reported.push_back(s);
        events.push_back(d);
        ranked.push_back(d);
    }
    bool quiet = reported.empty();
    if (quiet && !config.digest.all_quiet_mail) return std::nullopt;

    std::sort(events.begin(), events.end(), worse_first);
    std::map<std::string, int> counts;
    for (std::size_t i = 0; i < events.size(); ++i) {
        events[i]["n"] = i + 1;
        ++counts[events[i]["bucket"].get<std::string>()];
    }
    // The first screen: at most five things to do, worst first, each pointing at its block.
    std::sort(ranked.begin(), ranked.end(), worse_first);
    auto first = nlohmann::json::array();
    for (const auto& d : ranked) {
        if (first.size() == 5) break;
        if (d["bucket"] == "info") continue;
        nlohmann::json line = d;
        line["n"] = first.size() + 1;
        first.push_back(line);
    }
    auto lines = standing_lines(texts.messages, standing);
    // Outages first (issue 22): 「本日 08:10～08:15、電子カルテサーバーが応答しませんでした…」.
    auto outages = nlohmann::json::array();
    for (const auto& d : events)
        if (!d.value("headline", "").empty()) outages.push_back(d);
    std::sort(outages.begin(), outages.end(), [](const auto& a, const auto& b) {
        return a["first_seen_us"].template get<std::int64_t>() <
               b["first_seen_us"].template get<std::int64_t>();
    });
    std::string today = local_date(now_wall);
    for (auto& o : outages) {
        std::string day = o["first_seen"].get<std::string>().substr(0, 10);
        std::string today_word = texts.messages.contains("health")
                                     ? texts.messages["health"].value("today", "")
                                     : std::string();
        o["day"] = day == today && !today_word.empty() ? today_word : day;
    }
    // Changes in the topology since the last digest (issue 18): a new switch, network, root.
    auto topology_lines = topology_changes(
        db, texts.messages,
        last_accepted_digest(db) ? last_accepted_digest(db) * kMicrosPerSecond
                                 : now_wall * kMicrosPerSecond - 86400 * kMicrosPerSecond);

    std::int64_t last_accepted = 0;
    {
        SQLite::Statement st(
            db, "SELECT max(accepted_wall) FROM mails WHERE kind = 'digest' AND status = 'sent'");
        if (st.executeStep() && !st.getColumn(0).isNull())
            last_accepted = st.getColumn(0).getInt64();
    }
    nlohmann::json model = {
        {"clinic", clinic_name(config)},
        {"date", local_date(now_wall)},
        {"generated", local_minute(now_wall * kMicrosPerSecond)},
        {"since", last_accepted ? local_minute(last_accepted * kMicrosPerSecond) : ""},
        {"has_since", last_accepted != 0},
        {"immediate", false},
        {"all_quiet", quiet},
        {"first", first},
        {"has_first", !first.empty()},
        {"outages", outages},
        {"has_outages", !outages.empty()},
        {"incidents", events},
        {"has_incidents", !events.empty()},
        {"incident_count", events.size()},
        {"critical_count", counts["critical"]},
        {"attention_count", counts["attention"]},
        {"info_count", counts["info"]},
        {"has_info", counts["info"] > 0},
        {"standing_lines", lines},
        {"topology_lines", topology_lines},
        {"has_topology", !topology_lines.empty()},
        {"topology_heading", texts.messages.contains("map")
                                 ? texts.messages["map"].value("digest_heading", "")
                                 : std::string()},
        {"standing", standing},
        {"has_standing", !standing.empty()},
        {"standing_devices", standing.size()},
        {"assets_total", assets.size()},
    };
    ComposedMail mail = render_mail(texts, config, model, quiet ? "subject_quiet" : "subject");
    mail.kind = "digest";
    mail.all_quiet = quiet;
    mail.alerts = member_revisions(db, reported);
    for (const auto& s : reported)
        if (s.id) mail.incidents.push_back({s.id, s.revision});
    return mail;
}

std::vector<ComposedMail> compose_critical(SQLite::Database& db, const Config& config,
                                           std::int64_t now_wall) {
    std::vector<ComposedMail> out;
    // Cheap checks first (this runs every few seconds in the daemon): is there any critical
    // alert not mailed at once yet? Only then correlate.
    {
        std::string sql =
            "SELECT count(*) FROM alerts WHERE status = 'open' AND immediate_mailed_wall IS "
            "NULL AND (severity >= 4";
        for (std::size_t i = 0; i < config.digest.critical_kinds.size(); ++i)
            sql += " OR (kind = ? AND ended_at IS NULL)";
        SQLite::Statement any(db, sql + ")");
        for (std::size_t i = 0; i < config.digest.critical_kinds.size(); ++i)
            any.bind(static_cast<int>(i + 1), config.digest.critical_kinds[i]);
        if (!any.executeStep() || any.getColumn(0).getInt64() == 0) return out;
    }
    if (!has_incident_tables(db)) return out;
    std::int64_t window = static_cast<std::int64_t>(config.digest.critical_rate_limit_minutes) * 60;
    auto rate_limited = [&](const std::string& kind) {
        SQLite::Statement recent(db,
                                 "SELECT count(*) FROM mails WHERE kind = 'critical' AND "
                                 "alert_kind = ? AND status != 'superseded' AND created_wall > ?");
        recent.bind(1, kind);
        recent.bind(2, now_wall - window);
        return recent.executeStep() && recent.getColumn(0).getInt64() > 0;
    };
    auto open = current_incidents(db, config, "status != 'resolved'");
    auto critical_ids = critical_incident_ids(db, config);
    // Incidents already waiting in a queued critical mail are not queued twice.
    std::set<std::int64_t> queued;
    {
        SQLite::Statement st(
            db, "SELECT incidents FROM mails WHERE kind = 'critical' AND status = 'pending'");
        while (st.executeStep())
            for (const auto& pair :
                 nlohmann::json::parse(st.getColumn(0).getString(), nullptr, false))
                if (pair.is_array() && !pair.empty()) queued.insert(pair[0].get<std::int64_t>());
    }
    std::map<std::string, std::vector<StoredIncident>> by_kind;
    for (const auto& s : open)
        if (critical_ids.count(s.id) && s.immediate_mailed_wall == 0 && !queued.count(s.id))
            by_kind[s.incident.kind].push_back(s);
    if (by_kind.empty()) return out;
    Texts texts = texts_for(config);
    auto assets = load_assets(db, texts.messages, 0, now_wall * kMicrosPerSecond);
    DeviceNames names(texts.messages, assets);
    for (auto& [kind, list] : by_kind) {
        if (rate_limited(kind)) continue;  // the digest will carry it
        auto described = nlohmann::json::array();
        std::map<std::string, int> counts;
        for (const auto& s : list) {
            auto d = describe_incident(s.incident, s.id, texts.messages, names);
            d["n"] = described.size() + 1;
            ++counts[d["bucket"].get<std::string>()];
            described.push_back(d);
        }
        std::sort(described.begin(), described.end(), worse_first);
        nlohmann::json model = {
            {"clinic", clinic_name(config)},
            {"date", local_date(now_wall)},
            {"generated", local_minute(now_wall * kMicrosPerSecond)},
            {"immediate", true},
            {"all_quiet", false},
            {"first", nlohmann::json::array()},
            {"has_first", false},
            {"incidents", described},
            {"has_incidents", true},
            {"incident_count", described.size()},
            {"critical_count", counts["critical"]},
            {"attention_count", counts["attention"]},
            {"info_count", counts["info"]},
            {"has_info", counts["info"] > 0},
            {"standing_lines", nlohmann::json::array()},
            {"has_standing", false},
            {"standing_devices", 0},
            {"count", described.size()},
            {"title", described[0]["title"]},
            {"rate_limit_minutes", config.digest.critical_rate_limit_minutes},
        };
        ComposedMail mail = render_mail(texts, config, model, "subject_critical");
        mail.kind = "critical";
        mail.alert_kind = kind;
        mail.alerts = member_revisions(db, list);
        for (const auto& s : list) mail.incidents.push_back({s.id, s.revision});
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
                           message, alerts, next_attempt_wall, incidents)
        VALUES (?,?,?,?,?,?,?,?,?,?))sql");
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
    st.bind(10, mail.incidents.dump());
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
        std::string incidents;
    };
    std::vector<Pending> found, due;
    {
        SQLite::Statement st(
            db_, only_id ? "SELECT id, attempts, kind, message, alerts, recipients, "
                           "next_attempt_wall, incidents FROM mails WHERE status = 'pending' "
                           "AND id = ?"
                         : "SELECT id, attempts, kind, message, alerts, recipients, "
                           "next_attempt_wall, incidents FROM mails WHERE status = 'pending' "
                           "AND next_attempt_wall <= ? ORDER BY id");
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
                      st.getColumn(6).getInt64(),
                      st.getColumn(7).getString()};
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
            // The digest marks the revision it reported (a later change shows in the next
            // digest); a critical mail marks the incident and its alerts as mailed at once.
            SQLite::Statement mark_incident(
                db_, p.kind == "digest"
                         ? "UPDATE incidents SET mailed_revision = max(mailed_revision, ?) "
                           "WHERE id = ?"
                         : "UPDATE incidents SET immediate_mailed_wall = ? WHERE id = ?");
            for (const auto& pair : nlohmann::json::parse(p.incidents, nullptr, false)) {
                if (!pair.is_array() || pair.size() != 2) continue;
                mark_incident.bind(1, p.kind == "digest" ? pair[1].get<std::int64_t>() : now_wall);
                mark_incident.bind(2, pair[0].get<std::int64_t>());
                mark_incident.exec();
                mark_incident.reset();
            }
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
