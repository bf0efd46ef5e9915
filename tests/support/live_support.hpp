// Helpers for tests that run `clinicwatch run` on a live interface: a network namespace with a
// veth pair that the test creates (and removes), and waits on the daemon's database and log.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <string>

namespace clinicwatch::test {

// A network namespace "cwtest<pid><suffix>" with the veth pair cwa <-> cwb and loopback up.
// Removed on destruction. Traffic sent into cwb is seen on cwa, and never leaves the namespace.
class Namespace {
  public:
    explicit Namespace(const std::string& suffix = "");
    ~Namespace();
    Namespace(const Namespace&) = delete;
    Namespace& operator=(const Namespace&) = delete;
    // Creates the namespace and the pair. Empty string on success, else the reason.
    std::string create();
    // `command` as run inside the namespace.
    std::string exec(const std::string& command) const;
    const std::string& name() const { return name_; }

  private:
    std::string name_;
    bool created_ = false;
};

// Why live tests cannot run here (not root, no iproute2 or tcpreplay), or empty.
std::string live_skip_reason();

std::string read_file(const std::string& path);

// Waits until the daemon's log (LOG) says it is capturing: start-up done, analysis running.
// The timeout only guards against a hang; start-up under a sanitizer on a loaded machine is slow.
bool wait_until_capturing(const std::string& log, std::chrono::milliseconds timeout);

// Waits until the daemon's log contains `text` (start-up under ASan loads rules slowly).
bool wait_for_log(const std::string& log, const std::string& text,
                  std::chrono::milliseconds timeout);

}  // namespace clinicwatch::test
