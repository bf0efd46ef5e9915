// Dropping root after the capture is open: the sensor reads hostile traffic and must not be a
// way in. The process keeps CAP_NET_RAW only in its permitted set (never effective), so that it
// can re-open the interface after it went away; it raises it for that moment alone.
#pragma once

#include <string>

namespace clinicwatch {

// Switches to `user` (its uid, primary gid, no supplementary groups), keeping CAP_NET_RAW and
// CAP_NET_ADMIN permitted but not effective. Throws std::runtime_error naming the problem.
void drop_privileges(const std::string& user);

// Raise / lower the kept capture capabilities (no-ops when they are not permitted).
void raise_capture_capability();
void lower_capture_capability();

bool running_as_root();

}  // namespace clinicwatch
