// Names scripts use for constants and errno values, with Linux's numbers
// (the SocketApi uses Linux numbering too, so scripts read the same).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace tcpfp::pktdrill {

// SOCK_STREAM, IPPROTO_TCP, SOL_SOCKET, SO_*, TCP_*, O_*, F_*, SHUT_*,
// POLL*, MSG_*, AF_INET ...; nullopt when unknown.
std::optional<std::int64_t> constant(std::string_view name);

// "EPIPE" -> EPIPE; nullopt when unknown.
std::optional<int> errno_value(std::string_view name);
// EPIPE -> "EPIPE" (or the number as text).
std::string errno_name(int value);

}  // namespace tcpfp::pktdrill
