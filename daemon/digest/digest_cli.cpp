// `clinicwatch digest --dry-run | --send`.
#include <SQLiteCpp/SQLiteCpp.h>

#include <cstdio>
#include <ctime>
#include <iostream>

#include "daemon/digest/digest.hpp"
#include "daemon/incidents/incidents.hpp"
#include "daemon/report/report.hpp"
#include "daemon/report/report_cli.hpp"
#include "daemon/store/store.hpp"

namespace clinicwatch {

int command_digest(const CommonOptions& common, const DigestOptions& options) {
    Config config = resolve_config(common);
    use_clinic_timezone(config);
    std::string db_path = resolve_db_path(common, config);
    auto now = static_cast<std::int64_t>(std::time(nullptr));
    if (!options.send) {
        auto db = open_for_incidents(db_path).db;  // correlates first when it can write
        auto mail = compose_digest(*db, config, now);
        if (!mail) {
            std::printf(
                "Nothing new since the last digest, and digest.all_quiet_mail is off: "
                "no digest would be sent.\n");
            return kExitOk;
        }
        std::printf("Subject: %s\n\n%s", mail->subject.c_str(), mail->text.c_str());
        if (options.html) std::printf("\n%s", mail->html.c_str());
        return kExitOk;
    }
    if (config.smtp.url.empty()) {
        std::fprintf(stderr,
                     "clinicwatch: no mail server configured in %s: set smtp.url, "
                     "smtp.from and smtp.to\n",
                     config.source.c_str());
        return kExitConfig;
    }
    std::unique_ptr<Mailer> mailer;
    try {
        mailer = std::make_unique<SmtpMailer>(config.smtp);
    } catch (const MailError& e) {
        std::fprintf(stderr, "clinicwatch: %s\n", e.what());
        return kExitConfig;
    }
    Store store(db_path);  // migrates an older database; the outbox lives in it
    MailOutbox outbox(store.db(), config);
    std::int64_t id = 0;
    {
        SQLite::Transaction tx(store.db());
        outbox.supersede_pending_digests();
        auto mail = compose_digest(store.db(), config, now);
        if (!mail) {
            tx.commit();
            std::printf(
                "Nothing new since the last digest, and digest.all_quiet_mail is off: "
                "nothing sent.\n");
            return kExitOk;
        }
        id = outbox.enqueue(*mail, now, /*claimed=*/true);
        tx.commit();
    }
    if (outbox.deliver(*mailer, now, id) == 1) {
        std::printf("digest sent to %zu recipient(s)\n", config.smtp.to.size());
        return kExitOk;
    }
    auto error = store.db()
                     .execAndGet("SELECT last_error FROM mails WHERE id = " + std::to_string(id))
                     .getString();
    std::fprintf(stderr,
                 "clinicwatch: the mail server did not accept the digest: %s\n"
                 "clinicwatch: it stays queued; the running daemon retries it, or run "
                 "`clinicwatch digest --send` again\n",
                 error.c_str());
    return kExitMail;
}

}  // namespace clinicwatch
