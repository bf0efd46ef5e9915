#include "tests/support/process.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdint>
#include <stdexcept>
#include <thread>

namespace clinicwatch::test {

Child::Child(const std::vector<std::string>& argv, const std::string& log_file) {
    std::vector<char*> args;
    for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    pid_ = fork();
    if (pid_ < 0) throw std::runtime_error("fork failed");
    if (pid_ == 0) {
        if (!log_file.empty()) {
            int fd = ::open(log_file.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
            if (fd >= 0) {
                dup2(fd, 1);
                dup2(fd, 2);
                close(fd);
            }
        }
        execvp(args[0], args.data());
        _exit(127);
    }
}

Child::~Child() {
    if (pid_ > 0 && !reaped_) {
        ::kill(pid_, SIGKILL);
        waitpid(pid_, nullptr, 0);
    }
}

void Child::signal(int sig) const {
    if (pid_ > 0 && !reaped_) ::kill(pid_, sig);
}

std::optional<int> Child::wait(std::chrono::milliseconds timeout) {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    while (!reaped_) {
        int status = 0;
        struct rusage usage {};
        pid_t r = wait4(pid_, &status, WNOHANG, &usage);
        if (r == pid_) {
            reaped_ = true;
            peak_rss_kb_ = usage.ru_maxrss;
            if (WIFEXITED(status)) return WEXITSTATUS(status);
            if (WIFSIGNALED(status)) return -WTERMSIG(status);
            return std::nullopt;
        }
        if (std::chrono::steady_clock::now() > deadline) return std::nullopt;
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return std::nullopt;
}

std::vector<std::uint8_t> arp_reply_frame(std::uint8_t host) {
    std::vector<std::uint8_t> f = {
        0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x00, 0x00, 0x5e, 0x00, 0x53,
        host, 0x08, 0x06, 0x00, 0x01, 0x08, 0x00, 0x06, 0x04, 0x00, 0x02,  // reply
        0x00, 0x00, 0x5e, 0x00, 0x53, host, 192,  168,  77,   host,        // sender
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 192,  168,  77,   1};          // target
    f.resize(60, 0);                                                       // Ethernet minimum
    return f;
}

std::vector<std::uint8_t> arp_reply_frame_wide(std::uint16_t host) {
    auto f = arp_reply_frame(0);
    std::uint8_t hi = static_cast<std::uint8_t>(host >> 8), lo = static_cast<std::uint8_t>(host);
    const std::uint8_t mac[6] = {0x00, 0x00, 0x5e, 0x01, hi, lo};
    const std::uint8_t ip[4] = {10, 77, hi, lo};
    std::copy(mac, mac + 6, f.begin() + 6);
    std::copy(mac, mac + 6, f.begin() + 22);
    std::copy(ip, ip + 4, f.begin() + 28);
    return f;
}

}  // namespace clinicwatch::test
