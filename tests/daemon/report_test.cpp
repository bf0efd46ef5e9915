// The discovered-asset report end to end: the CLI writes HTML, CSV and JSON from a database the
// test fills; independent readers (html5lib, Python's csv, headless Chromium) check them.
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "daemon/report/ledger.hpp"
#include "daemon/report/report.hpp"
#include "daemon/report/template.hpp"
#include "tests/daemon/clinic_fixture.hpp"

using namespace clinicwatch;
using namespace clinicwatch::test;

namespace {

std::string slurp(const std::filesystem::path& p) {
    std::ifstream in(p, std::ios::binary);
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
}

std::string cli(const std::string& args, int* rc = nullptr) {
    std::string out;
    int code =
        run_command(std::string("TZ=Asia/Tokyo CLINICWATCH_TEMPLATES=") + CLINICWATCH_SOURCE_DIR +
                        "/daemon/report/templates " + CLINICWATCH_BINARY + " " + args,
                    &out);
    if (rc) *rc = code;
    return out;
}

nlohmann::json check(const std::string& kind, const std::filesystem::path& file) {
    std::string out;
    int rc = run_command(std::string(kDebianPython) + " " + CLINICWATCH_SOURCE_DIR +
                             "/tests/daemon/report_checks.py " + kind + " " + file.string(),
                         &out);
    EXPECT_EQ(rc, 0) << out;
    return nlohmann::json::parse(out, nullptr, false);
}

bool have_python_module(const char* module) {
    return run_command(std::string(kDebianPython) + " -c 'import " + module + "'") == 0;
}

}  // namespace

TEST(Report, HtmlIsValidSelfContainedAndListsEveryAsset) {
    if (!have_python_module("html5lib")) GTEST_SKIP() << "python3-html5lib is not installed";
    TempDir dir;
    fill_clinic_db(dir / "c.db", true);
    int rc = 0;
    std::string out =
        cli("report --db " + (dir / "c.db").string() + " --out " + (dir / "r.html").string(), &rc);
    ASSERT_EQ(rc, 0) << out;
    std::string html = slurp(dir / "r.html");
    // Self-contained: nothing fetched from elsewhere.
    EXPECT_EQ(html.find("src="), std::string::npos);
    EXPECT_EQ(html.find("href="), std::string::npos);
    EXPECT_EQ(html.find("url("), std::string::npos);
    EXPECT_NE(html.find("@page { size: A4"), std::string::npos);
    // The hostile host name is escaped, never markup.
    EXPECT_EQ(html.find("unknown<b>"), std::string::npos);
    EXPECT_NE(html.find("unknown&lt;b&gt;&amp;&quot;x&quot;"), std::string::npos);

    auto parsed = check("html", dir / "r.html");
    ASSERT_TRUE(parsed.is_object());
    EXPECT_TRUE(parsed["errors"].empty()) << parsed["errors"].dump();
    EXPECT_EQ(parsed["svg"], 1);
    EXPECT_EQ(parsed["asset_rows"].get<int>(), static_cast<int>(fixture_assets().size()));
    std::string text = parsed["text"];
    for (const auto& a : fixture_assets()) {
        EXPECT_NE(text.find(a.mac), std::string::npos) << a.mac;
        EXPECT_NE(text.find(a.host), std::string::npos) << a.host;
        if (!a.register_name.empty()) {
            EXPECT_NE(text.find(a.register_name), std::string::npos) << a.register_name;
            EXPECT_NE(text.find("担当: " + a.responsible), std::string::npos) << a.responsible;
        }
    }
    EXPECT_NE(text.find("サポート終了"), std::string::npos);  // Windows 7, EOS 2020
    // The remote-access alert is shown by its incident's text, never the analyzer's English
    // summary.
    auto ja = load_messages(CLINICWATCH_SOURCE_DIR "/daemon/report/templates", "ja");
    EXPECT_NE(text.find(ja["kinds"]["remote-access"]["title"].get<std::string>()),
              std::string::npos);
    EXPECT_EQ(text.find("relay-1.net.anydesk.com"), std::string::npos);
    EXPECT_NE(text.find("2-①"), std::string::npos);                             // checklist mapping
    EXPECT_NE(text.find("その他の通知（quantum-tunnel）"), std::string::npos);  // unknown kind
}

TEST(Report, RendersInHeadlessChromium) {
    if (run_command("command -v chromium") != 0)
        GTEST_SKIP() << "chromium is not installed (Debian package chromium)";
    TempDir dir;
    fill_clinic_db(dir / "c.db", true);
    // Japanese needs a Japanese font (fonts-ipafont-gothic, installed with --tests), or the
    // text renders as boxes; the render itself must succeed either way.
    for (std::string lang : {"en", "ja"}) {
        int rc = 0;
        auto html = dir / ("r." + lang + ".html");
        std::string out = cli("report --lang " + lang + " --db " + (dir / "c.db").string() +
                                  " --out " + html.string(),
                              &rc);
        ASSERT_EQ(rc, 0) << out;
        auto png = dir / ("r." + lang + ".png");
        rc = run_command(
            "timeout 120 chromium --headless --no-sandbox --disable-gpu "
            "--user-data-dir=" +
                (dir / "profile").string() +
                " --enable-logging=stderr --v=0 --window-size=1240,1754 --screenshot=" +
                png.string() + " file://" + html.string(),
            &out);
        ASSERT_EQ(rc, 0) << out;
        ASSERT_TRUE(std::filesystem::exists(png)) << out;
        std::string bytes = slurp(png);
        ASSERT_GT(bytes.size(), 1000u);
        EXPECT_EQ(bytes.substr(0, 8), std::string("\x89PNG\r\n\x1a\n", 8));
        // With --enable-logging Chromium prints every page error (a bad SVG attribute, a
        // script error, a blocked resource) as an "INFO:CONSOLE" line; the D-Bus and GPU
        // warnings of a container are not about the page.
        EXPECT_EQ(out.find("CONSOLE"), std::string::npos) << lang << ": " << out;
    }
}

TEST(Report, CsvRoundTripsWithJapaneseNames) {
    TempDir dir;
    fill_clinic_db(dir / "c.db", true);
    int rc = 0;
    std::string out = cli("report --format csv --db " + (dir / "c.db").string() + " --out " +
                              (dir / "r.csv").string(),
                          &rc);
    ASSERT_EQ(rc, 0) << out;
    EXPECT_EQ(slurp(dir / "r.csv").substr(0, 3), "\xEF\xBB\xBF");
    auto parsed = check("csv", dir / "r.csv");
    ASSERT_TRUE(parsed.is_object());
    EXPECT_TRUE(parsed["bom"].get<bool>());
    auto rows = parsed["rows"];
    ASSERT_EQ(rows.size(), fixture_assets().size() + 1);  // header + one row per asset
    EXPECT_EQ(rows[0][0], "担当（責任者）");
    for (const auto& a : fixture_assets()) {
        bool found = false;
        for (const auto& row : rows)
            if (row[4] == a.mac) {
                found = true;
                EXPECT_EQ(row[7], a.host);
                if (!a.register_name.empty()) {
                    EXPECT_EQ(row[1], a.register_name);
                    EXPECT_EQ(row[0], a.responsible);
                }
            }
        EXPECT_TRUE(found) << a.mac;
    }
}

TEST(Report, JsonHasEverything) {
    TempDir dir;
    fill_clinic_db(dir / "c.db", false);
    int rc = 0;
    std::string out = cli("report --format json --lang en --db " + (dir / "c.db").string(), &rc);
    ASSERT_EQ(rc, 0) << out;
    auto j = nlohmann::json::parse(out, nullptr, false);
    ASSERT_TRUE(j.is_object()) << out.substr(0, 400);
    EXPECT_EQ(j["schema"], "clinicwatch-report");
    EXPECT_EQ(j["schema_version"], 2);
    EXPECT_EQ(j["devices"].size(), fixture_assets().size());
    EXPECT_EQ(j["alerts"].size(), 5u);
    EXPECT_EQ(j["capture"]["broadcast_per_minute_peak"], 45000);
    EXPECT_EQ(j["capture"]["capture_drops"], 12);
    EXPECT_FALSE(j["checklist"].empty());
    EXPECT_FALSE(j.contains("chart"));  // chart points are the HTML's business
    // With the register fields empty (nothing registered), they are null, not "(unknown)".
    for (const auto& a : j["devices"]) {
        EXPECT_TRUE(a["register"]["responsible"].is_null());
        EXPECT_TRUE(a["register"]["name"].is_null());
        EXPECT_TRUE(a["os"]["end_of_support"].is_null());
        EXPECT_EQ(a["register"]["registered"], false);
    }
}

TEST(Report, SinceLeavesOutOlderData) {
    TempDir dir;
    fill_clinic_db(dir / "c.db", false);
    int rc = 0;
    // Everything in the fixture ends an hour ago at the latest.
    std::string out = cli("report --format json --since 30m --db " + (dir / "c.db").string(), &rc);
    ASSERT_EQ(rc, 0) << out;
    auto j = nlohmann::json::parse(out, nullptr, false);
    ASSERT_TRUE(j.is_object());
    EXPECT_TRUE(j["devices"].empty());
    EXPECT_TRUE(j["alerts"].empty());
    EXPECT_EQ(j["capture"]["minutes"], 0);
}

TEST(Report, RegisterColumnsAreReadWhenPresent) {
    TempDir dir;
    fill_clinic_db(dir / "c.db", true);
    SQLite::Database db((dir / "c.db").string(), SQLite::OPEN_READONLY);
    auto cols = AssetColumns::detect(db);
    EXPECT_EQ(cols.name, "register_name");
    EXPECT_EQ(cols.responsible, "responsible");
    EXPECT_EQ(cols.eos, "os_support_end");
    auto messages = load_messages(CLINICWATCH_SOURCE_DIR "/daemon/report/templates", "en");
    auto assets = load_assets(db, messages, 0, now_us());
    ASSERT_EQ(assets.size(), fixture_assets().size());
    int past = 0, supported = 0;
    for (const auto& a : assets) {
        past += a["eos_status"] == "past";
        supported += a["eos_status"] == "supported";
        if (a["mac"] == "b8:27:eb:00:00:09") {
            EXPECT_EQ(a["registered"], "no");
        }
        if (a["mac"] == "00:a0:de:12:34:56") {
            EXPECT_EQ(a["registered"], "yes");
        }
    }
    EXPECT_EQ(past, 1);
    EXPECT_EQ(supported, 1);
}

TEST(Report, UnknownKindGetsGenericText) {
    auto messages = load_messages(CLINICWATCH_SOURCE_DIR "/daemon/report/templates", "en");
    auto d = describe_kind(messages, "brand-new-kind");
    EXPECT_EQ(d["title"], "Other alert (brand-new-kind)");
    EXPECT_FALSE(d["action"].get<std::string>().empty());
    auto known = describe_kind(messages, "rogue-dhcp");
    EXPECT_EQ(known["title"], "Unexpected DHCP server");
}

TEST(Report, EveryKnownKindIsDescribedInBothLanguages) {
    const char* kinds[] = {"unregistered-device", "rogue-dhcp",          "ip-conflict",
                           "gateway-mac-change",  "mac-flood",           "l2-loop",
                           "broadcast-storm",     "stp-topology-change", "arp-storm",
                           "legacy-os",           "os-support-ending",   "smb1-in-use",
                           "legacy-tls",          "cleartext-login",     "internet-explorer",
                           "egress-denied",       "remote-access",       "inbound-exposure",
                           "risky-protocol-wan",  "sensor-limit",        "dhcp-flood"};
    for (const char* lang : {"ja", "en"}) {
        auto messages = load_messages(CLINICWATCH_SOURCE_DIR "/daemon/report/templates", lang);
        for (const char* k : kinds) {
            ASSERT_TRUE(messages["kinds"].contains(k)) << lang << " " << k;
            for (const char* field : {"title", "what", "action"})
                EXPECT_FALSE(messages["kinds"][k].value(field, "").empty())
                    << lang << " " << k << " " << field;
        }
    }
}

TEST(Report, TemplateEscapesHtmlButNotText) {
    nlohmann::json model = {{"name", "<b>&"}};
    EXPECT_EQ(render_string("{{name}}", model, Escape::html), "&lt;b&gt;&amp;");
    EXPECT_EQ(render_string("{{name}}", model, Escape::none), "<b>&");
}

// The hooks the other parts of the sensor fill (IPv6, the network map, server availability)
// are shown by both templates as soon as the model carries them (network_summary.hpp).
TEST(Report, NetworkHooksAreRenderedWhenFilled) {
    const std::string templates = CLINICWATCH_SOURCE_DIR "/daemon/report/templates";
    for (const char* lang : {"ja", "en"}) {
        nlohmann::json n = {{"has_ipv6", false}, {"has_map", false}, {"has_availability", false}};
        nlohmann::json model = {{"network", n}};
        std::string name = std::string("report.") + lang + ".html";
        std::string before = render_file(templates, name, model, Escape::html);
        EXPECT_EQ(before.find("2001:db8:1::/64"), std::string::npos);
        n["ipv6"]["prefixes"] = {{{"prefix", "2001:db8:1::/64"}, {"vlan", 0}}};
        n["ipv6"]["routers"] = {{{"address", "fe80::1"}, {"mac", "00:a0:de:7a:1c:30"}}};
        n["has_ipv6"] = true;
        n["map_svg"] = "<svg id=\"network-map\"></svg>";
        n["has_map"] = true;
        n["availability_svg"] = "<svg id=\"availability\"><text>EHR-SRV 99.8%</text></svg>";
        n["has_availability"] = true;
        model["network"] = n;
        std::string html = render_file(templates, name, model, Escape::html);
        EXPECT_NE(html.find("2001:db8:1::/64"), std::string::npos) << lang;
        EXPECT_NE(html.find("fe80::1"), std::string::npos) << lang;
        EXPECT_NE(html.find("<svg id=\"network-map\"></svg>"), std::string::npos) << lang;
        EXPECT_NE(html.find("99.8%"), std::string::npos) << lang;
    }
}
