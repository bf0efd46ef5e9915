// Fuzzes the configuration loader: any text gives a Config or a ConfigError, nothing else.
#include <cstddef>
#include <cstdint>
#include <string>

#include "daemon/config.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    std::string text(reinterpret_cast<const char*>(data), size);
    try {
        clinicwatch::parse_config(text, "fuzz.yaml");
    } catch (const clinicwatch::ConfigError&) {
    }
    return 0;
}
