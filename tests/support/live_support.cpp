#include "tests/support/live_support.hpp"

#include <SQLiteCpp/SQLiteCpp.h>
#include <unistd.h>

#include <fstream>
#include <sstream>
#include <thread>

#include "tests/support/test_support.hpp"

namespace clinicwatch::test {

Namespace::Namespace(const std::string& suffix)
    : name_("cwtest" + std::to_string(getpid()) + suffix) {}

Namespace::~Namespace() {
    if (created_) run_command("ip netns del " + name_);
}

std::string Namespace::create() {
    std::string out;
    if (run_command("ip netns add " + name_, &out) != 0)
        return "cannot create a network namespace: " + out;
    created_ = true;
    if (run_command(exec("ip link add cwa type veth peer name cwb") + " && " +
                        exec("ip link set cwa up") + " && " + exec("ip link set cwb up") + " && " +
                        exec("ip link set lo up"),
                    &out) != 0)
        return "cannot create the veth pair: " + out;
    return "";
}

std::string Namespace::exec(const std::string& command) const {
    return "ip netns exec " + name_ + " " + command;
}

std::string live_skip_reason() {
    if (geteuid() != 0) return "live capture needs root (network namespaces, promiscuous mode)";
    if (run_command("command -v ip") != 0) return "iproute2 (ip) is not installed";
    if (run_command("command -v tcpreplay") != 0) return "tcpreplay is not installed";
    return "";
}

std::string read_file(const std::string& path) {
    std::ifstream in(path);
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
}

bool wait_for_log(const std::string& log, const std::string& text,
                  std::chrono::milliseconds timeout) {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
        if (read_file(log).find(text) != std::string::npos) return true;
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    return false;
}

bool wait_until_capturing(const std::string& log, std::chrono::milliseconds timeout) {
    // The daemon logs this once its analysis thread runs and its signal handlers are in place
    // (when it also tells systemd READY=1); the runs row is written earlier, during start-up.
    return wait_for_log(log, "capturing on", timeout);
}

}  // namespace clinicwatch::test
