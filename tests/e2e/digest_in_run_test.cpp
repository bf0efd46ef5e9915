// The mail path inside `clinicwatch run`, end to end: the daemon captures on a veth pair in a
// network namespace the test made, and a mail server (tests/daemon/smtp_sink.py: STARTTLS
// required, AUTH) listens on that namespace's loopback, so no traffic leaves the namespace.
// - A spoofed ARP reply for the gateway, sent with tcpreplay, comes out as exactly one immediate
//   critical mail, then as an entry of the nightly digest that the daemon's own scheduler sends
//   at the configured minute; SIGTERM ends it with 0.
// - A mail server that hangs does not hold up SIGTERM; the mail goes out at the next start.
// - SIGHUP applies new mail settings.
// Needs root, iproute2, tcpreplay, openssl and Debian's python3-aiosmtpd; skips otherwise.
//
// The first test waits for a real minute boundary: digest.time is the next whole minute (at
// least kDigestMargin away) in the configured time zone, and the daemon looks at the clock every
// 20 s, so it takes 20 to 100 s (there is no test hook for the clock, on purpose).
#include <SQLiteCpp/SQLiteCpp.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <ctime>
#include <fstream>
#include <thread>

#include <nlohmann/json.hpp>

#include "tests/daemon/clinic_fixture.hpp"
#include "tests/support/live_support.hpp"
#include "tests/support/process.hpp"
#include "tests/support/test_support.hpp"

using namespace clinicwatch::test;
using namespace std::chrono_literals;

namespace {

constexpr int kSmtpPort = 2587;  // on the namespace's own loopback: nothing else listens there
// The daemon must be capturing and the alert stored before the digest minute begins.
constexpr std::time_t kDigestMargin = 20;

const char* kGatewayMac = "00:00:5e:00:53:01";
const char* kSpooferMac = "00:00:5e:00:53:66";  // a registered PC that starts ARP spoofing

// `t` broken down in time zone `tz` (TZ is set for this call only).
std::tm local_tm(std::time_t t, const std::string& tz) {
    const char* old = std::getenv("TZ");
    std::optional<std::string> saved = old ? std::optional<std::string>(old) : std::nullopt;
    ::setenv("TZ", tz.c_str(), 1);
    ::tzset();
    std::tm tm{};
    localtime_r(&t, &tm);
    if (saved)
        ::setenv("TZ", saved->c_str(), 1);
    else
        ::unsetenv("TZ");
    ::tzset();
    return tm;
}

struct DigestSlot {
    std::string timezone;
    int hour = 0, minute = 0;
    std::time_t at = 0;  // the first second of that minute
    std::string date;    // its local date, as the daemon records it (digest.last_scheduled)
};

// The next whole minute at least kDigestMargin seconds away, on the same local day as `now`: a
// daemon started after the digest time (say at 23:59 for a 00:00 digest) sends that day's digest
// at once, which is not what this test is about. Asia/Tokyo unless its midnight is that close;
// then Asia/Kolkata (3.5 h apart). Neither has daylight saving time; neither is the machine's
// zone (UTC on the build machine), so a daemon that ignored digest.timezone would miss it.
DigestSlot next_digest_slot(std::time_t now) {
    for (const char* tz : {"Asia/Tokyo", "Asia/Kolkata"}) {
        std::tm tm_now = local_tm(now, tz);
        std::time_t at = now - tm_now.tm_sec + 60;
        if (at - now < kDigestMargin) at += 60;
        std::tm tm_at = local_tm(at, tz);
        if (tm_at.tm_yday != tm_now.tm_yday) continue;
        char date[16];
        std::strftime(date, sizeof date, "%Y-%m-%d", &tm_at);
        return {tz, tm_at.tm_hour, tm_at.tm_min, at, date};
    }
    return {};
}

// An ARP reply from 00:00:5e:00:53:<mac_last> saying it has 192.168.77.<ip_last>.
std::vector<std::uint8_t> arp_reply(std::uint8_t mac_last, std::uint8_t ip_last) {
    auto f = arp_reply_frame(mac_last);
    f[31] = ip_last;  // sender protocol address, last octet
    f[41] = 20;       // target: 192.168.77.20
    return f;
}

// The gateway and the PC say who they are; then the PC claims the gateway's address.
void write_spoofing_capture(const std::string& path) {
    PcapWriter w(path);
    std::int64_t ts = 1'795'129'200'000'000;
    w.write(ts, arp_reply(0x01, 1));
    w.write(ts += 100'000, arp_reply(0x66, 102));
    w.write(ts += 100'000, arp_reply(0x66, 1));  // 192.168.77.1 is at 00:00:5e:00:53:66
}

bool is_critical_mail(const nlohmann::json& mail) {
    return mail["subject"].get<std::string>().find("緊急 - ") != std::string::npos;
}

template <typename Pred>
bool wait_until(std::chrono::steady_clock::time_point deadline, Pred done) {
    while (std::chrono::steady_clock::now() < deadline) {
        if (done()) return true;
        std::this_thread::sleep_for(200ms);
    }
    return done();
}

std::int64_t query_int(const std::string& db, const std::string& sql) {
    SQLite::Database d(db, SQLite::OPEN_READONLY);
    d.setBusyTimeout(5000);
    return d.execAndGet(sql).getInt64();
}

std::string query_text(const std::string& db, const std::string& sql) {
    SQLite::Database d(db, SQLite::OPEN_READONLY);
    d.setBusyTimeout(5000);
    return d.execAndGet(sql).getString();
}

}  // namespace

TEST(DigestInRun, CriticalMailAtOnceAndScheduledDigestThenSigtermExitsZero) {
    if (auto why = live_skip_reason(); !why.empty()) GTEST_SKIP() << why;
    if (!have_aiosmtpd())
        GTEST_SKIP() << kDebianPython
                     << " cannot import aiosmtpd (Debian package python3-aiosmtpd)";
    if (run_command("command -v openssl") != 0) GTEST_SKIP() << "openssl is not installed";
    Namespace ns("d");
    if (auto why = ns.create(); !why.empty()) GTEST_SKIP() << why;
    TempDir dir;
    std::string db = (dir / "clinic.db").string(), log = (dir / "daemon.log").string(),
                config = (dir / "clinicwatch.yaml").string(),
                password = (dir / "smtp-password").string(), pcap = (dir / "spoof.pcap").string();

    SmtpSink sink(dir / "smtp", kSmtpPort, ns.name());
    sink.start();
    ASSERT_TRUE(sink.ready()) << "the mail server did not start inside " << ns.name();
    std::ofstream(password) << "s3cret\n";
    ::chmod(password.c_str(), 0600);  // the daemon refuses a password file others can read

    DigestSlot slot = next_digest_slot(std::time(nullptr));
    ASSERT_FALSE(slot.timezone.empty());
    char hhmm[8];
    std::snprintf(hhmm, sizeof hhmm, "%02d:%02d", slot.hour, slot.minute);
    std::ofstream(config) << "network:\n"
                             "  internal_networks: [192.168.77.0/24]\n"
                             "  gateway_ip: 192.168.77.1\n"
                             "  gateway_mac: \""
                          << kGatewayMac
                          << "\"\n"
                             "report:\n"
                             "  clinic_name: さくら内科クリニック\n"
                             "  templates_dir: " CLINICWATCH_SOURCE_DIR
                             "/daemon/report/templates\n"
                             "digest:\n"
                             "  time: \""
                          << hhmm << "\"\n  timezone: " << slot.timezone
                          << "\n"
                             "  language: ja\n"
                             "smtp:\n"
                             "  url: smtp://127.0.0.1:"
                          << kSmtpPort
                          << "\n"
                             "  from: sensor@sakura-clinic.example\n"
                             "  to: [it@sakura-clinic.example]\n"
                             "  username: clinic\n"
                             "  password_file: "
                          << password << "\n  ca_file: " << sink.cert().string()
                          << "\n"
                             "  timeout_seconds: 10\n"
                             "register:\n"
                             "  - mac: \""
                          << kGatewayMac
                          << "\"\n"
                             "    name: ルーター RTX830\n"
                             "    role: router\n"
                             "    responsible: ネットワーク保守（山田通信）\n"
                             "  - mac: \""
                          << kSpooferMac
                          << "\"\n"
                             "    name: 受付PC\n"
                             "    role: reception\n"
                             "    responsible: レセコン業者（オルカ販売）\n";
    write_spoofing_capture(pcap);

    Child daemon({"ip", "netns", "exec", ns.name(), CLINICWATCH_BINARY, "run", "--interface", "cwa",
                  "--db", db, "--config", config},
                 log);
    ASSERT_TRUE(wait_until_capturing(log, 60s)) << read_file(log);
    std::string out;
    ASSERT_EQ(run_command(ns.exec("tcpreplay -q -i cwb " + pcap), &out), 0) << out;
    const std::string alert_sql =
        "SELECT count(*) FROM alerts WHERE kind = 'gateway-mac-change' AND subject_mac = '" +
        std::string(kSpooferMac) + "'";
    ASSERT_TRUE(wait_until(std::chrono::steady_clock::now() + 15s,
                           [&] { return query_int(db, alert_sql) == 1; }))
        << "the spoofed ARP reply made no gateway-mac-change alert\n"
        << read_file(log);
    // The precondition of the digest half: the alert exists before the digest minute begins.
    ASSERT_LT(std::time(nullptr), slot.at)
        << "start-up took longer than " << kDigestMargin << " s; the digest would miss the alert";

    // 1. The immediate critical mail: the digest thread ticks every 20 s, so within ~25 s.
    ASSERT_TRUE(wait_until(std::chrono::steady_clock::now() + 40s,
                           [&] { return !sink.messages().empty(); }))
        << "no critical mail within 40 s\n"
        << read_file(log);
    auto critical = read_mail(sink.messages().front());
    ASSERT_TRUE(critical.is_object());
    ASSERT_TRUE(is_critical_mail(critical)) << critical.dump();
    EXPECT_EQ(critical["subject"],
              "[clinicwatch] さくら内科クリニック: 緊急 - ルーターのアドレスの乗っ取り（1件）");
    EXPECT_TRUE(critical["subject_raw_ascii"].get<bool>());  // RFC 2047 on the wire
    EXPECT_EQ(critical["tls"], "yes");                       // STARTTLS happened
    EXPECT_TRUE(critical["defects"].empty()) << critical["defects"].dump();
    {
        std::string text = critical["parts"]["text/plain"], html = critical["parts"]["text/html"];
        for (const std::string* part : {&text, &html}) {
            // The incident in Japanese: the device by its register name, whom to call.
            EXPECT_NE(part->find("ルーターのアドレスの乗っ取り"), std::string::npos) << *part;
            EXPECT_NE(part->find("受付PCがルーターのアドレス 192.168.77.1 を名乗っています"),
                      std::string::npos)
                << *part;
            EXPECT_NE(part->find("ネットワーク保守業者"), std::string::npos) << *part;
            EXPECT_EQ(part->find("was claimed by"), std::string::npos) << *part;
        }
    }
    EXPECT_EQ(query_int(db,
                        "SELECT count(*) FROM mails WHERE kind = 'critical' AND status = 'sent' "
                        "AND alert_kind = 'gateway-takeover'"),
              1);
    EXPECT_EQ(query_int(db,
                        "SELECT count(*) FROM alerts WHERE kind = 'gateway-mac-change' AND "
                        "immediate_mailed_wall IS NOT NULL"),
              1);

    // 2. The nightly digest at slot.at, sent by the daemon's own scheduler (one more tick at
    // most after the minute begins).
    auto until_digest =
        std::chrono::steady_clock::now() + std::chrono::seconds(slot.at - std::time(nullptr)) + 40s;
    ASSERT_TRUE(wait_until(until_digest, [&] { return sink.messages().size() >= 2; }))
        << "no digest by " << hhmm << " " << slot.timezone << " + 40 s\n"
        << read_file(log);
    std::int64_t digest_created =
        query_int(db, "SELECT created_wall FROM mails WHERE kind = 'digest'");
    EXPECT_GE(digest_created, slot.at) << "the digest went out before " << hhmm;
    // The daemon looks at the clock every 20 s (a little more under load).
    EXPECT_LT(digest_created, slot.at + 30) << "the digest went out late";
    EXPECT_EQ(query_text(db, "SELECT value FROM meta WHERE key = 'digest.last_scheduled'"),
              slot.date);

    // 3. SIGTERM: a clean exit, promptly.
    auto term_sent = std::chrono::steady_clock::now();
    daemon.signal(SIGTERM);
    auto code = daemon.wait(10s);
    auto stop_took = std::chrono::steady_clock::now() - term_sent;
    ASSERT_TRUE(code.has_value()) << "clinicwatch did not exit within 10 s of SIGTERM";
    EXPECT_EQ(*code, 0) << read_file(log);
    EXPECT_LT(stop_took, 5s)
        << "SIGTERM took "
        << std::chrono::duration_cast<std::chrono::milliseconds>(stop_took).count() << " ms";

    // Exactly one of each reached the server, and nothing is left to send: the alert is marked
    // as mailed at once and as reported by the digest, and today's digest is recorded.
    auto mails = sink.messages();
    ASSERT_EQ(mails.size(), 2u);
    int critical_count = 0;
    nlohmann::json digest;
    for (const auto& m : mails) {
        auto j = read_mail(m);
        ASSERT_TRUE(j.is_object());
        if (is_critical_mail(j))
            ++critical_count;
        else
            digest = j;
    }
    EXPECT_EQ(critical_count, 1);
    ASSERT_TRUE(digest.is_object()) << "the second mail is not the digest";
    EXPECT_EQ(digest["subject"].get<std::string>().rfind(
                  "[clinicwatch] さくら内科クリニック " + slot.date + ": 緊急 1件・要対応 0件", 0),
              0u)
        << digest["subject"];
    EXPECT_EQ(digest["tls"], "yes");
    EXPECT_TRUE(digest["defects"].empty()) << digest["defects"].dump();
    {
        std::string text = digest["parts"]["text/plain"], html = digest["parts"]["text/html"];
        for (const std::string* part : {&text, &html}) {
            EXPECT_NE(part->find("ルーターのアドレスの乗っ取り"), std::string::npos) << *part;
            EXPECT_NE(part->find("まず対応すること"), std::string::npos) << *part;
            EXPECT_NE(part->find("受付PC"), std::string::npos) << *part;
        }
    }
    EXPECT_EQ(query_int(db, "SELECT count(*) FROM mails"), 2);
    EXPECT_EQ(query_int(db, "SELECT count(*) FROM mails WHERE status = 'sent'"), 2);
    EXPECT_EQ(query_int(db, "SELECT count(*) FROM mail_attempts"), 2);
    EXPECT_EQ(query_int(db, "SELECT count(*) FROM mail_attempts WHERE accepted = 1"), 2);
    EXPECT_EQ(query_int(db,
                        "SELECT count(*) FROM alerts WHERE kind = 'gateway-mac-change' AND "
                        "mailed_revision >= 1 AND immediate_mailed_wall IS NOT NULL"),
              1);
    EXPECT_EQ(query_int(db,
                        "SELECT count(*) FROM mails WHERE kind = 'digest' AND alerts LIKE "
                        "'%[' || (SELECT id FROM alerts WHERE kind = "
                        "'gateway-mac-change') || ',%'"),
              1);
    EXPECT_EQ(read_file(log).find("digest: "), std::string::npos) << read_file(log);
    sink.stop();
}

// A mail server that accepts the connection and then says nothing (a hung or firewalled relay)
// must not hold up SIGTERM for libcurl's connect timeout (20 s) or smtp.timeout_seconds: under
// systemd (TimeoutStopSec=30s) that ends in SIGKILL. The interrupted mail stays pending, due at
// once, and the next start sends it exactly once.
TEST(DigestInRun, SigtermWhileTheMailServerHangsExitsPromptlyAndTheNextStartSendsIt) {
    if (auto why = live_skip_reason(); !why.empty()) GTEST_SKIP() << why;
    if (!have_aiosmtpd())
        GTEST_SKIP() << kDebianPython
                     << " cannot import aiosmtpd (Debian package python3-aiosmtpd)";
    if (run_command("command -v openssl") != 0) GTEST_SKIP() << "openssl is not installed";
    Namespace ns("h");
    if (auto why = ns.create(); !why.empty()) GTEST_SKIP() << why;
    TempDir dir;
    std::string db = (dir / "clinic.db").string(), log = (dir / "daemon.log").string(),
                config = (dir / "clinicwatch.yaml").string(),
                password = (dir / "smtp-password").string();
    SmtpSink sink(dir / "smtp", kSmtpPort, ns.name());  // started only after the restart
    std::ofstream(password) << "s3cret\n";
    ::chmod(password.c_str(), 0600);
    // digest.time 00:00: today's digest is due at the daemon's first tick, whatever the hour.
    std::ofstream(config) << "report:\n"
                             "  templates_dir: " CLINICWATCH_SOURCE_DIR
                             "/daemon/report/templates\n"
                             "digest:\n  time: \"00:00\"\n  timezone: Asia/Tokyo\n"
                             "smtp:\n  url: smtp://127.0.0.1:"
                          << kSmtpPort
                          << "\n  from: sensor@sakura-clinic.example\n"
                             "  to: [it@sakura-clinic.example]\n  username: clinic\n"
                             "  password_file: "
                          << password << "\n  ca_file: " << sink.cert().string()
                          << "\n  timeout_seconds: 60\n";

    std::string accepted = (dir / "accepted").string();
    Child silent({"ip", "netns", "exec", ns.name(), kDebianPython, "-c",
                  "import socket, sys\n"
                  "s = socket.socket()\n"
                  "s.bind(('127.0.0.1', " +
                      std::to_string(kSmtpPort) +
                      "))\n"
                      "s.listen(4)\n"
                      "open(sys.argv[1] + '.ready', 'w').close()\n"
                      "held = []\n"
                      "while True:\n"
                      "    held.append(s.accept()[0])\n"
                      "    open(sys.argv[1], 'w').close()\n",
                  accepted});
    ASSERT_TRUE(wait_until(std::chrono::steady_clock::now() + 10s,
                           [&] { return std::filesystem::exists(accepted + ".ready"); }));
    {
        Child daemon({"ip", "netns", "exec", ns.name(), CLINICWATCH_BINARY, "run", "--interface",
                      "cwa", "--db", db, "--config", config},
                     log);
        ASSERT_TRUE(wait_until(std::chrono::steady_clock::now() + 20s,
                               [&] { return std::filesystem::exists(accepted); }))
            << "the daemon did not try to send today's digest\n"
            << read_file(log);
        std::this_thread::sleep_for(500ms);
        auto term_sent = std::chrono::steady_clock::now();
        daemon.signal(SIGTERM);
        auto code = daemon.wait(40s);
        auto stop_took = std::chrono::steady_clock::now() - term_sent;
        ASSERT_TRUE(code.has_value()) << read_file(log);
        EXPECT_EQ(*code, 0) << read_file(log);
        EXPECT_LT(stop_took, 10s)
            << "SIGTERM took "
            << std::chrono::duration_cast<std::chrono::milliseconds>(stop_took).count()
            << " ms while the mail server hung\n"
            << read_file(log);
    }
    // Still queued, due at once; the interruption is not a failed attempt with a backoff.
    EXPECT_EQ(query_int(db,
                        "SELECT count(*) FROM mails WHERE kind = 'digest' AND status = "
                        "'pending' AND attempts = 0 AND next_attempt_wall <= "
                        "CAST(strftime('%s') AS INTEGER)"),
              1)
        << read_file(log);

    silent.signal(SIGKILL);
    silent.wait(5s);
    sink.start();
    ASSERT_TRUE(sink.ready());
    Child daemon({"ip", "netns", "exec", ns.name(), CLINICWATCH_BINARY, "run", "--interface", "cwa",
                  "--db", db, "--config", config},
                 log + ".2");
    EXPECT_TRUE(wait_until(std::chrono::steady_clock::now() + 20s, [&] {
        return !sink.messages().empty();
    })) << read_file(log + ".2");
    daemon.signal(SIGTERM);
    auto code = daemon.wait(10s);
    ASSERT_TRUE(code.has_value());
    EXPECT_EQ(*code, 0) << read_file(log + ".2");
    EXPECT_EQ(sink.messages().size(), 1u);
    EXPECT_EQ(query_int(db, "SELECT count(*) FROM mails"), 1);  // no second digest for today
    EXPECT_EQ(query_int(db, "SELECT count(*) FROM mails WHERE status = 'sent'"), 1);
    sink.stop();
}

// `systemctl reload` (SIGHUP) reaches the mail thread too: a sensor started without a mail
// server starts mailing once one is configured, with the new recipients.
TEST(DigestInRun, SighupAppliesNewMailSettings) {
    if (auto why = live_skip_reason(); !why.empty()) GTEST_SKIP() << why;
    if (!have_aiosmtpd())
        GTEST_SKIP() << kDebianPython
                     << " cannot import aiosmtpd (Debian package python3-aiosmtpd)";
    if (run_command("command -v openssl") != 0) GTEST_SKIP() << "openssl is not installed";
    Namespace ns("r");
    if (auto why = ns.create(); !why.empty()) GTEST_SKIP() << why;
    TempDir dir;
    std::string db = (dir / "clinic.db").string(), log = (dir / "daemon.log").string(),
                config = (dir / "clinicwatch.yaml").string(),
                password = (dir / "smtp-password").string();
    SmtpSink sink(dir / "smtp", kSmtpPort, ns.name());
    sink.start();
    ASSERT_TRUE(sink.ready());
    std::ofstream(password) << "s3cret\n";
    ::chmod(password.c_str(), 0600);
    // digest.time 00:00: once mail is on, today's digest is due at the next step.
    std::string base = "report:\n  templates_dir: " CLINICWATCH_SOURCE_DIR
                       "/daemon/report/templates\n"
                       "digest:\n  time: \"00:00\"\n  timezone: Asia/Tokyo\n";
    std::ofstream(config) << base;  // no smtp section: no mail
    Child daemon({"ip", "netns", "exec", ns.name(), CLINICWATCH_BINARY, "run", "--interface", "cwa",
                  "--db", db, "--config", config},
                 log);
    ASSERT_TRUE(wait_until_capturing(log, 60s)) << read_file(log);
    std::this_thread::sleep_for(1s);
    EXPECT_TRUE(sink.messages().empty());
    EXPECT_EQ(query_int(db, "SELECT count(*) FROM mails"), 0);

    std::ofstream(config) << base << "smtp:\n  url: smtp://127.0.0.1:" << kSmtpPort
                          << "\n  from: sensor@sakura-clinic.example\n"
                             "  to: [vendor@net-yamada.example]\n  username: clinic\n"
                             "  password_file: "
                          << password << "\n  ca_file: " << sink.cert().string()
                          << "\n  timeout_seconds: 10\n";
    daemon.signal(SIGHUP);
    EXPECT_TRUE(wait_for_log(log, "reload: mail settings applied: smtp://127.0.0.1", 10s))
        << read_file(log);
    ASSERT_TRUE(wait_until(std::chrono::steady_clock::now() + 15s,
                           [&] { return !sink.messages().empty(); }))
        << "no mail after the reload configured a mail server\n"
        << read_file(log);
    daemon.signal(SIGTERM);
    auto code = daemon.wait(10s);
    ASSERT_TRUE(code.has_value());
    EXPECT_EQ(*code, 0) << read_file(log);
    ASSERT_EQ(sink.messages().size(), 1u);
    EXPECT_NE(
        read_file(sink.messages()[0].string()).find("X-Envelope-To: vendor@net-yamada.example"),
        std::string::npos);
    EXPECT_EQ(query_int(db, "SELECT count(*) FROM mails WHERE kind = 'digest' AND status = 'sent'"),
              1);
    sink.stop();
}
