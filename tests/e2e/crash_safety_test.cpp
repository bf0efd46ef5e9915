// Crash safety: clinicwatch is killed with SIGKILL (what the OOM killer, a watchdog or a pulled
// plug does to the process: no handler runs, no flush, no clean close) 50 times at random
// moments, 25 times during `clinicwatch replay` and 25 times during `clinicwatch run` capturing
// live traffic on a veth pair in a network namespace the test creates. A sensor in a clinic is
// switched off without warning; it must never come back with a corrupt database, lose what it
// had already stored, or refuse to start.
//
// After every kill: PRAGMA integrity_check is "ok" (checked on a copy, so that the recovery the
// check does is not done for the next start); every asset, alert and run stored before is still
// there (an asset's first/last seen never move backwards); every complete line of the JSON-lines
// event log is one JSON object; and the next start on the same database works: it records its
// run and stores again (checked by the following kills), and a final complete replay, or a final
// live run stopped with SIGTERM, exits 0 with every device stored.
//
// Kill moments come from a seeded RNG (the moments are reproducible; where they land still
// depends on the machine's speed, so every kill is classified afterwards and printed):
// - "new sensor": a fresh database, killed after its first few writes, while the file is being
//   created and the schema migrated;
// - "timed": a random delay after the start, from 0 (start-up: configuration, rules, opening
//   the database and the capture) to the length of a whole replay, or for live runs to the time
//   the last start took until it stored (half of them within the first 50 ms);
// - "on write": after a random number of writes to the database files (inotify), so the kill
//   lands inside a transaction commit or a WAL checkpoint while 1,000-2,000 devices are being
//   written every 100 ms;
// - "while storing" (live only): once the new run is recorded and has stored fresh data.
//
// SIGKILL kills the process, not the machine: data the kernel already has survives. The
// database uses WAL with synchronous=NORMAL, which SQLite documents as safe against corruption
// on a power cut too (the last transactions may be lost, the file stays consistent).
//
// The live half needs root, iproute2 and tcpreplay, and skips with the reason otherwise. Both
// together take about 30-50 s in the debug build.
#include <SQLiteCpp/SQLiteCpp.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <signal.h>
#include <sys/inotify.h>
#include <unistd.h>

#include <array>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <random>
#include <set>
#include <thread>

#include <nlohmann/json.hpp>

#include "daemon/sanitized_build.hpp"
#include "daemon/store/store.hpp"
#include "tests/analyzers/frame_builder.hpp"
#include "tests/support/live_support.hpp"
#include "tests/support/process.hpp"
#include "tests/support/test_support.hpp"

using namespace clinicwatch::test;
using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

namespace {

// 50 kills in the release tree. Under the sanitizers every start and replay is several times
// slower and the kill points are the same code: 8 of each there keep ASan watching those paths
// without taking ten minutes of CI.
#ifdef CLINICWATCH_ASAN_BUILD
constexpr int kReplayKills = 8;
constexpr int kLiveKills = 8;
#else
constexpr int kReplayKills = 25;
constexpr int kLiveKills = 25;
#endif
// arp_reply_frame_wide's devices.
constexpr const char* kTestMacPrefix = "00:00:5e:01:";

// What the database holds; read after each kill and compared with what it held before.
struct Stored {
    bool exists = false;
    int schema = 0;                                                       // PRAGMA user_version
    std::map<std::string, std::pair<std::int64_t, std::int64_t>> assets;  // first, last seen
    std::set<std::string> alert_keys;
    std::int64_t runs = 0;
    std::int64_t last_seen = 0;  // newest packet time stored for any asset
    // Frames counted by the run that last wrote each asset: changes with every write of assets,
    // also when a replay of the same file brings no newer packet time.
    std::int64_t frames = 0;
    std::size_t test_devices = 0;  // assets with kTestMacPrefix (the veths add their own)
    // What each asset's row says it is: names and addresses ("value/source"), services, OS.
    struct Facts {
        std::set<std::string> names, addresses, services;
        std::string os_family;
    };
    std::map<std::string, Facts> facts;
};

std::set<std::string> observed_values(const std::string& json) {
    std::set<std::string> out;
    for (const auto& o : nlohmann::json::parse(json))
        out.insert(o["value"].get<std::string>() + "/" + o["source"].get<std::string>());
    return out;
}

bool has_table(SQLite::Database& d, const std::string& table) {
    SQLite::Statement st(d, "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?");
    st.bind(1, table);
    return st.executeStep();
}

// Checks the database's integrity and reads it into `out`. Returns the problem, or "".
// A kill can leave a hot rollback journal (while a new database switches to WAL) or a WAL
// whose index must be rebuilt: the next writer recovers those, a read-only connection cannot.
// So the check runs on a copy of the files opened read-write, which recovers exactly as the
// next start will, and leaves the original for that next start.
std::string read_stored(const std::string& db, Stored& out) {
    out = Stored{};
    if (!std::filesystem::exists(db)) return "";
    out.exists = true;
    auto check_dir = std::filesystem::path(db).parent_path() / "check";
    std::filesystem::create_directories(check_dir);
    std::string copy = (check_dir / std::filesystem::path(db).filename()).string();
    for (const char* suffix : {"", "-wal", "-journal", "-shm"}) {
        std::filesystem::remove(copy + suffix);
        if (std::string(suffix) != "-shm" && std::filesystem::exists(db + suffix))
            std::filesystem::copy_file(db + suffix, copy + suffix);
    }
    try {
        SQLite::Database d(copy, SQLite::OPEN_READWRITE);
        std::string integrity;
        SQLite::Statement check(d, "PRAGMA integrity_check");
        while (check.executeStep()) integrity += check.getColumn(0).getString() + "\n";
        if (integrity != "ok\n") return "integrity_check: " + integrity;
        out.schema = d.execAndGet("PRAGMA user_version").getInt();
        if (has_table(d, "assets")) {
            SQLite::Statement st(d,
                                 "SELECT mac, vlan, first_seen, last_seen, frames, names, "
                                 "addresses, services, os_family FROM assets");
            while (st.executeStep()) {
                std::string mac = st.getColumn(0).getString();
                std::string asset = mac + "/" + st.getColumn(1).getString();
                out.assets[asset] = {st.getColumn(2).getInt64(), st.getColumn(3).getInt64()};
                Stored::Facts& f = out.facts[asset];
                f.names = observed_values(st.getColumn(5).getString());
                f.addresses = observed_values(st.getColumn(6).getString());
                for (const auto& port : nlohmann::json::parse(st.getColumn(7).getString()))
                    f.services.insert(port.dump());
                f.os_family = st.getColumn(8).getString();
                out.last_seen = std::max(out.last_seen, st.getColumn(3).getInt64());
                out.frames += st.getColumn(4).getInt64();
                if (mac.rfind(kTestMacPrefix, 0) == 0) ++out.test_devices;
            }
        }
        if (has_table(d, "alerts")) {
            SQLite::Statement st(d, "SELECT key FROM alerts");
            while (st.executeStep()) out.alert_keys.insert(st.getColumn(0).getString());
        }
        if (has_table(d, "runs")) out.runs = d.execAndGet("SELECT count(*) FROM runs").getInt64();
    } catch (const std::exception& e) {
        return std::string("cannot read the database: ") + e.what();
    }
    return "";
}

// What was stored before and is missing (or went backwards) now; "" when nothing.
std::string lost(const Stored& before, const Stored& now) {
    std::string problems;
    if (before.exists && !now.exists) return "the database is gone\n";
    if (now.schema < before.schema)
        problems += "schema version went from " + std::to_string(before.schema) + " to " +
                    std::to_string(now.schema) + "\n";
    for (const auto& [asset, seen] : before.assets) {
        auto it = now.assets.find(asset);
        if (it == now.assets.end())
            problems += "asset " + asset + " lost\n";
        else if (it->second.first > seen.first || it->second.second < seen.second)
            problems += "asset " + asset + " first/last seen went backwards\n";
    }
    // Facts merge, never vanish: a restart may add names, addresses and services, not lose one
    // (the test's devices have far fewer than the per-device caps), nor an OS verdict.
    for (const auto& [asset, was] : before.facts) {
        auto it = now.facts.find(asset);
        if (it == now.facts.end()) continue;  // reported above
        const Stored::Facts& f = it->second;
        const std::string& id = asset;  // clang 14 cannot capture a structured binding
        auto check = [&](const std::set<std::string>& old, const std::set<std::string>& cur,
                         const char* what) {
            for (const auto& v : old)
                if (!cur.count(v)) problems += "asset " + id + " lost " + what + " " + v + "\n";
        };
        check(was.names, f.names, "name");
        check(was.addresses, f.addresses, "address");
        check(was.services, f.services, "service");
        if (!was.os_family.empty() && f.os_family.empty())
            problems += "asset " + asset + " lost its OS verdict " + was.os_family + "\n";
    }
    for (const auto& key : before.alert_keys)
        if (!now.alert_keys.count(key)) problems += "alert " + key + " lost\n";
    if (now.runs < before.runs) problems += "runs were lost\n";
    return problems;
}

// Where a kill landed, judged from what the database holds afterwards.
std::string landed(const Stored& before, const Stored& now) {
    if (!now.exists) return "before the database existed";
    if (now.schema < clinicwatch::Store::kSchemaVersion) return "while creating the schema";
    if (now.runs == before.runs) return "during start-up";
    if (now.last_seen == before.last_seen && now.frames == before.frames)
        return "after the run was recorded, before its first write committed";
    return "while capturing and storing";
}

// Counts writes (and creations) of the database's files: `name`, `name`-wal, -shm, -journal.
// Writes through the shared-memory mapping are not seen; inotify merges identical events that
// are not read yet, so this counts bursts of writes rather than single pwrite calls.
class WriteWatch {
  public:
    WriteWatch(const std::filesystem::path& dir, std::string name) : name_(std::move(name)) {
        fd_ = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
        if (fd_ >= 0) inotify_add_watch(fd_, dir.c_str(), IN_CREATE | IN_MODIFY);
    }
    ~WriteWatch() {
        if (fd_ >= 0) close(fd_);
    }
    WriteWatch(const WriteWatch&) = delete;
    WriteWatch& operator=(const WriteWatch&) = delete;

    // Waits up to `timeout` for events; returns the number of writes seen so far.
    int poll_writes(std::chrono::milliseconds timeout) {
        pollfd p{fd_, POLLIN, 0};
        if (fd_ < 0 || ::poll(&p, 1, static_cast<int>(timeout.count())) <= 0) return writes_;
        alignas(inotify_event) std::array<char, 8192> buf;
        for (;;) {
            ssize_t n = ::read(fd_, buf.data(), buf.size());
            if (n <= 0) break;
            for (ssize_t off = 0; off < n;) {
                const auto* ev = reinterpret_cast<const inotify_event*>(buf.data() + off);
                if (ev->len > 0 && std::string(ev->name).rfind(name_, 0) == 0) ++writes_;
                off += static_cast<ssize_t>(sizeof(inotify_event) + ev->len);
            }
        }
        return writes_;
    }

  private:
    std::string name_;
    int fd_ = -1;
    int writes_ = 0;
};

enum class Trigger { new_sensor, timed, on_write, while_storing };

const char* trigger_name(Trigger t) {
    switch (t) {
        case Trigger::new_sensor:
            return "new sensor";
        case Trigger::timed:
            return "timed";
        case Trigger::on_write:
            return "on write";
        case Trigger::while_storing:
            return "while storing";
    }
    return "";
}

struct Moment {
    Trigger trigger = Trigger::timed;
    std::chrono::milliseconds delay{0};  // timed, while storing (after the fresh data)
    int writes = 0;                      // new sensor, on write
    std::string describe() const {
        std::string s = trigger_name(trigger);
        if (trigger == Trigger::new_sensor || trigger == Trigger::on_write)
            return s + " (after " + std::to_string(writes) + " writes)";
        return s + " (+" + std::to_string(delay.count()) + " ms)";
    }
};

std::optional<int> poll_exit(Child& child) {
    return child.wait(0ms);
}

// Polls until the daemon has recorded a run beyond `runs_before` and stored an asset seen after
// `last_seen_before` (packet time): the restarted daemon is capturing and storing.
bool wait_until_storing(const std::string& db, std::int64_t runs_before,
                        std::int64_t last_seen_before, Child& child,
                        std::chrono::milliseconds timeout) {
    auto deadline = Clock::now() + timeout;
    while (Clock::now() < deadline) {
        try {
            SQLite::Database d(db, SQLite::OPEN_READONLY);
            if (d.execAndGet("SELECT count(*) FROM runs").getInt64() > runs_before &&
                d.execAndGet("SELECT coalesce(max(last_seen), 0) FROM assets").getInt64() >
                    last_seen_before)
                return true;
        } catch (const std::exception&) {
        }
        if (child.wait(0ms).has_value()) return false;  // exited (the caller prints its log)
        std::this_thread::sleep_for(20ms);
    }
    return false;
}

// Tallies where the kills landed and prints them at the end of a test.
struct Tally {
    std::map<std::string, int> where;
    int kills = 0;
    void print(const std::string& what) const {
        std::cout << "[ crash    ] " << kills << " kills during " << what << ":";
        for (const auto& [place, n] : where) std::cout << " " << n << " " << place << ";";
        std::cout << std::endl;
    }
};

// How many starts found an event half-written by the killed process and cut it (their logs
// say so): shows the kills exercised that repair.
void print_event_log_repairs(const TempDir& dir) {
    int starts = 0;
    for (const auto& entry : std::filesystem::directory_iterator(dir.path()))
        if (entry.path().extension() == ".log" &&
            read_file(entry.path().string()).find("removed an unfinished last line") !=
                std::string::npos)
            ++starts;
    std::cout << "[ crash    ] " << starts << " starts cut an event line left unfinished by a kill"
              << std::endl;
}

std::string write_config(const TempDir& dir) {
    // Findings written every 100 ms (the shortest allowed is 50): more time spent inside
    // transactions, so more kills land in one. The JSON-lines event log is on too: it is
    // written after each commit, and a kill must not garble it either.
    std::string path = (dir / "crash.yaml").string();
    std::ofstream(path) << "store:\n  flush_interval_ms: 50\n"
                        << "export:\n  events_path: " << (dir / "events.jsonl").string()
                        << "\n  max_megabytes: 1000\n";
    return path;
}

// Lines of the event log that are not one JSON object each. A kill may leave the last line
// unfinished (no newline yet): the next start must cut it, not append to it. Reads only what
// was added since the last call (the log grows by ~1,000 events a run).
class EventLogCheck {
  public:
    explicit EventLogCheck(std::filesystem::path path) : path_(std::move(path)) {}
    std::string broken(bool allow_unfinished) {
        std::ifstream in(path_, std::ios::binary);
        in.seekg(static_cast<std::streamoff>(checked_));
        std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
        std::string problems;
        std::size_t start = 0;
        for (std::size_t end; (end = text.find('\n', start)) != std::string::npos;
             start = end + 1) {
            std::string line = text.substr(start, end - start);
            if (line.empty() || line.front() != '{' || !nlohmann::json::accept(line))
                problems += "at byte " + std::to_string(checked_ + start) + ": " +
                            line.substr(0, 300) + "\n";
        }
        checked_ += start;  // an unfinished line is looked at again next time
        if (start < text.size() && !allow_unfinished)
            problems += "unfinished last line: " + text.substr(start, 300) + "\n";
        return problems;
    }

  private:
    std::filesystem::path path_;
    std::size_t checked_ = 0;
};

// Device `host` of arp_reply_frame_wide says more about itself: its DHCP host name and vendor
// class (a name, and Windows evidence for an OS verdict) and a SYN-ACK from port 445 (a
// service), so that lost() compares real facts, not empty lists.
void write_device_facts(PcapWriter& w, std::int64_t& ts, std::uint16_t host) {
    char mac[18], ip[16];
    std::snprintf(mac, sizeof mac, "00:00:5e:01:%02x:%02x", host >> 8, host & 0xff);
    std::snprintf(ip, sizeof ip, "10.77.%d.%d", host >> 8, host & 0xff);
    std::string name = "PC-" + std::to_string(host);
    Frame request = dhcp_message(1, mac, "0.0.0.0",
                                 {{53, {3}}, {12, text_bytes(name)}, {60, text_bytes("MSFT 5.0")}});
    w.write(ts += 100,
            udp("ff:ff:ff:ff:ff:ff", mac, "0.0.0.0", "255.255.255.255", 68, 67, request));
    w.write(ts += 100, tcp("00:00:5e:00:53:01", mac, ip, "10.77.0.1", 445, 50000, 0x12));
}

void write_wide_capture(const std::string& path, int hosts, int frames) {
    PcapWriter w(path);
    std::int64_t ts = 1'795'129'200'000'000;
    for (int i = 0; i < frames; ++i) {
        auto host = static_cast<std::uint16_t>(1 + i % hosts);
        w.write(ts += 100, arp_reply_frame_wide(host));
        if (i < hosts) write_device_facts(w, ts, host);
    }
}

// Devices whose stored row has a name, a service and an OS verdict.
std::size_t devices_with_facts(const Stored& s) {
    std::size_t n = 0;
    for (const auto& [asset, f] : s.facts)
        n += !f.names.empty() && !f.services.empty() && !f.os_family.empty();
    return n;
}

}  // namespace

TEST(CrashSafety, KillNineDuringReplaysNeverCorruptsOrLosesData) {
    TempDir dir;
    constexpr int kHosts = 1000;
    std::string pcap = (dir / "busy.pcap").string(), db = (dir / "crash.db").string(),
                config = write_config(dir);
    // Long enough that many kills land while storing: replays got faster, and a short one is
    // mostly start-up. ASan replays are several times slower, so a quarter of the frames does.
    write_wide_capture(pcap, kHosts, kSanitizedBuild ? 100'000 : 400'000);
    auto replay_argv = [&](const std::string& database) {
        return std::vector<std::string>{CLINICWATCH_BINARY, "replay",        pcap,       "--db",
                                        database,           "--no-progress", "--config", config};
    };

    // A complete replay into a scratch database: how long one takes here, and how many writes.
    std::chrono::milliseconds whole{0};
    int whole_writes = 0;
    {
        WriteWatch watch(dir.path(), "scratch.db");
        auto started = Clock::now();
        Child calibrate(replay_argv((dir / "scratch.db").string()), (dir / "scratch.log").string());
        std::optional<int> code;
        while (!(code = poll_exit(calibrate)) && Clock::now() - started < 120s)
            watch.poll_writes(10ms);
        whole = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - started);
        whole_writes = watch.poll_writes(0ms);
        ASSERT_EQ(code, 0) << read_file((dir / "scratch.log").string());
        std::cout << "[ crash    ] a whole replay: " << whole.count() << " ms, " << whole_writes
                  << " writes" << std::endl;
    }

    std::mt19937 rng(20261124);
    EventLogCheck events(dir / "events.jsonl");
    Stored before;
    Tally tally;
    int attempts = 0;
    while (tally.kills < kReplayKills) {
        ASSERT_LT(++attempts, kReplayKills * 3) << "too many replays ended before their kill";
        Moment m;
        if (tally.kills % 8 == 0) {
            m.trigger = Trigger::new_sensor;
            m.writes = std::uniform_int_distribution<int>(1, 6)(rng);
        } else if (rng() % 2) {
            m.trigger = Trigger::timed;
            m.delay = std::chrono::milliseconds(
                std::uniform_int_distribution<std::int64_t>(0, whole.count())(rng));
        } else {
            m.trigger = Trigger::on_write;
            m.writes = std::uniform_int_distribution<int>(1, std::max(1, whole_writes - 1))(rng);
        }
        if (m.trigger == Trigger::new_sensor) {
            for (const char* suffix : {"", "-wal", "-shm", "-journal"})
                std::filesystem::remove(db + suffix);
            before = Stored{};
        }
        std::string log = (dir / ("replay-" + std::to_string(attempts) + ".log")).string();
        WriteWatch watch(dir.path(), "crash.db");
        auto started = Clock::now();
        Child replay(replay_argv(db), log);
        std::optional<int> code;
        if (m.trigger == Trigger::timed) {
            while (!(code = poll_exit(replay)) && Clock::now() - started < m.delay)
                std::this_thread::sleep_for(1ms);
        } else {
            while (!(code = poll_exit(replay)) && watch.poll_writes(5ms) < m.writes &&
                   Clock::now() - started < 60s) {
            }
        }
        if (!code) {
            replay.signal(SIGKILL);
            code = replay.wait(10s);
        }
        ASSERT_TRUE(code.has_value()) << "replay did not die";
        // Finished before the kill: fine, but not a kill. Anything else is a failed start.
        ASSERT_TRUE(*code == -SIGKILL || *code == 0)
            << "replay exited with " << *code << " after " << tally.kills << " kills\n"
            << read_file(log);
        if (*code == 0) {  // the machine is faster now than at the calibration: aim earlier
            whole = std::min(whole, std::chrono::duration_cast<std::chrono::milliseconds>(
                                        (Clock::now() - started) * 9 / 10));
            whole_writes = std::min(whole_writes, watch.poll_writes(0ms) * 9 / 10);
        }
        Stored now;
        std::string problem = read_stored(db, now);
        ASSERT_EQ(problem, "") << "after kill " << tally.kills << ", " << m.describe();
        ASSERT_EQ(lost(before, now), "") << "after kill " << tally.kills << ", " << m.describe();
        ASSERT_EQ(events.broken(true), "") << "after kill " << tally.kills << ", " << m.describe();
        if (*code == -SIGKILL) {
            std::string where = landed(before, now);
            std::cout << "[ crash    ] replay kill " << tally.kills + 1 << ", " << m.describe()
                      << ": " << where << ", " << now.assets.size() << " assets" << std::endl;
            ++tally.where[where];
            ++tally.kills;
        }
        before = now;
    }
    tally.print("replays");
    print_event_log_repairs(dir);
    EXPECT_GE(tally.where["while capturing and storing"], 1);
    EXPECT_GE(tally.kills - tally.where["while capturing and storing"], 1);

    // The next start resumes: a complete replay on the same database has everything.
    std::string log = (dir / "last.log").string();
    Child last(replay_argv(db), log);
    auto code = last.wait(120s);
    ASSERT_TRUE(code.has_value());
    EXPECT_EQ(*code, 0) << read_file(log);
    Stored now;
    ASSERT_EQ(read_stored(db, now), "");
    EXPECT_EQ(lost(before, now), "");
    EXPECT_EQ(events.broken(false), "");
    EXPECT_EQ(now.test_devices, static_cast<std::size_t>(kHosts));
    // The facts lost() compared were there to lose.
    EXPECT_EQ(devices_with_facts(now), static_cast<std::size_t>(kHosts));
}

TEST(CrashSafety, KillNineDuringLiveRunsNeverCorruptsOrLosesData) {
    if (auto why = live_skip_reason(); !why.empty()) GTEST_SKIP() << why;
    Namespace ns("crash");
    if (auto why = ns.create(); !why.empty()) GTEST_SKIP() << why;
    TempDir dir;
    constexpr int kHosts = 2000;
    std::string pcap = (dir / "hosts.pcap").string(), db = (dir / "crash.db").string(),
                config = write_config(dir);
    write_wide_capture(pcap, kHosts, kHosts);
    // Traffic all along, restarts included: every device every 0.2 s. The nanosleep timer and
    // bursts of 100 keep tcpreplay from spinning a core.
    Child traffic({"ip", "netns", "exec", ns.name(), "tcpreplay", "-q", "-i", "cwb", "--loop", "0",
                   "--pps", "10000", "--pps-multi", "100", "-T", "nano", pcap},
                  (dir / "tcpreplay.log").string());
    auto daemon_argv = std::vector<std::string>{
        "ip",          "netns", "exec", ns.name(), CLINICWATCH_BINARY, "run",
        "--interface", "cwa",   "--db", db,        "--config",         config};

    std::mt19937 rng(20261125);
    EventLogCheck events(dir / "events.jsonl");
    Stored before;
    Tally tally;
    std::chrono::milliseconds start_up = 300ms;  // until the run is recorded; measured below
    for (int kill = 0; kill < kLiveKills; ++kill) {
        Moment m;
        if (kill == 0) {
            m.trigger = Trigger::new_sensor;
            m.writes = std::uniform_int_distribution<int>(1, 6)(rng);
        } else {
            switch (rng() % 3) {
                case 0:
                    // Half of them in the first 50 ms (opening the capture and the database).
                    m.trigger = Trigger::timed;
                    m.delay = std::chrono::milliseconds(std::uniform_int_distribution<std::int64_t>(
                        0, rng() % 2 ? 50 : start_up.count())(rng));
                    break;
                case 1:
                    // A handful of writes at start-up, then 100-200 each time findings are
                    // written (every 100 ms): from start-up to about the fifth write.
                    m.trigger = Trigger::on_write;
                    m.writes = std::uniform_int_distribution<int>(1, 800)(rng);
                    break;
                default:
                    m.trigger = Trigger::while_storing;
                    m.delay =
                        std::chrono::milliseconds(std::uniform_int_distribution<int>(0, 500)(rng));
            }
        }
        ASSERT_FALSE(poll_exit(traffic).has_value()) << read_file((dir / "tcpreplay.log").string());
        std::string log = (dir / ("daemon-" + std::to_string(kill) + ".log")).string();
        WriteWatch watch(dir.path(), "crash.db");
        auto started = Clock::now();
        Child daemon(daemon_argv, log);
        std::optional<int> code;
        switch (m.trigger) {
            case Trigger::timed:
                while (!(code = poll_exit(daemon)) && Clock::now() - started < m.delay)
                    std::this_thread::sleep_for(1ms);
                break;
            case Trigger::new_sensor:
            case Trigger::on_write:
                while (!(code = poll_exit(daemon)) && watch.poll_writes(5ms) < m.writes &&
                       Clock::now() - started < 30s) {
                }
                break;
            case Trigger::while_storing:
                ASSERT_TRUE(wait_until_storing(db, before.runs, before.last_seen, daemon, 30s))
                    << "the restarted daemon did not record a run and store new data\n"
                    << read_file(log);
                start_up =
                    std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - started);
                std::this_thread::sleep_for(m.delay);
                code = poll_exit(daemon);
                break;
        }
        ASSERT_FALSE(code.has_value())
            << "the daemon exited by itself with " << *code << " after " << kill << " kills\n"
            << read_file(log);
        daemon.signal(SIGKILL);
        code = daemon.wait(10s);
        ASSERT_EQ(code, -SIGKILL) << read_file(log);
        Stored now;
        ASSERT_EQ(read_stored(db, now), "") << "after kill " << kill << ", " << m.describe();
        ASSERT_EQ(lost(before, now), "") << "after kill " << kill << ", " << m.describe();
        ASSERT_EQ(events.broken(true), "") << "after kill " << kill << ", " << m.describe();
        if (m.trigger == Trigger::while_storing) {
            EXPECT_EQ(now.runs, before.runs + 1) << "the restart did not record exactly one run";
        }
        std::string where = landed(before, now);
        std::cout << "[ crash    ] live kill " << kill + 1 << ", " << m.describe() << ": " << where
                  << ", " << now.assets.size() << " assets, " << now.runs << " runs" << std::endl;
        ++tally.where[where];
        ++tally.kills;
        before = now;
    }
    tally.print("live runs");
    print_event_log_repairs(dir);
    EXPECT_GE(tally.where["while capturing and storing"], 1);
    EXPECT_GE(tally.kills - tally.where["while capturing and storing"], 1);

    // The next start resumes: same database, a new run, capturing and storing every device;
    // SIGTERM stops it cleanly.
    std::string log = (dir / "daemon-last.log").string();
    Child daemon(daemon_argv, log);
    ASSERT_TRUE(wait_until_storing(db, before.runs, before.last_seen, daemon, 30s))
        << read_file(log);
    auto deadline = Clock::now() + 20s;
    Stored now;
    while (Clock::now() < deadline) {
        ASSERT_EQ(read_stored(db, now), "");
        if (now.test_devices >= static_cast<std::size_t>(kHosts)) break;
        std::this_thread::sleep_for(100ms);
    }
    daemon.signal(SIGTERM);
    auto code = daemon.wait(20s);
    ASSERT_TRUE(code.has_value()) << "clinicwatch did not exit within 20 s of SIGTERM";
    EXPECT_EQ(*code, 0) << read_file(log);
    ASSERT_EQ(read_stored(db, now), "");
    EXPECT_EQ(lost(before, now), "");
    EXPECT_EQ(events.broken(false), "");
    EXPECT_EQ(now.test_devices, static_cast<std::size_t>(kHosts));
    EXPECT_EQ(devices_with_facts(now), static_cast<std::size_t>(kHosts));
    EXPECT_EQ(now.runs, before.runs + 1);
    SQLite::Database d(db, SQLite::OPEN_READONLY);
    SQLite::Statement run(d, "SELECT outcome, packets, ended_wall FROM runs ORDER BY id DESC");
    ASSERT_TRUE(run.executeStep());
    EXPECT_EQ(run.getColumn(0).getString(), "ok");
    EXPECT_GT(run.getColumn(1).getInt64(), 0);
    EXPECT_FALSE(run.getColumn(2).isNull());
}
