// Small helpers shared by the test suites: hex bytes, a pcap file writer, temporary folders,
// and where the optional public captures live.
#pragma once

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "daemon/sanitized_build.hpp"

namespace clinicwatch::test {

// True in the ASan/UBSan build, where resident memory is mostly shadow memory (so RSS budgets
// mean nothing) and everything runs several times slower.
#if defined(CLINICWATCH_ASAN_BUILD)
inline constexpr bool kSanitizedBuild = true;
#else
inline constexpr bool kSanitizedBuild = false;
#endif

// "00 11 22" or "001122" -> bytes. Whitespace and ':' are ignored.
std::vector<std::uint8_t> from_hex(const std::string& hex);

// Writes a classic pcap file (microsecond timestamps).
class PcapWriter {
  public:
    PcapWriter(const std::filesystem::path& path, std::uint32_t linktype = 1,
               std::uint32_t snaplen = 65535);
    void write(std::int64_t ts_us, const std::vector<std::uint8_t>& frame,
               std::uint32_t wire_length = 0);
    void close() { out_.close(); }

  private:
    std::ofstream out_;
};

// A fresh folder under the system temp dir, removed with its contents on destruction.
class TempDir {
  public:
    TempDir();
    ~TempDir();
    TempDir(const TempDir&) = delete;
    TempDir& operator=(const TempDir&) = delete;
    const std::filesystem::path& path() const { return path_; }
    std::filesystem::path operator/(const std::string& name) const { return path_ / name; }

  private:
    std::filesystem::path path_;
};

// ../shared/pcaps/<name> when the shared folder is present.
std::optional<std::filesystem::path> shared_pcap(const std::string& name);
std::optional<std::filesystem::path> shared_dir();

// Fills the folder `into` the way `make` does, once per build: ctest starts every test case as
// a process of its own, so a suite's SetUpTestSuite (a generated capture replayed through the
// binary) would otherwise run once per case. The first process runs `make` and keeps a copy
// under the test executable's folder; the others wait for it and copy that. `key` names what
// `make` builds; a rebuilt test or clinicwatch binary, or an edited file under rules/ or
// config/, starts over. `make` returns false when it failed (then nothing is kept). Returns
// true when `make` ran here.
bool shared_fixture(const std::string& key, const std::filesystem::path& into,
                    const std::function<bool(const std::filesystem::path&)>& make);

// `clinicwatch replay PCAP --db DB --config CONFIG --no-progress`; its exit status, its output
// in `output`.
int replay_capture(const std::filesystem::path& pcap, const std::string& db,
                   const std::string& config, std::string* output);

// Runs a shell command; returns its exit status and fills `output` with stdout+stderr.
int run_command(const std::string& command, std::string* output = nullptr);

}  // namespace clinicwatch::test
