// Named recognisers for rules/remote-access.yaml `handshakes`: where a byte pattern cannot say
// what a protocol's first message looks like (a length field that must equal the payload, a
// fixed size per message type, reserved bits), a rule entry names one of these instead (or
// beside its pattern). Each is a pure function of one UDP or TCP payload.
#pragma once

#include <string_view>
#include <vector>

#include "capture/bytes.hpp"

namespace clinicwatch {

using HandshakeRecogniser = bool (*)(Bytes payload);

// The recogniser called `name`, or nullptr.
HandshakeRecogniser find_handshake_recogniser(std::string_view name);
// Every name, for the rules reader's error message.
std::vector<std::string_view> handshake_recogniser_names();

}  // namespace clinicwatch
