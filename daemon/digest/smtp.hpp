// Handing a finished message to the clinic's mail server with libcurl's SMTP client
// (smtp:// with STARTTLS, required by default, or smtps://; AUTH when a user is set).
#pragma once

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
    bool accepted = false;  // the server answered 250 to the end of DATA
    std::string detail;     // the error, or the server's last reply
};

class Mailer {
  public:
    virtual ~Mailer() = default;
    virtual SendResult send(const std::vector<std::string>& recipients,
                            const std::string& message) = 0;
};

class SmtpMailer final : public Mailer {
  public:
    // Reads the password file now (MailError when it is readable by others or missing).
    explicit SmtpMailer(const SmtpConfig& config);
    SendResult send(const std::vector<std::string>& recipients,
                    const std::string& message) override;

  private:
    SmtpConfig config_;
    std::string password_;
};

// The first line of a file that only its owner may read; MailError otherwise, saying how to fix.
std::string read_password_file(const std::string& path);

}  // namespace clinicwatch
