#include "tests/support/test_support.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cstdio>
#include <functional>
#include <random>
#include <stdexcept>

#include "capture/address.hpp"

namespace clinicwatch::test {

std::vector<std::uint8_t> from_hex(const std::string& hex) {
    std::vector<std::uint8_t> out;
    int high = -1;
    for (char c : hex) {
        int v = clinicwatch::hex_digit_value(c);
        if (v < 0) continue;  // spaces and separators between bytes
        if (high < 0) {
            high = v;
        } else {
            out.push_back(static_cast<std::uint8_t>(high * 16 + v));
            high = -1;
        }
    }
    if (high >= 0) throw std::invalid_argument("odd number of hex digits");
    return out;
}

namespace {
void put32(std::ofstream& o, std::uint32_t v) {
    o.write(reinterpret_cast<const char*>(&v), 4);
}
void put16(std::ofstream& o, std::uint16_t v) {
    o.write(reinterpret_cast<const char*>(&v), 2);
}
}  // namespace

PcapWriter::PcapWriter(const std::filesystem::path& path, std::uint32_t linktype,
                       std::uint32_t snaplen)
    : out_(path, std::ios::binary) {
    if (!out_) throw std::runtime_error("cannot write " + path.string());
    put32(out_, 0xa1b2c3d4);
    put16(out_, 2);
    put16(out_, 4);
    put32(out_, 0);
    put32(out_, 0);
    put32(out_, snaplen);
    put32(out_, linktype);
}

void PcapWriter::write(std::int64_t ts_us, const std::vector<std::uint8_t>& frame,
                       std::uint32_t wire_length) {
    put32(out_, static_cast<std::uint32_t>(ts_us / 1000000));
    put32(out_, static_cast<std::uint32_t>(ts_us % 1000000));
    put32(out_, static_cast<std::uint32_t>(frame.size()));
    put32(out_, wire_length ? wire_length : static_cast<std::uint32_t>(frame.size()));
    out_.write(reinterpret_cast<const char*>(frame.data()),
               static_cast<std::streamsize>(frame.size()));
}

TempDir::TempDir() {
    std::random_device rd;
    auto base = std::filesystem::temp_directory_path();
    for (int i = 0; i < 100; ++i) {
        auto candidate = base / ("clinicwatch-test-" + std::to_string(rd()));
        if (std::filesystem::create_directory(candidate)) {
            path_ = candidate;
            return;
        }
    }
    throw std::runtime_error("cannot create a temporary directory");
}

TempDir::~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
}

std::optional<std::filesystem::path> shared_dir() {
    std::filesystem::path dir = CLINICWATCH_SHARED_DIR;
    if (std::filesystem::is_directory(dir / "pcaps")) return dir;
    return std::nullopt;
}

std::optional<std::filesystem::path> shared_pcap(const std::string& name) {
    auto dir = shared_dir();
    if (!dir) return std::nullopt;
    auto p = *dir / "pcaps" / name;
    if (!std::filesystem::exists(p)) return std::nullopt;
    return p;
}

int run_command(const std::string& command, std::string* output) {
    FILE* pipe = ::popen((command + " 2>&1").c_str(), "r");
    if (!pipe) return -1;
    std::array<char, 4096> buf;
    std::string collected;
    std::size_t n;
    while ((n = std::fread(buf.data(), 1, buf.size(), pipe)) > 0) collected.append(buf.data(), n);
    int status = ::pclose(pipe);
    if (output) *output = collected;
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

namespace {

// What a cached fixture was made by: the test executable, the clinicwatch binary, and the rule
// and configuration files the binary reads, by size and modification time.
std::string fixture_stamp() {
    std::size_t h = 0;
    auto mix = [&](const std::filesystem::path& file) {
        std::error_code ec;
        auto size = std::filesystem::file_size(file, ec);
        auto time = std::filesystem::last_write_time(file, ec).time_since_epoch().count();
        for (auto v :
             {std::hash<std::string>{}(file.string()), std::size_t(size), std::size_t(time)})
            h = (h ^ v) * 0x100000001b3ULL;
    };
    mix(std::filesystem::canonical("/proc/self/exe"));
    mix(CLINICWATCH_BINARY);
    for (const char* folder : {"/rules", "/config"}) {
        std::error_code ec;
        for (const auto& e : std::filesystem::recursive_directory_iterator(
                 std::string(CLINICWATCH_SOURCE_DIR) + folder, ec))
            if (e.is_regular_file()) mix(e.path());
    }
    char out[17];
    std::snprintf(out, sizeof out, "%016zx", h);
    return out;
}

void copy_folder(const std::filesystem::path& from, const std::filesystem::path& to) {
    std::filesystem::create_directories(to);
    std::filesystem::copy(from, to,
                          std::filesystem::copy_options::recursive |
                              std::filesystem::copy_options::overwrite_existing);
}

}  // namespace

int replay_capture(const std::filesystem::path& pcap, const std::string& db,
                   const std::string& config, std::string* output) {
    return run_command(std::string(CLINICWATCH_BINARY) + " replay " + pcap.string() + " --db " +
                           db + " --config " + config + " --no-progress",
                       output);
}

bool shared_fixture(const std::string& key, const std::filesystem::path& into,
                    const std::function<bool(const std::filesystem::path&)>& make) {
    auto root = std::filesystem::canonical("/proc/self/exe").parent_path() / "fixture-cache";
    std::error_code ec;
    std::filesystem::create_directories(root, ec);
    // A build tree this user may not write (the arm64 script runs the tests as nobody): no
    // sharing, each process makes its own.
    if (ec || ::access(root.c_str(), W_OK) != 0) {
        make(into);
        return true;
    }
    auto kept = root / (key + "-" + fixture_stamp());
    auto done = kept.string() + ".done";
    // One process makes it while the others wait here (the lock goes with the process).
    int lock = ::open((root / (key + ".lock")).c_str(), O_CREAT | O_RDWR | O_CLOEXEC, 0644);
    if (lock < 0) throw std::runtime_error("cannot open the fixture lock in " + root.string());
    ::flock(lock, LOCK_EX);
    struct Unlock {
        int fd;
        ~Unlock() { ::close(fd); }
    } unlock{lock};
    if (std::filesystem::exists(done)) {
        copy_folder(kept, into);
        return false;
    }
    if (!make(into)) return true;  // a failed fixture is not kept: the failure shows in each case
    for (const auto& e : std::filesystem::directory_iterator(root))
        if (e.path().filename().string().rfind(key + "-", 0) == 0)
            std::filesystem::remove_all(e.path());  // made by an earlier build
    copy_folder(into, kept);
    std::ofstream(done) << key << "\n";
    return true;
}

}  // namespace clinicwatch::test
