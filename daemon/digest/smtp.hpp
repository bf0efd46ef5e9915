// Handing a finished message to the clinic's mail server with libcurl's SMTP client
// (smtp:// with STARTTLS, required by default, or smtps://; AUTH when a user is set).
#pragma once

#include <atomic>
#include <chrono>
#include <stdexcept>
#include <string>
#include <vector>

#include "daemon/config.hpp"

namespace clinicwatch {

class MailError : public std::runtime_error {
  public:
    using std::runtime_error::runtime_error;
};

struct SendResult {
    bool accepted = false;     // the server answered 250 to the end of DATA
    std::string detail;        // the error, or the server's last reply
    bool interrupted = false;  // given up because the daemon is stopping, not the server's fault
};

class Mailer {
  public:
    virtual ~Mailer() = default;
    virtual SendResult send(const std::vector<std::string>& recipients,
                            const std::string& message) = 0;
    // True once the daemon is stopping: no new send should be started.
    virtual bool stopping() const { return false; }
};

class SmtpMailer final : public Mailer {
  public:
    // Reads the password file now (MailError when it is readable by others or missing).
    // `stop` (the daemon's): once it is set, a send still waiting on the server after
    // kStopGrace is abandoned (SendResult::interrupted), so a hung mail server cannot hold up
    // SIGTERM for smtp.timeout_seconds.
    explicit SmtpMailer(const SmtpConfig& config, const std::atomic<bool>* stop = nullptr);
    SendResult send(const std::vector<std::string>& recipients,
                    const std::string& message) override;
    bool stopping() const override { return stop_ && stop_->load(); }

    // Long enough for a working server to answer the end of DATA (abandoning the send then
    // could deliver the message twice), short beside systemd's TimeoutStopSec.
    static constexpr std::chrono::seconds kStopGrace{5};

  private:
    SmtpConfig config_;
    std::string password_;
    const std::atomic<bool>* stop_ = nullptr;
};

// The first line of a file that only its owner may read; MailError otherwise, saying how to fix.
std::string read_password_file(const std::string& path);

}  // namespace clinicwatch
