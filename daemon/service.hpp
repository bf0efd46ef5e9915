// `clinicwatch run`: the long-running sensor. The capture and analysis threads run the
// pipeline; the main thread runs a Boost.Asio io_context that owns signals (stop, reload),
// timers (status, watchdog) and the systemd notify protocol.
#pragma once

#include "daemon/cli.hpp"

namespace clinicwatch {

int run_service(const CommonOptions& common, const RunOptions& options);

// Logging: to the journal when started by systemd, to stderr otherwise.
void setup_logging(const std::string& level);

}  // namespace clinicwatch
