#include "daemon/install_paths.hpp"

#include <system_error>

namespace clinicwatch {

namespace {

std::filesystem::path find_data_dir() {
    std::error_code ec;
    auto exe = std::filesystem::read_symlink("/proc/self/exe", ec);
    if (!ec && exe.parent_path().filename() == "bin") {
        auto beside = exe.parent_path().parent_path() / "share" / "clinicwatch";
        if (std::filesystem::is_directory(beside, ec)) return beside;
    }
    return CLINICWATCH_DATA_DIR;
}

}  // namespace

const std::filesystem::path& installed_data_dir() {
    static const std::filesystem::path dir = find_data_dir();
    return dir;
}

}  // namespace clinicwatch
