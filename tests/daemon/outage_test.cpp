// Outages the mirror port can explain (issue 22): generated clinic mornings
// (bench/outage_capture.hpp) replayed by the real binary into a fresh database, then read as
// the service-health minutes, as `clinicwatch incidents` and `clinicwatch health`, and as the
// digest. Each outage is one incident naming the server, with start and end within a minute of
// the truth and the clients affected; the look-alikes (a clean morning, a server switched off at
// night, one client retrying a dead name, a capture gap) give none.
#include <SQLiteCpp/SQLiteCpp.h>
#include <gtest/gtest.h>

#include <ctime>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <set>

#include "bench/outage_capture.hpp"
#include "daemon/health/health.hpp"
#include "daemon/incidents/describe.hpp"
#include "daemon/output.hpp"
#include "daemon/report/ledger.hpp"
#include "daemon/report/template.hpp"
#include "tests/support/test_support.hpp"

namespace clinicwatch {
namespace {

using test::run_command;
using test::TempDir;

constexpr std::int64_t kMinuteUs = 60'000'000;

const std::set<std::string>& outage_kinds() {
    static const std::set<std::string> kinds = {"server-not-answering", "dns-not-answering",
                                                "dhcp-not-answering",   "router-not-answering-arp",
                                                "throughput-ceiling",   "service-not-running",
                                                "dhcp-out-of-addresses"};
    return kinds;
}

struct Replayed {
    TempDir dir;
    bench::ClinicCaptureTruth truth;
    std::string db() const { return (dir / "clinic.db").string(); }
    std::string config(const std::string& lang) const {
        return (dir / ("clinic-" + lang + ".yaml")).string();
    }
};

// Replays a generated morning into `r`'s database (a new one, or the one an earlier run left).
void replay_into(Replayed& r, const bench::OutageCaptureOptions& o) {
    {
        bench::PcapFileWriter w((r.dir / "clinic.pcap").string());
        r.truth = bench::generate_outage_capture(
            o, [&](std::int64_t ts, bench::ByteView f) { w.write(ts, f); });
        w.close();
    }
    std::string out;
    EXPECT_EQ(run_command(std::string(CLINICWATCH_BINARY) + " replay " +
                              (r.dir / "clinic.pcap").string() + " --db " + r.db() + " --config " +
                              r.config("ja") + " --no-progress",
                          &out),
              0)
        << out;
}

// With a `shared_key`, the replay is made once for all test processes (test::shared_fixture).
std::unique_ptr<Replayed> replay_options(const bench::OutageCaptureOptions& o,
                                         const std::string& shared_key = "") {
    auto r = std::make_unique<Replayed>();
    r->truth = bench::generate_outage_capture(o, [](std::int64_t, bench::ByteView) {});
    auto make = [&](const std::filesystem::path&) {
        {
            bench::PcapFileWriter w((r->dir / "clinic.pcap").string());
            bench::generate_outage_capture(
                o, [&](std::int64_t ts, bench::ByteView f) { w.write(ts, f); });
            w.close();
        }
        for (const char* lang : {"ja", "en"}) {
            std::ifstream demo(std::string(CLINICWATCH_SOURCE_DIR) + "/config/demo.yaml");
            std::ofstream out(r->config(lang));
            out << demo.rdbuf() << "\ninventory:\n  learning_days: 0\n\nreport:\n"
                << "  clinic_name: \"さくら内科クリニック\"\n\ndigest:\n  language: " << lang
                << "\n\n"
                << bench::register_yaml(r->truth);
        }
        std::string out;
        int code = test::replay_capture(r->dir / "clinic.pcap", r->db(), r->config("ja"), &out);
        EXPECT_EQ(code, 0) << out;
        return code == 0;
    };
    if (shared_key.empty())
        make(r->dir.path());
    else
        test::shared_fixture(shared_key, r->dir.path(), make);
    return r;
}

std::unique_ptr<Replayed> replay(bench::OutageScenario scenario,
                                 std::int64_t start_us = 1'795'129'200'000'000,
                                 const std::string& shared_key = "") {
    bench::OutageCaptureOptions o;
    o.scenario = scenario;
    o.start_us = start_us;
    return replay_options(o, shared_key);
}

[[maybe_unused]] std::string cli(const Replayed& r, const std::string& args,
                                 const std::string& lang = "ja", int* rc = nullptr) {
    std::string out;
    int code = run_command("CLINICWATCH_TEMPLATES=" + std::string(CLINICWATCH_SOURCE_DIR) +
                               "/daemon/report/templates " + CLINICWATCH_BINARY + " " + args +
                               " --db " + r.db() + " --config " + r.config(lang) + " 2>/dev/null",
                           &out);
    if (rc)
        *rc = code;
    else
        EXPECT_EQ(code, 0) << args << "\n" << out;
    return out;
}

struct StoredOutage {
    std::string kind, subject;
    std::int64_t first = 0, last = 0;
    nlohmann::json evidence;
};

std::vector<StoredOutage> stored_outages(const Replayed& r) {
    SQLite::Database db(r.db(), SQLite::OPEN_READONLY);
    SQLite::Statement st(db, "SELECT kind, subject, first_seen, last_seen, evidence FROM alerts");
    std::vector<StoredOutage> out;
    while (st.executeStep()) {
        std::string kind = st.getColumn(0).getString();
        if (!outage_kinds().count(kind)) continue;
        out.push_back({kind, st.getColumn(1).getString(), st.getColumn(2).getInt64(),
                       st.getColumn(3).getInt64(),
                       nlohmann::json::parse(st.getColumn(4).getString(), nullptr, false)});
    }
    return out;
}

std::set<std::string> truth_clients(const bench::TruthIncident& t) {
    std::set<std::string> out;
    for (const auto& m : t.hosts) out.insert(m.to_string());
    return out;
}

const bench::TruthIncident& r_truth_of(const Replayed& r, const std::string& kind) {
    for (const auto& t : r.truth.incidents)
        if (t.kind == kind) return t;
    ADD_FAILURE() << "no " << kind << " in the truth";
    return r.truth.incidents.front();
}

// Every truth incident is exactly one stored outage of its kind, on its server, within a
// minute of its start and end, with the clients affected.
void expect_outages_match(const Replayed& r) {
    auto stored = stored_outages(r);
    ASSERT_FALSE(r.truth.incidents.empty());
    EXPECT_EQ(stored.size(), r.truth.incidents.size());
    for (const auto& t : r.truth.incidents) {
        SCOPED_TRACE(t.kind);
        std::vector<const StoredOutage*> found;
        for (const auto& s : stored)
            if (s.kind == t.kind) found.push_back(&s);
        ASSERT_EQ(found.size(), 1u);
        const StoredOutage& s = *found[0];
        EXPECT_EQ(s.subject, t.details["server_ip"].get<std::string>());
        EXPECT_LE(std::abs(s.first - t.start_us), kMinuteUs)
            << "start " << (s.first - t.start_us) / 1e6 << " s from the truth";
        EXPECT_LE(std::abs(s.last - t.end_us), kMinuteUs)
            << "end " << (s.last - t.end_us) / 1e6 << " s from the truth";
        std::set<std::string> clients;
        for (const auto& c : s.evidence["clients"]) clients.insert(c.get<std::string>());
        EXPECT_EQ(clients, truth_clients(t)) << s.evidence.dump();
        EXPECT_TRUE(s.evidence.value("ended", false));
    }
}

TEST(OutageAlerts, EhrServerNotAnswering) {
    auto r = replay(bench::OutageScenario::ehr_down);
    expect_outages_match(*r);
}

TEST(OutageAlerts, DnsNotAnswering) {
    auto r = replay(bench::OutageScenario::dns_down);
    expect_outages_match(*r);
}

std::size_t count_of(const std::string& text, const std::string& part) {
    std::size_t n = 0;
    for (auto at = text.find(part); at != std::string::npos; at = text.find(part, at + 1)) ++n;
    return n;
}

// The forwarder answers, but SERVFAIL to everything: an outage all the same, with its cause.
TEST(OutageAlerts, DnsFailing) {
    auto r = replay(bench::OutageScenario::dns_failing);
    expect_outages_match(*r);
    auto stored = stored_outages(*r);
    ASSERT_EQ(stored.size(), 1u);
    EXPECT_EQ(stored[0].evidence.value("cause", ""), "failing") << stored[0].evidence.dump();
    std::string at = cli(*r, "health --at 08:13");
    EXPECT_NE(at.find("DNSが問い合わせにエラーを返しました"), std::string::npos) << at;
    EXPECT_NE(at.find("SERVFAIL"), std::string::npos) << at;
    EXPECT_EQ(count_of(at, "。"), 1u) << at;
    at = cli(*r, "health --at 08:13", "en");
    EXPECT_NE(at.find("answered with errors"), std::string::npos) << at;
}

TEST(OutageAlerts, DhcpNotAnswering) {
    auto r = replay(bench::OutageScenario::dhcp_down);
    expect_outages_match(*r);
}

TEST(OutageAlerts, RouterNotAnsweringArp) {
    auto r = replay(bench::OutageScenario::router_arp);
    expect_outages_match(*r);
}

TEST(OutageAlerts, ThroughputCeiling) {
    auto r = replay(bench::OutageScenario::throughput_ceiling);
    expect_outages_match(*r);
    auto stored = stored_outages(*r);
    ASSERT_EQ(stored.size(), 1u);
    EXPECT_LT(stored[0].evidence.value("peak_mbps", 0), 120);
    EXPECT_GT(stored[0].evidence.value("usual_mbps", 0), 400);
}

TEST(OutageAlerts, NothingOnQuietLookAlikes) {
    for (auto scenario : {bench::OutageScenario::clean, bench::OutageScenario::dead_name,
                          bench::OutageScenario::capture_gap}) {
        SCOPED_TRACE(bench::outage_scenario_name(scenario));
        auto r = replay(scenario);
        auto stored = stored_outages(*r);
        EXPECT_TRUE(stored.empty())
            << stored.size() << " outages, first "
            << (stored.empty() ? "" : stored[0].kind + " " + stored[0].evidence.dump());
        // The health minutes are there all the same: the EHR server's clients were answered.
        SQLite::Database db(r->db(), SQLite::OPEN_READONLY);
        EXPECT_EQ(db.execAndGet("SELECT count(*) FROM alerts WHERE kind = 'sensor-limit' AND "
                                "evidence LIKE '%service-%'")
                      .getInt64(),
                  0)
            << "the health tables are big enough for a clinic morning";
        EXPECT_GT(db.execAndGet("SELECT sum(tcp_handshakes) FROM service_minutes WHERE "
                                "server_ip = '192.168.100.10'")
                      .getInt64(),
                  100);
    }
    // Switched off at 22:10 with nobody trying.
    auto night =
        replay(bench::OutageScenario::night_off, 1'795'129'200'000'000 + 14 * 3600 * 1'000'000LL);
    EXPECT_TRUE(stored_outages(*night).empty());
}

TEST(OutageAlerts, HealthMinutesCountWhatClientsSaw) {
    auto r = replay(bench::OutageScenario::morning);
    SQLite::Database db(r->db(), SQLite::OPEN_READONLY);
    std::int64_t start = r->truth.options.start_us;
    auto at = [&](int minute, const char* server, const char* column) {
        SQLite::Statement st(db, std::string("SELECT ") + column +
                                     " FROM service_minutes WHERE minute = ? AND server_ip = ?");
        st.bind(1, start + minute * kMinuteUs);
        st.bind(2, server);
        return st.executeStep() ? st.getColumn(0).getInt64() : -1;
    };
    // 08:12, the EHR server down: six PCs, two attempts each, none answered.
    EXPECT_EQ(at(12, "192.168.100.10", "tcp_attempts"), 12);
    EXPECT_EQ(at(12, "192.168.100.10", "tcp_handshakes"), 0);
    EXPECT_EQ(at(12, "192.168.100.10", "tcp_unanswered"), 12);
    EXPECT_EQ(at(12, "192.168.100.10", "failed_clients"), 6);
    // 08:05, all well: every attempt answered, handshake time measured.
    EXPECT_EQ(at(5, "192.168.100.10", "tcp_unanswered"), 0);
    EXPECT_EQ(at(5, "192.168.100.10", "tcp_handshakes"), 12);
    EXPECT_GT(at(5, "192.168.100.10", "tcp_handshake_us"), 0);
    // 08:18, the router's DNS forwarder silent: eight queries, no answer.
    EXPECT_EQ(at(18, "192.168.100.1", "dns_queries"), 8);
    EXPECT_EQ(at(18, "192.168.100.1", "dns_answers"), 0);
    EXPECT_EQ(at(18, "192.168.100.1", "dns_timeouts"), 8);
    EXPECT_EQ(at(5, "192.168.100.1", "dns_answers"), 8);
    // 08:24, DHCP silent: the three laptops arriving are left without an address.
    EXPECT_GE(at(24, "192.168.100.1", "dhcp_unanswered_clients"), 3);
    EXPECT_EQ(at(24, "192.168.100.1", "dhcp_offers"), 0);
}

nlohmann::json of_kind(const nlohmann::json& incidents, const std::string& kind) {
    auto out = nlohmann::json::array();
    for (const auto& i : incidents)
        if (i["kind"] == kind) out.push_back(i);
    return out;
}

// The morning of the issue: the EHR server down 08:10-08:15, DNS 08:17-08:20, DHCP 08:23-08:26.
class OutageMorning : public ::testing::Test {
  protected:
    static void SetUpTestSuite() {
        morning_ = replay(bench::OutageScenario::morning, 1'795'129'200'000'000, "outage-morning")
                       .release();
    }
    static void TearDownTestSuite() {
        delete morning_;
        morning_ = nullptr;
    }
    static Replayed* morning_;
};
Replayed* OutageMorning::morning_ = nullptr;

TEST_F(OutageMorning, OneIncidentPerOutageWithWhomToCall) {
    auto ja = nlohmann::json::parse(cli(*morning_, "incidents --json"));
    ASSERT_TRUE(ja.is_array());
    auto ehr = of_kind(ja, "server-not-answering");
    ASSERT_EQ(ehr.size(), 1u) << ja.dump(1);
    EXPECT_EQ(ehr[0]["device"], "電子カルテサーバー");
    EXPECT_EQ(ehr[0]["call"], "電子カルテ業者") << "the register says the EHR vendor";
    EXPECT_EQ(ehr[0]["headline"],
              "08:10～08:15、電子カルテサーバーが応答しませんでした（6台が接続できず）");
    std::string detail = ehr[0]["detail"];
    EXPECT_NE(detail.find("診察室1"), std::string::npos) << detail;
    EXPECT_NE(detail.find("応答しませんでした"), std::string::npos) << detail;
    auto dns = of_kind(ja, "dns-not-answering");
    ASSERT_EQ(dns.size(), 1u) << ja.dump(1);
    EXPECT_EQ(dns[0]["call"], "ネットワーク保守業者");
    EXPECT_EQ(dns[0]["device"], "rtx830");
    auto dhcp = of_kind(ja, "dhcp-not-answering");
    ASSERT_EQ(dhcp.size(), 1u) << ja.dump(1);
    EXPECT_EQ(dhcp[0]["call"], "ネットワーク保守業者");
    EXPECT_NE(dhcp[0]["detail"].get<std::string>().find("ノートPC1"), std::string::npos);
    for (const auto& i : {ehr[0], dns[0], dhcp[0]}) {
        EXPECT_FALSE(i["ongoing"].get<bool>()) << i.dump(1);
        EXPECT_EQ(i["alerts"].size(), 1u);
    }

    auto en = nlohmann::json::parse(cli(*morning_, "incidents --json", "en"));
    auto ehr_en = of_kind(en, "server-not-answering");
    ASSERT_EQ(ehr_en.size(), 1u);
    EXPECT_EQ(ehr_en[0]["call"], "the EHR vendor");
    EXPECT_EQ(ehr_en[0]["headline"],
              "08:10-08:15: 電子カルテサーバー did not answer (6 devices could not connect)");
}

TEST_F(OutageMorning, HealthAtExplainsEachOutageMinuteInOneSentence) {
    struct Case {
        const char* at;
        std::vector<std::string> ja, en;
    };
    std::vector<Case> cases = {
        {"08:12",
         {"08:12、電子カルテサーバーが6台の機器からの接続に応答しませんでした"},
         {"At 08:12, 電子カルテサーバー did not answer 6 devices"}},
        {"08:18",
         {"08:18、rtx830のDNSが", "問い合わせに応答しませんでした"},
         {"At 08:18, DNS on rtx830 did not answer"}},
        {"08:24",
         {"08:24、rtx830のDHCPが", "IPアドレスを配りませんでした"},
         {"DHCP on rtx830 gave"}},
        {"08:05", {"08:05、問題は見られませんでした"}, {"At 08:05, nothing was wrong"}},
    };
    for (const auto& c : cases) {
        SCOPED_TRACE(c.at);
        std::string ja = cli(*morning_, std::string("health --at ") + c.at);
        for (const auto& part : c.ja) EXPECT_NE(ja.find(part), std::string::npos) << ja;
        EXPECT_EQ(count_of(ja, "。"), 1u) << "one sentence: " << ja;
        std::string en = cli(*morning_, std::string("health --at ") + c.at, "en");
        for (const auto& part : c.en) EXPECT_NE(en.find(part), std::string::npos) << en;
        EXPECT_EQ(en.find("。"), std::string::npos) << en;
    }
    // A full time works too, and a bad one is a usage error.
    EXPECT_NE(cli(*morning_, "health --at '2026-11-20 08:13'").find("電子カルテサーバー"),
              std::string::npos);
    int rc = 0;
    cli(*morning_, "health --at 'lunch'", "ja", &rc);
    EXPECT_EQ(rc, 2);
    // Per server and minute: the EHR server's thirty minutes.
    auto rows = nlohmann::json::parse(cli(*morning_, "health --server 192.168.100.10 --json"));
    ASSERT_EQ(rows.size(), 30u);
    EXPECT_EQ(rows[12]["server"], "電子カルテサーバー");
    EXPECT_EQ(rows[12]["tcp_handshakes"], 0);
    EXPECT_GT(rows[5]["tcp_handshakes"].get<int>(), 0);
}

TEST(OutageHealth, AtExplainsRouterArpAndCeiling) {
    auto arp = replay(bench::OutageScenario::router_arp);
    std::string ja = cli(*arp, "health --at 08:06");
    EXPECT_NE(ja.find("08:06、rtx830がARPの問い合わせに応答しませんでした"), std::string::npos)
        << ja;
    std::string en = cli(*arp, "health --at 08:06", "en");
    EXPECT_NE(en.find("rtx830 did not answer ARP"), std::string::npos) << en;
    auto ceiling = replay(bench::OutageScenario::throughput_ceiling);
    ja = cli(*ceiling, "health --at 08:12");
    EXPECT_NE(ja.find("08:12、NASとの通信が最大 約9"), std::string::npos) << ja;
    EXPECT_NE(ja.find("再送されました"), std::string::npos) << ja;
    en = cli(*ceiling, "health --at 08:12", "en");
    EXPECT_NE(en.find("transfers with NAS reached at most about 9"), std::string::npos) << en;
}

// Availability for the report: the EHR server down five of its thirty minutes.
TEST_F(OutageMorning, ServerAvailabilityAsPlainData) {
    SQLite::Database db(morning_->db(), SQLite::OPEN_READONLY);
    auto list = server_availability(db, 0, INT64_MAX);
    const ServerAvailability* ehr = nullptr;
    for (const auto& a : list)
        if (a.server_ip == "192.168.100.10") ehr = &a;
    ASSERT_NE(ehr, nullptr);
    EXPECT_EQ(ehr->minutes_observed, 30);
    EXPECT_EQ(ehr->minutes_down, 5);
    EXPECT_NEAR(ehr->availability, 25.0 / 30.0, 1e-9);
    EXPECT_EQ(ehr->outages, 1);
    EXPECT_GT(ehr->handshake_ms, 0.0);
    EXPECT_EQ(to_json(*ehr)["minutes_down"], 5);
}

// The lines of a mail's body (after the headers' blank line).
std::vector<std::string> body_lines(const std::string& mail) {
    std::string body = mail.substr(mail.find("\n\n") + 2);
    std::vector<std::string> out;
    std::size_t at = 0;
    for (auto nl = body.find('\n'); nl != std::string::npos; nl = body.find('\n', at)) {
        out.push_back(body.substr(at, nl - at));
        at = nl + 1;
    }
    return out;
}

// 08:00 today in the clinic's time zone (digest.timezone, Asia/Tokyo: UTC+9, no DST): the
// digest speaks of today's outages first.
std::int64_t today_8am_in_tokyo() {
    std::int64_t now = std::time(nullptr);
    std::int64_t jst_day = (now + 9 * 3600) / 86400;
    return (jst_day * 86400 - 9 * 3600 + 8 * 3600) * 1'000'000;
}

// The digest's first lines name the outages, in time order, before anything else.
TEST(OutageDigest, FirstLinesNameTheOutages) {
    std::int64_t today_8am = today_8am_in_tokyo();
    auto r = replay(bench::OutageScenario::morning, today_8am);
    auto ja = body_lines(cli(*r, "digest --dry-run"));
    ASSERT_GE(ja.size(), 4u);
    EXPECT_EQ(ja[1],
              "本日 08:10～08:15、電子カルテサーバーが応答しませんでした（6台が接続できず）");
    EXPECT_NE(ja[2].find("本日 08:17～08:20、rtx830のDNS（名前解決）が応答しませんでした"),
              std::string::npos)
        << ja[2];
    EXPECT_NE(ja[3].find("本日 08:23～08:26、rtx830がIPアドレスを配りませんでした"),
              std::string::npos)
        << ja[3];
    auto en = body_lines(cli(*r, "digest --dry-run", "en"));
    ASSERT_GE(en.size(), 2u);
    EXPECT_EQ(en[1],
              "Today 08:10-08:15: 電子カルテサーバー did not answer (6 devices could not connect)");
    // The sensor's own tables were big enough for the morning: no sensor-limit incident.
    for (const auto& line : ja) EXPECT_EQ(line.find("記録上限"), std::string::npos) << line;
    // A morning without outages has no such lines.
    auto clean = replay(bench::OutageScenario::clean, today_8am);
    auto quiet = body_lines(cli(*clean, "digest --dry-run"));
    for (const auto& line : quiet) EXPECT_EQ(line.find("本日 "), std::string::npos) << line;
}

// A stopped service and DHCP out of addresses have first lines of their own, not "did not answer".
TEST(OutageDigest, StoppedServiceAndExhaustedDhcpSayWhatHappened) {
    std::int64_t today_8am = today_8am_in_tokyo();
    auto refused = replay(bench::OutageScenario::ehr_refused, today_8am);
    auto ja = body_lines(cli(*refused, "digest --dry-run"));
    ASSERT_GE(ja.size(), 2u);
    EXPECT_NE(ja[1].find("本日 08:10～08:14、電子カルテサーバーの"), std::string::npos) << ja[1];
    EXPECT_NE(ja[1].find("が止まっていました"), std::string::npos) << ja[1];
    auto en = body_lines(cli(*refused, "digest --dry-run", "en"));
    ASSERT_GE(en.size(), 2u);
    EXPECT_NE(en[1].find("was not running"), std::string::npos) << en[1];

    auto exhausted = replay(bench::OutageScenario::dhcp_exhausted, today_8am);
    ja = body_lines(cli(*exhausted, "digest --dry-run"));
    ASSERT_GE(ja.size(), 2u);
    EXPECT_NE(ja[1].find("配れるIPアドレスが足りませんでした"), std::string::npos) << ja[1];
    en = body_lines(cli(*exhausted, "digest --dry-run", "en"));
    ASSERT_GE(en.size(), 2u);
    EXPECT_NE(en[1].find("ran out of addresses"), std::string::npos) << en[1];
}

// A loop in the same minutes is named as the outage's cause, and the network vendor is called.
TEST(OutageIncidents, LoopInTheSameMinutesIsTheCause) {
    auto alert = [](std::int64_t id, const std::string& kind, std::int64_t first, std::int64_t last,
                    const std::string& mac) {
        AlertRecord a;
        a.id = id;
        a.kind = kind;
        a.key = kind + ":" + std::to_string(id);
        a.severity = 3;
        a.subject_mac = mac;
        a.subject = "192.168.100.10";
        a.status = "open";
        a.first_seen = first;
        a.last_seen = last;
        a.revision = 1;
        return a;
    };
    std::int64_t t0 = 1'795'129'800'000'000;
    auto outage = alert(1, "server-not-answering", t0, t0 + 4 * kMinuteUs, "00:15:5d:10:00:0a");
    outage.evidence = {
        {"server_ip", "192.168.100.10"},
        {"cause", "unanswered"},
        {"clients", {"00:1b:21:aa:bb:21", "00:1b:21:aa:bb:22", "00:1b:21:aa:bb:23"}}};
    auto loop = alert(2, "l2-loop", t0 - kMinuteUs, t0 + 3 * kMinuteUs, "");
    auto later = alert(3, "dns-not-answering", t0 + 30 * kMinuteUs, t0 + 33 * kMinuteUs,
                       "00:a0:de:7a:1c:30");
    later.evidence = {{"cause", "unanswered"}, {"clients", nlohmann::json::array()}};
    auto incidents = correlate({outage, loop, later});
    ASSERT_EQ(incidents.size(), 3u);
    for (const auto& in : incidents) {
        if (in.kind == "server-not-answering") {
            EXPECT_EQ(in.facts["loop_cause"], "l2-loop");
            auto messages = load_messages(CLINICWATCH_SOURCE_DIR "/daemon/report/templates", "ja");
            DeviceNames names(messages, nlohmann::json::array());
            auto d = describe_incident(in, 1, messages, names);
            EXPECT_EQ(d["party"], "ネットワーク保守業者");
            EXPECT_NE(d["detail"].get<std::string>().find("ネットワークのループ"),
                      std::string::npos)
                << d["detail"];
        } else if (in.kind == "dns-not-answering") {
            EXPECT_EQ(in.facts["loop_cause"], "") << "no loop in its minutes";
        } else {
            EXPECT_EQ(in.kind, "l2-loop");
        }
    }
}

// ------------------------------------------------------------------ refused, out of addresses

std::string read_text(const std::filesystem::path& p) {
    std::ifstream in(p);
    return std::string(std::istreambuf_iterator<char>(in), {});
}

// The EHR server up (it answers ARP) but its service stopped: every SYN gets RST. One incident,
// not "not answering": the service is named, and the EHR vendor is called.
TEST(OutageAlerts, EhrServiceNotRunning) {
    auto r = replay(bench::OutageScenario::ehr_refused);
    expect_outages_match(*r);
    auto ja = nlohmann::json::parse(cli(*r, "incidents --json"));
    ASSERT_TRUE(of_kind(ja, "server-not-answering").empty()) << ja.dump(1);
    auto in = of_kind(ja, "service-not-running");
    ASSERT_EQ(in.size(), 1u) << ja.dump(1);
    EXPECT_EQ(in[0]["device"], "電子カルテサーバー");
    EXPECT_EQ(in[0]["call"], "電子カルテ業者");
    std::string detail = in[0]["detail"];
    EXPECT_NE(detail.find("08:10～08:14"), std::string::npos) << detail;
    EXPECT_NE(detail.find("動いていましたが電子カルテのサービスが動いておらず"), std::string::npos)
        << detail;
    EXPECT_NE(detail.find("6台の機器（"), std::string::npos) << detail;
    auto en =
        of_kind(nlohmann::json::parse(cli(*r, "incidents --json", "en")), "service-not-running");
    ASSERT_EQ(en.size(), 1u);
    EXPECT_EQ(en[0]["call"], "the EHR vendor");
    EXPECT_NE(en[0]["detail"].get<std::string>().find("was up but the EHR service was not running"),
              std::string::npos)
        << en[0]["detail"];
    std::string at = cli(*r, "health --at 08:12");
    EXPECT_NE(
        at.find("08:12、電子カルテサーバーは動いていますが電子カルテのサービスが動いておらず"),
        std::string::npos)
        << at;
    EXPECT_EQ(count_of(at, "。"), 1u) << at;
    at = cli(*r, "health --at 08:12", "en");
    EXPECT_NE(at.find("At 08:12, 電子カルテサーバー was up but the EHR service was not running"),
              std::string::npos)
        << at;
}

// DHCP out of addresses: renewals still ACKed, the laptops arriving get no OFFER and a NAK for
// the address they ask back. One incident worded apart from "not answering".
TEST(OutageAlerts, DhcpOutOfAddresses) {
    auto r = replay(bench::OutageScenario::dhcp_exhausted);
    expect_outages_match(*r);
    auto ja = nlohmann::json::parse(cli(*r, "incidents --json"));
    ASSERT_TRUE(of_kind(ja, "dhcp-not-answering").empty()) << ja.dump(1);
    auto in = of_kind(ja, "dhcp-out-of-addresses");
    ASSERT_EQ(in.size(), 1u) << ja.dump(1);
    EXPECT_EQ(in[0]["call"], "ネットワーク保守業者");
    EXPECT_EQ(in[0]["device"], "rtx830");
    std::string detail = in[0]["detail"];
    EXPECT_NE(detail.find("配れるIPアドレスが足りず"), std::string::npos) << detail;
    EXPECT_NE(detail.find("ノートPC1"), std::string::npos) << detail;
    EXPECT_EQ(detail.find("応答しませんでした"), std::string::npos) << detail;
    std::string at = cli(*r, "health --at 08:21");
    EXPECT_NE(at.find("08:21、rtx830のDHCPは動いていますが配れるIPアドレスが足りず"),
              std::string::npos)
        << at;
    EXPECT_EQ(count_of(at, "。"), 1u) << at;
    at = cli(*r, "health --at 08:21", "en");
    EXPECT_NE(at.find("DHCP on rtx830 was up but out of addresses"), std::string::npos) << at;
    auto en =
        of_kind(nlohmann::json::parse(cli(*r, "incidents --json", "en")), "dhcp-out-of-addresses");
    ASSERT_EQ(en.size(), 1u);
    EXPECT_EQ(en[0]["title"], "DHCP out of addresses");
}

// ------------------------------------------------------------------ the baseline across runs

// Two runs on one database: the second starts with the EHR server already down (and the NAS
// already slow). Only the first run's baseline says these servers answered before, and how fast:
// with it each is an outage; the same capture on a fresh database gives none.
TEST(OutageBaseline, SecondRunUsesTheFirstRunsBaseline) {
    const std::int64_t start = 1'795'129'200'000'000;
    struct Case {
        bench::OutageScenario scenario;
        const char* kind;
    };
    for (const Case& c : {Case{bench::OutageScenario::ehr_down, "server-not-answering"},
                          Case{bench::OutageScenario::throughput_ceiling, "throughput-ceiling"}}) {
        SCOPED_TRACE(c.kind);
        bench::OutageCaptureOptions first;
        first.scenario = c.scenario;
        first.start_us = start;
        first.minutes = 10;
        first.outage_from = first.outage_to = 0;  // a good morning
        auto r = replay_options(first);
        EXPECT_TRUE(stored_outages(*r).empty());
        {
            SQLite::Database db(r->db(), SQLite::OPEN_READONLY);
            auto stored = nlohmann::json::parse(
                db.execAndGet("SELECT value FROM meta WHERE key = 'service_baseline'").getString());
            std::set<std::string> servers;
            for (const auto& s : stored["servers"]) servers.insert(s["ip"].get<std::string>());
            EXPECT_TRUE(servers.count("192.168.100.10")) << stored.dump();
        }
        bench::OutageCaptureOptions second = first;
        second.start_us = start + 10 * kMinuteUs;
        second.outage_from = 0;
        second.outage_to = 5;
        second.seed = 2;
        replay_into(*r, second);
        auto stored = stored_outages(*r);
        ASSERT_EQ(stored.size(), 1u);
        EXPECT_EQ(stored[0].kind, c.kind);
        EXPECT_LE(std::abs(stored[0].first - second.start_us), kMinuteUs);
        EXPECT_LE(std::abs(stored[0].last - (second.start_us + 5 * kMinuteUs)), kMinuteUs);
        // Without the first run nothing says what is usual: no outage.
        auto fresh = replay_options(second);
        EXPECT_TRUE(stored_outages(*fresh).empty()) << stored_outages(*fresh)[0].kind;
    }
}

// ------------------------------------------------------------------ the report's chart

std::string attribute(const std::string& tag, const std::string& name) {
    auto at = tag.find(name + "=\"");
    if (at == std::string::npos) return {};
    at += name.size() + 2;
    return tag.substr(at, tag.find('"', at) - at);
}

// "2026-11-20T08:10:00.000000+09:00" (the chart's times) as a timestamp.
std::optional<std::int64_t> iso_time(const std::string& text) {
    auto dot = text.find('.');
    auto zone = text.find_first_of("+Z", dot);
    if (dot == std::string::npos || zone == std::string::npos) return parse_time(text);
    return parse_time(text.substr(0, dot) + text.substr(zone));
}

// Every element <NAME ... class="CLASS" ...> in `text`, as its opening tag.
std::vector<std::string> tags_of_class(const std::string& text, const std::string& cls) {
    std::vector<std::string> out;
    for (auto at = text.find("class=\"" + cls + "\""); at != std::string::npos;
         at = text.find("class=\"" + cls + "\"", at + 1)) {
        auto open = text.rfind('<', at);
        out.push_back(text.substr(open, text.find('>', at) - open + 1));
    }
    return out;
}

// The report draws each server's availability: one row per server that answered someone, the
// EHR server's outage black where it was and labelled with its times, in ja and en.
TEST_F(OutageMorning, ReportDrawsAvailabilityChart) {
    std::set<std::string> servers;
    {
        SQLite::Database db(morning_->db(), SQLite::OPEN_READONLY);
        SQLite::Statement st(db,
                             "SELECT DISTINCT server_ip FROM service_minutes WHERE tcp_handshakes "
                             "+ dns_answers + dhcp_offers + dhcp_acks + arp_requests - "
                             "arp_unanswered > 0");
        while (st.executeStep()) servers.insert(st.getColumn(0).getString());
    }
    for (const char* ip : {"192.168.100.1", "192.168.100.10", "192.168.100.11"})
        EXPECT_TRUE(servers.count(ip)) << ip;
    const auto& ehr_truth = r_truth_of(*morning_, "server-not-answering");
    for (std::string lang : {"ja", "en"}) {
        SCOPED_TRACE(lang);
        auto path = morning_->dir / ("report." + lang + ".html");
        cli(*morning_, "report --format html --lang " + lang + " --out " + path.string(), lang);
        std::string html = read_text(path);
        auto from = html.find("<svg class=\"availability-chart\"");
        ASSERT_NE(from, std::string::npos);
        std::string svg = html.substr(from, html.find("</svg>", from) - from);
        // One row per server.
        std::vector<std::string> rows;
        std::set<std::string> row_set;
        for (const auto& tag : tags_of_class(svg, "availability-row")) {
            rows.push_back(attribute(tag, "data-server-ip"));
            row_set.insert(rows.back());
        }
        EXPECT_EQ(rows.size(), row_set.size());
        EXPECT_EQ(row_set, servers);
        // The EHR server's row: black (down) cells from 08:10 to 08:15 and nowhere else, and a
        // label with the outage's times.
        auto row_at = svg.find("data-server-ip=\"192.168.100.10\"");
        ASSERT_NE(row_at, std::string::npos);
        std::string row = svg.substr(row_at, svg.find("</g>", row_at) - row_at);
        auto down = tags_of_class(row, "down");
        ASSERT_EQ(down.size(), 1u) << row;
        auto down_from = iso_time(attribute(down[0], "data-from"));
        auto down_to = iso_time(attribute(down[0], "data-to"));
        ASSERT_TRUE(down_from && down_to) << down[0];
        EXPECT_LE(std::abs(*down_from - ehr_truth.start_us), kMinuteUs) << down[0];
        EXPECT_LE(std::abs(*down_to - ehr_truth.end_us), kMinuteUs) << down[0];
        auto labels = tags_of_class(row, "outage-span");
        ASSERT_EQ(labels.size(), 1u) << row;
        EXPECT_EQ(attribute(labels[0], "data-kind"), "server-not-answering");
        auto start = iso_time(attribute(labels[0], "data-start"));
        auto end = iso_time(attribute(labels[0], "data-end"));
        ASSERT_TRUE(start && end);
        EXPECT_LE(std::abs(*start - ehr_truth.start_us), kMinuteUs);
        EXPECT_LE(std::abs(*end - ehr_truth.end_us), kMinuteUs);
        EXPECT_NE(row.find(lang == "ja" ? ">08:10～08:15 サーバーの応答停止<"
                                        : ">08:10-08:15 Server not answering<"),
                  std::string::npos)
            << row;
        // The NAS answered all morning: light cells only.
        auto nas_at = svg.find("data-server-ip=\"192.168.100.11\"");
        ASSERT_NE(nas_at, std::string::npos);
        std::string nas = svg.substr(nas_at, svg.find("</g>", nas_at) - nas_at);
        EXPECT_TRUE(tags_of_class(nas, "down").empty()) << nas;
        EXPECT_FALSE(tags_of_class(nas, "up").empty()) << nas;
        // The router's row carries the DNS and the DHCP outage, in time order.
        auto router_at = svg.find("data-server-ip=\"192.168.100.1\"");
        ASSERT_NE(router_at, std::string::npos);
        std::string router = svg.substr(router_at, svg.find("</g>", router_at) - router_at);
        auto router_labels = tags_of_class(router, "outage-span");
        ASSERT_EQ(router_labels.size(), 2u) << router;
        EXPECT_EQ(attribute(router_labels[0], "data-kind"), "dns-not-answering");
        EXPECT_EQ(attribute(router_labels[1], "data-kind"), "dhcp-not-answering");
        // The legend in the report's language.
        EXPECT_NE(svg.find(lang == "ja" ? "応答なし（停止）" : "not answering (outage)"),
                  std::string::npos);
    }
}

}  // namespace
}  // namespace clinicwatch
