// A small clinic database for the report and digest tests, filled the way the analyzers and
// the store would fill it, with Japanese names; and a loopback SMTP server (smtp_sink.py).
#pragma once

#include <SQLiteCpp/SQLiteCpp.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <ctime>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "daemon/store/store.hpp"
#include "tests/support/test_support.hpp"

extern char** environ;

namespace clinicwatch::test {

struct FixtureAsset {
    std::string mac, vendor, ip, host, os_family, os_version;
    double confidence;
    std::string register_name, role, responsible, eos;  // used when the columns exist
};

inline const std::vector<FixtureAsset>& fixture_assets() {
    static const std::vector<FixtureAsset> assets = {
        {"00:a0:de:12:34:56", "Yamaha Corporation", "192.168.100.1", "rtx830", "", "", 0,
         "ルーター RTX830", "ルーター", "ネットワーク保守（山田通信）", ""},
        {"00:1b:21:aa:bb:01", "Dell Inc.", "192.168.100.20", "UKETSUKE-PC", "Windows", "7", 0.85,
         "受付PC（レセコン端末）", "受付", "レセコン業者（オルカ販売）", "2020-01-14"},
        {"00:1b:21:aa:bb:02", "Dell Inc.", "192.168.100.21", "shinsatsu-01", "Windows", "11", 0.9,
         "診察室1 電子カルテ端末", "電子カルテ", "電子カルテ業者", "2031-10-14"},
        {"b8:27:eb:00:00:09", "Raspberry Pi Foundation", "192.168.100.99", "unknown<b>&\"x\"", "",
         "", 0, "", "", "", ""},
    };
    return assets;
}

inline std::int64_t now_us() {
    return static_cast<std::int64_t>(std::time(nullptr)) * 1000000;
}

// Fills a fresh database. With `register_columns`, the register and end-of-support columns
// are filled in (devices in the register, OS end of support known); without, they stay empty.
inline void fill_clinic_db(const std::filesystem::path& path, bool register_columns) {
    { Store store(path.string()); }
    SQLite::Database db(path.string(), SQLite::OPEN_READWRITE);
    std::int64_t now = now_us(), hour = 3600LL * 1000000;
    for (const auto& a : fixture_assets()) {
        auto obs = [&](const std::string& v) {
            return nlohmann::json::array({{{"value", v},
                                           {"source", "dhcp"},
                                           {"first_seen", now - 5 * hour},
                                           {"last_seen", now}}})
                .dump();
        };
        SQLite::Statement st(db,
                             "INSERT INTO assets (mac, vendor, addresses, names, services, "
                             "os_family, os_version, os_confidence, first_seen, last_seen, "
                             "frames) VALUES (?,?,?,?,'[445,3389]',?,?,?,?,?,100)");
        st.bind(1, a.mac);
        st.bind(2, a.vendor);
        st.bind(3, obs(a.ip));
        st.bind(4, obs(a.host));
        st.bind(5, a.os_family);
        st.bind(6, a.os_version);
        st.bind(7, a.confidence);
        st.bind(8, now - 5 * hour);
        st.bind(9, now - hour);
        st.exec();
        if (register_columns && !a.register_name.empty()) {
            SQLite::Statement reg(db,
                                  "UPDATE assets SET register_name = ?, role = ?, "
                                  "responsible = ?, os_support_end = ?, registered = 1 "
                                  "WHERE mac = ?");
            reg.bind(1, a.register_name);
            reg.bind(2, a.role);
            reg.bind(3, a.responsible);
            reg.bind(4, a.eos);
            reg.bind(5, a.mac);
            reg.exec();
        }
    }
    // Four hours of minutes with a broadcast burst (a loop) in the middle.
    SQLite::Statement minute(db, "INSERT INTO minute_stats VALUES (?,?,?,?,?,0,?,0,4)");
    for (int i = 0; i < 240; ++i) {
        minute.bind(1, static_cast<std::int64_t>(now - 5 * hour + i * 60LL * 1000000));
        minute.bind(2, 3000 + i);
        minute.bind(3, 900000);
        minute.bind(4, (i >= 100 && i < 110) ? 45000 : 120 + i % 7);
        minute.bind(5, 300);
        minute.bind(6, i == 105 ? 12 : 0);
        minute.exec();
        minute.reset();
    }
    auto alert = [&](const std::string& key, const std::string& kind, int severity, const char* mac,
                     const std::string& summary, std::int64_t first, std::int64_t last,
                     bool ended) {
        SQLite::Statement st(db,
                             "INSERT INTO alerts (key, kind, severity, subject_mac, subject, "
                             "summary, first_seen, last_seen, count, ended_at) VALUES "
                             "(?,?,?,?,?,?,?,?,3,?)");
        st.bind(1, key);
        st.bind(2, kind);
        st.bind(3, severity);
        if (mac)
            st.bind(4, mac);
        else
            st.bind(4);
        st.bind(5, mac ? mac : "LAN");
        st.bind(6, summary);
        st.bind(7, first);
        st.bind(8, last);
        if (ended)
            st.bind(9, last);
        else
            st.bind(9);
        st.exec();
    };
    std::int64_t loop_start = now - 5 * hour + 100 * 60LL * 1000000;
    alert("l2-loop:1", "l2-loop", 4, nullptr, "ループ: 45000 broadcast/min", loop_start,
          loop_start + 10 * 60LL * 1000000, true);
    alert("legacy-os:00:1b:21:aa:bb:01", "legacy-os", 3, "00:1b:21:aa:bb:01",
          "Windows 7 (SMB banner)", now - 5 * hour, now - hour, false);
    alert("remote-access:00:1b:21:aa:bb:02", "remote-access", 2, "00:1b:21:aa:bb:02",
          "AnyDesk to relay-1.net.anydesk.com:6568", now - 3 * hour, now - 2 * hour, false);
    alert("unregistered-device:b8:27:eb:00:00:09", "unregistered-device", 2, "b8:27:eb:00:00:09",
          "未登録の機器 b8:27:eb:00:00:09", now - 2 * hour, now - hour, false);
    alert("quantum-tunnel:1", "quantum-tunnel", 1, nullptr, "a kind nobody described yet",
          now - 2 * hour, now - hour, false);
}

// A free loopback TCP port (bound and released; good enough for a test).
inline int free_port() {
    int s = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = 0;
    ::bind(s, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
    socklen_t len = sizeof addr;
    ::getsockname(s, reinterpret_cast<sockaddr*>(&addr), &len);
    ::close(s);
    return ntohs(addr.sin_port);
}

constexpr const char* kDebianPython = "/usr/bin/python3";

inline bool have_aiosmtpd() {
    return run_command(std::string(kDebianPython) + " -c 'import aiosmtpd'") == 0;
}

// The loopback mail server: STARTTLS required, AUTH user/secret, messages saved as files.
// With `netns`, it runs inside that network namespace (on the namespace's own loopback).
class SmtpSink {
  public:
    SmtpSink(const std::filesystem::path& dir, int port, std::string netns = "")
        : dir_(dir), port_(port), netns_(std::move(netns)) {
        std::filesystem::create_directories(dir_ / "mail");
        if (!std::filesystem::exists(cert()))
            run_command(
                "openssl req -x509 -newkey rsa:2048 -nodes -keyout " + (dir_ / "key.pem").string() +
                " -out " + cert().string() +
                " -days 2 -subj /CN=127.0.0.1 -addext subjectAltName=IP:127.0.0.1 2>/dev/null");
    }
    ~SmtpSink() { stop(); }
    std::filesystem::path cert() const { return dir_ / "cert.pem"; }

    void start() {
        std::filesystem::remove(dir_ / "mail" / "ready");
        std::string script = std::string(CLINICWATCH_SOURCE_DIR) + "/tests/daemon/smtp_sink.py";
        std::string port = std::to_string(port_), mail = (dir_ / "mail").string(),
                    key = (dir_ / "key.pem").string(), crt = cert().string();
        std::vector<char*> argv;
        if (!netns_.empty())
            for (const char* a : {"ip", "netns", "exec", netns_.c_str()})
                argv.push_back(const_cast<char*>(a));
        argv.insert(argv.end(), {const_cast<char*>(kDebianPython), script.data(), port.data(),
                                 mail.data(), crt.data(), key.data(), const_cast<char*>("clinic"),
                                 const_cast<char*>("s3cret"), nullptr});
        // `ip netns exec` execs the command in place: pid_ is the server itself either way.
        posix_spawnp(&pid_, argv[0], nullptr, nullptr, argv.data(), environ);
        for (int i = 0; i < 200 && !std::filesystem::exists(dir_ / "mail" / "ready"); ++i)
            std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    void stop() {
        if (pid_ <= 0) return;
        ::kill(pid_, SIGTERM);
        int status = 0;
        ::waitpid(pid_, &status, 0);
        pid_ = 0;
    }
    bool ready() const { return std::filesystem::exists(dir_ / "mail" / "ready"); }
    std::vector<std::filesystem::path> messages() const {
        std::vector<std::filesystem::path> out;
        for (const auto& e : std::filesystem::directory_iterator(dir_ / "mail"))
            if (e.path().extension() == ".eml") out.push_back(e.path());
        std::sort(out.begin(), out.end());
        return out;
    }

  private:
    std::filesystem::path dir_;
    int port_;
    std::string netns_;
    pid_t pid_ = 0;
};

// A received mail file, parsed by Python's email package (headers decoded, parts split).
// Needs CLINICWATCH_SOURCE_DIR, which every test executable defines.
inline nlohmann::json read_mail(const std::filesystem::path& file) {
    std::string out;
    int rc = run_command(std::string(kDebianPython) + " " + CLINICWATCH_SOURCE_DIR +
                             "/tests/daemon/report_checks.py mail " + file.string(),
                         &out);
    EXPECT_EQ(rc, 0) << out;
    return nlohmann::json::parse(out, nullptr, false);
}

}  // namespace clinicwatch::test
