#include "analyzers/findings.hpp"

#include <array>

namespace clinicwatch {

namespace {
constexpr std::array<std::string_view, 5> kSeverityNames = {"info", "low", "medium", "high",
                                                            "critical"};
}

std::string_view to_string(Severity s) {
    return kSeverityNames.at(static_cast<std::size_t>(s));
}

std::optional<Severity> parse_severity(std::string_view text) {
    for (std::size_t i = 0; i < kSeverityNames.size(); ++i)
        if (kSeverityNames[i] == text) return static_cast<Severity>(i);
    return std::nullopt;
}

}  // namespace clinicwatch
