// The discovered-asset report for the clinic's network vendor: `clinicwatch report`.
// HTML (one self-contained file, prints on A4), CSV (the asset ledger, UTF-8 with BOM for
// Excel) or JSON (everything in the model).
#pragma once

#include <string>

#include <nlohmann/json.hpp>

#include "capture/packet.hpp"
#include "daemon/config.hpp"

namespace SQLite {
class Database;
}

namespace clinicwatch {

// Everything the report shows, as data. `messages` from load_messages(); `since` 0 = all.
nlohmann::json build_report_model(SQLite::Database& db, const Config& config,
                                  const nlohmann::json& messages, const std::string& language,
                                  Timestamp since, Timestamp now);

// The asset ledger as CSV text with a UTF-8 BOM.
std::string report_csv(const nlohmann::json& model, const nlohmann::json& messages);

// Points the process's local time at the clinic's zone (digest.timezone) so every time shown
// is the clinic's; call before starting threads.
void use_clinic_timezone(const Config& config);

}  // namespace clinicwatch
