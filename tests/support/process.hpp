// Starting and stopping the clinicwatch binary from tests, as a user would.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <optional>
#include <string>
#include <vector>

namespace clinicwatch::test {

// A child process started with execvp; killed (SIGKILL) on destruction if still running.
class Child {
  public:
    explicit Child(const std::vector<std::string>& argv, const std::string& log_file = "");
    ~Child();
    Child(const Child&) = delete;
    Child& operator=(const Child&) = delete;

    pid_t pid() const { return pid_; }
    void signal(int sig) const;
    // Waits up to `timeout`; the exit code, or nothing when it is still running (or killed by a
    // signal: then -signal).
    std::optional<int> wait(std::chrono::milliseconds timeout);
    // Peak resident memory of the process in KB, known once wait() has reaped it.
    long peak_rss_kb() const { return peak_rss_kb_; }

  private:
    pid_t pid_ = -1;
    bool reaped_ = false;
    long peak_rss_kb_ = 0;
};

// Frames for tests: an ARP reply from `mac_last` (00:00:5e:00:53:XX) claiming 192.168.77.XX.
std::vector<std::uint8_t> arp_reply_frame(std::uint8_t host);
// Many distinct hosts: 00:00:5e:01:HH:LL claiming 10.77.HH.LL.
std::vector<std::uint8_t> arp_reply_frame_wide(std::uint16_t host);

}  // namespace clinicwatch::test
