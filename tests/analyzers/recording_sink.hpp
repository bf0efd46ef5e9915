#pragma once

#include <string>
#include <vector>

#include "analyzers/findings.hpp"

namespace clinicwatch::test {

// Keeps every finding for inspection.
class RecordingSink : public FindingSink {
  public:
    void alert(AlertUpdate update) override { alerts.push_back(std::move(update)); }
    void minute(const MinuteStats& stats) override { minutes.push_back(stats); }
    void remote_session(const RemoteSession& session) override { sessions.push_back(session); }

    std::vector<const AlertUpdate*> of_kind(const std::string& kind) const {
        std::vector<const AlertUpdate*> out;
        for (const auto& a : alerts)
            if (a.kind == kind) out.push_back(&a);
        return out;
    }

    std::vector<AlertUpdate> alerts;
    std::vector<MinuteStats> minutes;
    std::vector<RemoteSession> sessions;  // every hand-over, the latest last
};

}  // namespace clinicwatch::test
