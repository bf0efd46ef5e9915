#include "daemon/privileges.hpp"

#include <grp.h>
#include <pwd.h>
#include <sys/capability.h>
#include <sys/prctl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <memory>
#include <stdexcept>

namespace clinicwatch {

namespace {

struct CapFree {
    void operator()(cap_t c) const { cap_free(c); }
};
using CapHandle = std::unique_ptr<std::remove_pointer_t<cap_t>, CapFree>;

constexpr cap_value_t kCaptureCaps[] = {CAP_NET_RAW, CAP_NET_ADMIN};

void set_caps(bool effective) {
    CapHandle caps(cap_get_proc());
    if (!caps) return;
    cap_flag_value_t permitted = CAP_CLEAR;
    cap_get_flag(caps.get(), CAP_NET_RAW, CAP_PERMITTED, &permitted);
    if (permitted != CAP_SET) return;
    cap_set_flag(caps.get(), CAP_EFFECTIVE, 2, kCaptureCaps, effective ? CAP_SET : CAP_CLEAR);
    cap_set_proc(caps.get());
}

std::runtime_error failure(const std::string& what) {
    return std::runtime_error("cannot drop privileges: " + what + ": " + std::strerror(errno));
}

}  // namespace

bool running_as_root() {
    return geteuid() == 0;
}

void drop_privileges(const std::string& user) {
    errno = 0;
    struct passwd* pw = getpwnam(user.c_str());
    if (!pw)
        throw std::runtime_error("cannot drop privileges: no user '" + user +
                                 "' (create it, e.g. with the package's sysusers file)");
    uid_t uid = pw->pw_uid;
    gid_t gid = pw->pw_gid;
    if (prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) != 0) throw failure("PR_SET_KEEPCAPS");
    if (setgroups(0, nullptr) != 0) throw failure("setgroups");
    if (setgid(gid) != 0) throw failure("setgid");
    if (setuid(uid) != 0) throw failure("setuid");
    if (prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0) != 0) throw failure("PR_SET_KEEPCAPS off");
    // After setuid with KEEPCAPS the permitted set is kept and the effective set is empty.
    // Keep only the capture capabilities permitted; nothing effective; no way back to root.
    CapHandle caps(cap_init());
    cap_set_flag(caps.get(), CAP_PERMITTED, 2, kCaptureCaps, CAP_SET);
    if (cap_set_proc(caps.get()) != 0) throw failure("capset");
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) throw failure("PR_SET_NO_NEW_PRIVS");
    if (setuid(0) == 0) throw std::runtime_error("cannot drop privileges: setuid(0) still works");
}

void raise_capture_capability() {
    set_caps(true);
}
void lower_capture_capability() {
    set_caps(false);
}

}  // namespace clinicwatch
