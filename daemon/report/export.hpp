// `clinicwatch report --format json`: the report's facts for other programs, in the versioned
// schema documented in docs/report-json.md (JSON Schema: docs/report.schema.json). Codes,
// ISO 8601 times with the clinic's offset, numbers and nulls; no display strings, no chart
// points, and no destination of a personal device.
#pragma once

#include <nlohmann/json.hpp>

namespace clinicwatch {

inline constexpr int kReportSchemaVersion = 2;

// `model` from build_report_model().
nlohmann::json report_export(const nlohmann::json& model);

}  // namespace clinicwatch
