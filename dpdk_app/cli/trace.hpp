// `set verbose on`: one line per TCP segment in or out, in the manner of
// tcpdump -n (addresses, flags, seq/ack, window, options, payload length).
// Called by the worker only when its verbose flag is set.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <span>

namespace tcpfp::app::cli {

// Writes the one-line description of an IPv4/TCP packet into `out` (always
// NUL-terminated, truncated to `size`); returns the length written. `dir` is
// "IN " or "OUT". Malformed packets are described as such, never read past.
std::size_t describe_segment(const char* dir, std::span<const std::uint8_t> ipv4, char* out,
                             std::size_t size);

// describe_segment() and a newline to `f` in one write, so the lines of two
// workers never interleave within a line.
void trace_segment(const char* dir, std::span<const std::uint8_t> ipv4, std::FILE* f = stdout);

}  // namespace tcpfp::app::cli
