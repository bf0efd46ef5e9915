// The digest end to end with a real SMTP server on loopback (python3-aiosmtpd, STARTTLS
// required, AUTH): headers, encodings and both parts; retries while the server is down; exactly
// one delivery across a restart; immediate critical mails and their rate limit.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <fstream>
#include <set>

#include "daemon/digest/digest.hpp"
#include "daemon/digest/mime.hpp"
#include "daemon/digest/smtp.hpp"
#include "tests/daemon/clinic_fixture.hpp"

using namespace clinicwatch;
using namespace clinicwatch::test;

namespace {

// Now, or three hours earlier late in the evening: the tests tick up to about an hour ahead
// and expect the same local day (the test config makes the digest due from midnight).
std::int64_t same_day_now() {
    std::int64_t now = std::time(nullptr);
    std::time_t t = static_cast<std::time_t>(now);
    std::tm local{};
    localtime_r(&t, &local);
    return local.tm_hour >= 22 ? now - 3 * 3600 : now;
}

class DigestTest : public ::testing::Test {
  protected:
    void SetUp() override {
        if (!have_aiosmtpd()) GTEST_SKIP() << "python3-aiosmtpd is not installed (Debian package)";
        if (run_command("command -v openssl") != 0) GTEST_SKIP() << "openssl is not installed";
        ::setenv("TZ", "Asia/Tokyo", 1);
        ::tzset();
        ::setenv("CLINICWATCH_TEMPLATES", CLINICWATCH_SOURCE_DIR "/daemon/report/templates", 1);
        port_ = free_port();
        sink_ = std::make_unique<SmtpSink>(dir_ / "smtp", port_);
        fill_clinic_db(db(), true);
        std::ofstream(dir_ / "password") << "s3cret\n";
        ::chmod((dir_ / "password").c_str(), 0600);
        config_.report.clinic_name = "さくら内科クリニック";
        config_.digest.hour = 0;  // due as soon as the day starts: tests run at any hour
        config_.digest.minute = 0;
        config_.smtp.url = "smtp://127.0.0.1:" + std::to_string(port_);
        config_.smtp.from = "sensor@sakura-clinic.example";
        config_.smtp.to = {"it@sakura-clinic.example", "vendor@net-yamada.example"};
        config_.smtp.username = "clinic";
        config_.smtp.password_file = (dir_ / "password").string();
        config_.smtp.ca_file = sink_->cert().string();
        config_.smtp.timeout_seconds = 10;
    }
    std::string db() const { return (dir_ / "c.db").string(); }
    std::int64_t count(const std::string& sql) {
        SQLite::Database d(db(), SQLite::OPEN_READONLY);
        return d.execAndGet(sql).getInt64();
    }

    TempDir dir_;
    int port_ = 0;
    std::unique_ptr<SmtpSink> sink_;
    Config config_;
};

}  // namespace

TEST_F(DigestTest, ServerReceivesDigestWithEncodedHeadersAndBothParts) {
    sink_->start();
    ASSERT_TRUE(sink_->ready());
    DigestService service(db(), config_);
    std::int64_t now = same_day_now();
    service.tick(now);
    auto mails = sink_->messages();
    // The loop (critical) also goes out at once, as its own mail; then the digest.
    ASSERT_EQ(mails.size(), 2u);
    nlohmann::json digest;
    for (const auto& m : mails) {
        auto j = read_mail(m);
        ASSERT_TRUE(j.is_object());
        if (j["subject"].get<std::string>().find("緊急 - ") == std::string::npos) digest = j;
    }
    ASSERT_TRUE(digest.is_object());
    EXPECT_EQ(digest["tls"], "yes");  // STARTTLS happened
    EXPECT_TRUE(
        digest["subject_raw_ascii"].get<bool>());  // RFC 2047: headers are ASCII on the wire
    // The truth in a few words: the loop (critical), the remote access and the unregistered
    // device (action needed), the undescribed kind (for information), one old PC.
    EXPECT_EQ(digest["subject"], "[clinicwatch] さくら内科クリニック " + local_date(now) +
                                     ": 緊急 1件・要対応 2件・参考 1件・古いOS等 1台");
    EXPECT_TRUE(digest["date_parsed"].get<bool>());
    EXPECT_NE(digest["date"].get<std::string>().find("+0900"), std::string::npos);
    EXPECT_NE(digest["message_id"].get<std::string>().find("@sakura-clinic.example>"),
              std::string::npos);
    EXPECT_EQ(digest["content_type"], "multipart/alternative");
    EXPECT_TRUE(digest["defects"].empty()) << digest["defects"].dump();
    EXPECT_EQ(digest["charsets"]["text/plain"], "utf-8");
    EXPECT_EQ(digest["charsets"]["text/html"], "utf-8");
    std::string text = digest["parts"]["text/plain"], html = digest["parts"]["text/html"];
    for (const std::string* part : {&text, &html}) {
        EXPECT_NE(part->find("まず対応すること"), std::string::npos);
        EXPECT_NE(part->find("受付PC（レセコン端末）"), std::string::npos);  // device name
        EXPECT_NE(part->find("連絡先: レセコン業者（オルカ販売）"),
                  std::string::npos);  // whom to call: the register's responsible party
        EXPECT_NE(part->find("サポート終了OS: 1台: 受付PC（レセコン端末）"),
                  std::string::npos);  // the standing-condition line
        EXPECT_NE(part->find("ネットワーク保守業者"), std::string::npos);
        EXPECT_NE(part->find("その他の通知（quantum-tunnel）"), std::string::npos);
        EXPECT_EQ(part->find("00:1b:21:aa:bb:01"), std::string::npos);  // named, not a MAC
    }
    EXPECT_EQ(text.find("&lt;"), std::string::npos);  // text is not HTML-escaped
    EXPECT_NE(text.find("unknown<b>&\"x\""), std::string::npos);
    EXPECT_NE(html.find("unknown&lt;b&gt;&amp;&quot;x&quot;"), std::string::npos);
    // Bookkeeping: every alert marked with the revision reported, one attempt per mail.
    EXPECT_EQ(count("SELECT count(*) FROM alerts WHERE mailed_revision != revision"), 0);
    EXPECT_EQ(count("SELECT count(*) FROM incidents WHERE mailed_revision != revision"), 0);
    EXPECT_EQ(count("SELECT count(*) FROM incidents WHERE kind = 'l2-loop' AND "
                    "immediate_mailed_wall IS NOT NULL"),
              1);
    EXPECT_EQ(count("SELECT count(*) FROM mails WHERE status = 'sent'"), 2);
    EXPECT_EQ(count("SELECT count(*) FROM mail_attempts WHERE accepted = 1"), 2);
    // Ticking again the same day sends nothing more.
    service.tick(now + 60);
    EXPECT_EQ(sink_->messages().size(), 2u);
}

TEST_F(DigestTest, ServerDownIsRetriedAndSentExactlyOnceAcrossRestart) {
    config_.digest.critical_immediate = false;
    std::int64_t t0 = same_day_now();
    {
        DigestService service(db(), config_);
        service.tick(t0);  // no server yet: the attempt fails and is recorded
    }
    EXPECT_EQ(count("SELECT attempts FROM mails WHERE kind = 'digest'"), 1);
    EXPECT_EQ(count("SELECT count(*) FROM mail_attempts WHERE accepted = 0"), 1);
    EXPECT_EQ(count("SELECT count(*) FROM alerts WHERE mailed_revision > 0"), 0);  // not mailed yet
    sink_->start();
    ASSERT_TRUE(sink_->ready());
    DigestService restarted(db(), config_);  // a restart in between
    restarted.tick(t0 + 30);                 // inside the backoff: no attempt
    EXPECT_EQ(count("SELECT attempts FROM mails WHERE kind = 'digest'"), 1);
    EXPECT_TRUE(sink_->messages().empty());
    restarted.tick(t0 + 61);  // backoff over: sent
    ASSERT_EQ(sink_->messages().size(), 1u);
    EXPECT_EQ(count("SELECT count(*) FROM mails WHERE status = 'sent'"), 1);
    EXPECT_EQ(count("SELECT attempts FROM mails WHERE kind = 'digest'"), 2);
    // Another restart and more ticks the same day: nothing is sent twice.
    DigestService again(db(), config_);
    again.tick(t0 + 200);
    again.tick(t0 + 4000);
    EXPECT_EQ(sink_->messages().size(), 1u);
    EXPECT_EQ(count("SELECT count(*) FROM mails"), 1);
}

TEST_F(DigestTest, BackoffGrowsAndIsCapped) {
    EXPECT_EQ(retry_delay_seconds(1), 60);
    EXPECT_EQ(retry_delay_seconds(2), 120);
    EXPECT_EQ(retry_delay_seconds(3), 240);
    EXPECT_EQ(retry_delay_seconds(20), 3600);
}

TEST_F(DigestTest, NextDigestHasOnlyChangesPlusOpenCritical) {
    config_.digest.critical_immediate = false;
    sink_->start();
    std::int64_t t0 = same_day_now();
    DigestService(db(), config_).tick(t0);
    ASSERT_EQ(sink_->messages().size(), 1u);
    // One alert changes (the store bumps the revision); an open critical one appears.
    {
        SQLite::Database d(db(), SQLite::OPEN_READWRITE);
        d.exec(
            "UPDATE alerts SET revision = revision + 1, count = count + 1 WHERE kind = "
            "'remote-access'");
        d.exec(
            "INSERT INTO alerts (key, kind, severity, subject, summary, first_seen, last_seen, "
            "mailed_revision) VALUES ('gw:1', 'gateway-mac-change', 4, '192.168.100.1', "
            "'gateway MAC changed', 1, 2, 1)");
    }
    auto d = SQLite::Database(db(), SQLite::OPEN_READWRITE);
    auto next = compose_digest(d, config_, t0 + 86400);
    ASSERT_TRUE(next.has_value());
    // Changed: the remote access. Still open and critical: the new gateway takeover, and the
    // loop nobody acknowledged yet. Not the unchanged unregistered device or the old PC.
    std::set<std::string> kinds;
    for (const auto& i : next->model["incidents"]) kinds.insert(i["kind"].get<std::string>());
    EXPECT_EQ(kinds, (std::set<std::string>{"gateway-takeover", "l2-loop", "remote-access"}));
    EXPECT_EQ(next->model["critical_count"], 2);
    EXPECT_EQ(next->model["attention_count"], 1);
    EXPECT_NE(next->text.find("ルーターのアドレスの乗っ取り"), std::string::npos);
    EXPECT_NE(next->subject.find("緊急 2件・要対応 1件"), std::string::npos) << next->subject;
}

TEST_F(DigestTest, AllQuietMailCanBeSwitchedOff) {
    {
        SQLite::Database d(db(), SQLite::OPEN_READWRITE);
        d.exec("UPDATE alerts SET mailed_revision = revision, status = 'resolved'");
    }
    SQLite::Database d(db(), SQLite::OPEN_READONLY);
    auto quiet = compose_digest(d, config_, std::time(nullptr));
    ASSERT_TRUE(quiet.has_value());
    EXPECT_TRUE(quiet->all_quiet);
    EXPECT_EQ(quiet->subject, "[clinicwatch] さくら内科クリニック " +
                                  local_date(std::time(nullptr)) + ": 異常なし");
    config_.digest.all_quiet_mail = false;
    EXPECT_FALSE(compose_digest(d, config_, std::time(nullptr)).has_value());
}

TEST_F(DigestTest, CriticalMailsAreRateLimitedPerKind) {
    sink_->start();
    std::int64_t t0 = same_day_now();
    {
        SQLite::Database d(db(), SQLite::OPEN_READWRITE);
        d.exec("UPDATE alerts SET severity = 1 WHERE kind != 'l2-loop'");
    }
    DigestService service(db(), config_);
    service.tick(t0);
    EXPECT_EQ(count("SELECT count(*) FROM mails WHERE kind = 'critical' AND status = 'sent'"), 1);
    // A second loop ten minutes later: inside the hour, so no second immediate mail.
    {
        SQLite::Database d(db(), SQLite::OPEN_READWRITE);
        d.exec(
            "INSERT INTO alerts (key, kind, severity, subject, summary, first_seen, last_seen) "
            "VALUES ('l2-loop:2', 'l2-loop', 4, 'LAN', 'second loop', 1, 2)");
    }
    service.tick(t0 + 600);
    EXPECT_EQ(count("SELECT count(*) FROM mails WHERE kind = 'critical'"), 1);
    // After the hour it goes out.
    service.tick(t0 + 3700);
    EXPECT_EQ(count("SELECT count(*) FROM mails WHERE kind = 'critical' AND status = 'sent'"), 2);
    EXPECT_EQ(
        count(
            "SELECT count(*) FROM alerts WHERE kind = 'l2-loop' AND immediate_mailed_wall IS NULL"),
        0);
}

TEST_F(DigestTest, CliSendAndDryRun) {
    std::string yaml =
        "report: {clinic_name: さくら内科クリニック}\n"
        "digest: {language: en}\n"
        "smtp:\n  url: " +
        config_.smtp.url +
        "\n  from: sensor@sakura-clinic.example\n  to: [it@sakura-clinic.example]"
        "\n  username: clinic\n  password_file: " +
        config_.smtp.password_file + "\n  ca_file: " + config_.smtp.ca_file +
        "\n  timeout_seconds: 10\n";
    std::ofstream(dir_ / "c.yaml") << yaml;
    std::string base = std::string("CLINICWATCH_TEMPLATES=") + CLINICWATCH_SOURCE_DIR +
                       "/daemon/report/templates " + CLINICWATCH_BINARY + " digest --db " + db() +
                       " --config " + (dir_ / "c.yaml").string();
    std::string out;
    ASSERT_EQ(run_command(base + " --dry-run", &out), 0) << out;
    EXPECT_NE(out.find(": 1 critical, 2 action needed, 1 for information, 1 devices with old "
                       "OS or settings"),
              std::string::npos)
        << out;
    EXPECT_NE(out.find("Whom to call:"), std::string::npos);
    EXPECT_TRUE(sink_->messages().empty());
    // Server down: exit 7, queued.
    EXPECT_EQ(run_command(base + " --send", &out), 7) << out;
    sink_->start();
    ASSERT_EQ(run_command(base + " --send", &out), 0) << out;
    ASSERT_EQ(sink_->messages().size(), 1u);
    auto mail = read_mail(sink_->messages()[0]);
    EXPECT_NE(mail["parts"]["text/plain"].get<std::string>().find("Device not in the register"),
              std::string::npos);
    EXPECT_EQ(count("SELECT count(*) FROM mails WHERE status = 'superseded'"), 1);
    // A password file others can read is refused with a clear message.
    ::chmod(config_.smtp.password_file.c_str(), 0644);
    EXPECT_EQ(run_command(base + " --send", &out), 3);
    EXPECT_NE(out.find("chmod 600"), std::string::npos) << out;
}

TEST(Mime, SubjectIsSplitOnCharacterBoundaries) {
    std::string subject;
    for (int i = 0; i < 40; ++i) subject += "緊急";
    std::string encoded = encode_header_text(subject);
    std::size_t start = 0;
    while (start < encoded.size()) {
        std::size_t end = encoded.find("\r\n ", start);
        std::string word =
            encoded.substr(start, end == std::string::npos ? std::string::npos : end - start);
        EXPECT_LE(word.size(), 75u);
        EXPECT_EQ(word.rfind("=?UTF-8?B?", 0), 0u);
        start = end == std::string::npos ? encoded.size() : end + 3;
    }
    EXPECT_EQ(encode_header_text("plain ascii"), "plain ascii");
    EXPECT_EQ(base64_encode("ab"), "YWI=");
    EXPECT_EQ(base64_encode("abc"), "YWJj");
    EXPECT_EQ(base64_encode("a"), "YQ==");
}

TEST(SmtpConfig, PasswordFileMustBeOwnerOnly) {
    TempDir dir;
    auto p = dir / "pw";
    std::ofstream(p) << "secret\n";
    ::chmod(p.c_str(), 0640);
    try {
        read_password_file(p.string());
        FAIL() << "a group-readable password file was accepted";
    } catch (const MailError& e) {
        EXPECT_NE(std::string(e.what()).find("chmod 600"), std::string::npos);
    }
    ::chmod(p.c_str(), 0600);
    EXPECT_EQ(read_password_file(p.string()), "secret");
}

TEST(SmtpConfig, SectionsAreValidated) {
    Config c = parse_config(R"(
digest:
  time: "06:45"
  timezone: Asia/Tokyo
  language: en
  all_quiet_mail: false
  critical_rate_limit_minutes: 30
smtp:
  url: smtps://mail.example:465
  from: sensor@clinic.example
  to: [a@clinic.example, b@clinic.example]
  require_starttls: false
report:
  clinic_name: さくら内科
)",
                            "t.yaml");
    EXPECT_EQ(c.digest.hour, 6);
    EXPECT_EQ(c.digest.minute, 45);
    EXPECT_EQ(c.digest.language, "en");
    EXPECT_FALSE(c.digest.all_quiet_mail);
    EXPECT_EQ(c.digest.critical_rate_limit_minutes, 30);
    EXPECT_EQ(c.smtp.to.size(), 2u);
    EXPECT_FALSE(c.smtp.require_starttls);
    EXPECT_EQ(c.report.clinic_name, "さくら内科");
    try {
        parse_config(
            "digest: {time: '25:00', timezone: Mars/Base, language: fr}\n"
            "smtp: {url: 'http://x', from: a@b, to: [nobody]}\n",
            "bad.yaml");
        FAIL();
    } catch (const ConfigError& e) {
        std::string all = e.what();
        EXPECT_NE(all.find("digest.time"), std::string::npos) << all;
        EXPECT_NE(all.find("digest.timezone"), std::string::npos) << all;
        EXPECT_NE(all.find("digest.language"), std::string::npos) << all;
        EXPECT_NE(all.find("smtp.url"), std::string::npos) << all;
        EXPECT_NE(all.find("smtp.to"), std::string::npos) << all;
    }
}

namespace {
class CountingMailer final : public Mailer {
  public:
    SendResult send(const std::vector<std::string>&, const std::string&) override {
        ++calls;
        return {true, "250"};
    }
    int calls = 0;
};

// A clinic database with an outbox, for the tests of MailOutbox itself.
class MailOutboxTest : public ::testing::Test {
  protected:
    MailOutboxTest() {
        fill_clinic_db(dir / "c.db", false);
        ::setenv("CLINICWATCH_TEMPLATES", CLINICWATCH_SOURCE_DIR "/daemon/report/templates", 1);
        config.smtp.to = {"it@clinic.example"};
    }
    TempDir dir;
    Config config;
};
}  // namespace

TEST_F(MailOutboxTest, ClaimedMailIsSentOnlyByItsClaimer) {
    Store store((dir / "c.db").string());
    MailOutbox outbox(store.db(), config);
    std::int64_t now = same_day_now();
    auto mail = compose_digest(store.db(), config, now);
    ASSERT_TRUE(mail.has_value());
    auto id = outbox.enqueue(*mail, now, /*claimed=*/true);
    CountingMailer daemon, cli;
    EXPECT_EQ(outbox.deliver(daemon, now), 0);  // the daemon's tick does not see it as due
    EXPECT_EQ(outbox.deliver(cli, now, id), 1);
    EXPECT_EQ(outbox.deliver(daemon, now + 100000), 0);  // sent: never again
    EXPECT_EQ(daemon.calls, 0);
    EXPECT_EQ(cli.calls, 1);
}

TEST_F(MailOutboxTest, StoppingDaemonLeavesMailsPendingAndDueWithoutBackoff) {
    Store store((dir / "c.db").string());
    MailOutbox outbox(store.db(), config);
    std::int64_t now = std::time(nullptr);
    auto mail = compose_digest(store.db(), config, now);
    ASSERT_TRUE(mail.has_value());
    outbox.enqueue(*mail, now - 10);
    outbox.enqueue(*mail, now - 5);
    // The daemon is told to stop while the first send waits on the server: the mailer gives it
    // up (interrupted) and says it is stopping, so the second is not started.
    struct Stopping final : Mailer {
        SendResult send(const std::vector<std::string>&, const std::string&) override {
            ++calls;
            stop = true;
            return {false, "interrupted: clinicwatch is stopping", true};
        }
        bool stopping() const override { return stop; }
        int calls = 0;
        bool stop = false;
    } stopping;
    EXPECT_EQ(outbox.deliver(stopping, now), 0);
    EXPECT_EQ(stopping.calls, 1);
    auto count = [&](const std::string& sql) { return store.db().execAndGet(sql).getInt64(); };
    // Both pending, no attempt counted, due as before (no claim, no backoff); the interrupted
    // try is on record.
    EXPECT_EQ(count("SELECT count(*) FROM mails WHERE status = 'pending' AND attempts = 0"), 2);
    EXPECT_EQ(count("SELECT count(*) FROM mails WHERE next_attempt_wall = created_wall"), 2);
    EXPECT_EQ(count("SELECT count(*) FROM mail_attempts WHERE accepted = 0 AND detail LIKE "
                    "'interrupted%'"),
              1);
    CountingMailer next_start;
    EXPECT_EQ(outbox.deliver(next_start, now + 1), 2);
    EXPECT_EQ(next_start.calls, 2);
}

TEST(DigestService, SendsOncePerDayAtTheConfiguredLocalTime) {
    TempDir dir;
    fill_clinic_db(dir / "c.db", false);
    ::setenv("CLINICWATCH_TEMPLATES", CLINICWATCH_SOURCE_DIR "/daemon/report/templates", 1);
    ::setenv("TZ", "Asia/Tokyo", 1);
    ::tzset();
    Config config;
    config.digest.critical_immediate = false;
    config.smtp.to = {"it@clinic.example"};
    int calls = 0;
    DigestService service((dir / "c.db").string(), config, [&calls]() -> std::unique_ptr<Mailer> {
        struct Counting final : Mailer {
            explicit Counting(int& c) : n(c) {}
            SendResult send(const std::vector<std::string>&, const std::string&) override {
                ++n;
                return {true, "250"};
            }
            int& n;
        };
        return std::make_unique<Counting>(calls);
    });
    std::tm tm{};
    tm.tm_year = 2026 - 1900;
    tm.tm_mon = 10;
    tm.tm_mday = 23;
    tm.tm_hour = 22;  // 2026-11-23 22:00 UTC = 2026-11-24 07:00 in Tokyo
    std::int64_t seven = timegm(&tm);
    service.tick(seven);  // before 07:30: nothing
    service.tick(seven + 29 * 60);
    EXPECT_EQ(calls, 0);
    service.tick(seven + 30 * 60);  // 07:30
    EXPECT_EQ(calls, 1);
    service.tick(seven + 12 * 3600);  // 19:00 the same day: nothing more
    EXPECT_EQ(calls, 1);
    service.tick(seven + 24 * 3600 + 31 * 60);  // 07:31 the next day: the next digest
    EXPECT_EQ(calls, 2);
}
