// Which of a device's IPv6 addresses are link-local, stable or temporary (the privacy
// addresses of RFC 8981 that Windows, macOS, iOS and Android rotate), judged from what the
// sensor saw of them. The traffic carries no flag saying "temporary", so this is a heuristic;
// the rules, in order:
// 1. fe80::/10 is link-local.
// 2. An EUI-64 interface identifier (ff:fe in the middle, from the MAC) is stable: RFC 8981
//    temporary identifiers are random.
// 3. In each /64 of one device, the address first seen is stable: a host forms its stable
//    address when it joins the prefix (RFC 4862) and temporary ones beside it (RFC 8981 §3.4).
// 4. A later address of that /64 is temporary when it and another later one replace each
//    other (the newer first seen within the temporary valid lifetime, kTemporaryLifetime, of
//    the older): a rotation beside the address formed first, which only temporary addresses
//    show. The stable address is not required to be seen again meanwhile: a Windows PC uses it
//    for nothing but duplicate address detection and incoming connections.
// 5. Anything else is stable: a second address with no rotation seen (DHCPv6, a server's
//    manual address, or a temporary address before its first rotation).
// Limits, said plainly: when the sensor starts after a PC formed its addresses, or the
// device's address list (Host::kMaxAddresses) has let the stable one go, the first address
// seen in a /64 may be a temporary one and is then shown as stable.
#pragma once

#include <string_view>
#include <vector>

#include "analyzers/host_table.hpp"

namespace clinicwatch {

// Codes as stored and exported: "link-local", "stable", "temporary"; "" for IPv4.
inline constexpr std::string_view kAddressLinkLocal = "link-local";
inline constexpr std::string_view kAddressStable = "stable";
inline constexpr std::string_view kAddressTemporary = "temporary";

// Windows' maximum temporary valid lifetime (MaxTemporaryValidLifetime, 7 days; RFC 8981's
// default is 2 days): a successor first seen later than this is not a rotation.
inline constexpr Timestamp kTemporaryLifetime = 7LL * 86400 * kMicrosPerSecond;

// The kind of each entry of `addresses` (a Host's list: the same address may appear once per
// source), in the same order.
std::vector<std::string_view> ipv6_address_kinds(const std::vector<Observed>& addresses);

}  // namespace clinicwatch
