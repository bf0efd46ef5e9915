// Reads rules/loop-detect-frames.yaml: switches' own loop-detection frames, as data.
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "analyzers/loop_detector.hpp"
#include "daemon/config.hpp"

namespace clinicwatch {

// Parses the rules text; throws ConfigError naming the line of every bad entry.
std::vector<LoopDetectFrameRule> parse_loop_detect_frames(const std::string& yaml_text,
                                                          const std::string& source_name);

// Where rules/NAME is: $CLINICWATCH_RULES_DIR, the installed data folder, or the source tree
// (when running from a build folder). Nothing when none has it.
std::optional<std::filesystem::path> find_rules_file(const std::string& name);

// The settings the pipeline gives the loop detector: thresholds from the config, frames from
// the rules file when found (a warning is logged otherwise).
LoopDetectorSettings loop_detector_settings(const LoopConfig& config);

}  // namespace clinicwatch
