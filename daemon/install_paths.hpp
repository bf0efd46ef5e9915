#pragma once
// Where the installed program finds its data (rules/, templates/).
#include <filesystem>

namespace clinicwatch {

// <prefix>/share/clinicwatch for the prefix the running binary is installed under
// (<prefix>/bin/clinicwatch), so one build tree can be packaged for any prefix; when the binary
// is not installed (it runs from a build tree) the prefix the tree was configured with.
const std::filesystem::path& installed_data_dir();

}  // namespace clinicwatch
