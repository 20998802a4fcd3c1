// Packets between the script and the engine: building inbound ones from a
// `<` line, and comparing outbound ones with a `>` line field by field.
// Sequence numbers in scripts are relative: inbound SEQ and outbound ACK
// to the script's ISN (0, so they are literal), outbound SEQ and inbound
// ACK to the engine's ISN, learned from its first SYN.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "script.hpp"
#include "tcp/base/time.hpp"
#include "tcp/wire/addr.hpp"

namespace tcpfp::pktdrill {

struct Endpoints {
    wire::Ipv4Addr local_ip;   // the engine's side
    wire::Ipv4Addr remote_ip;  // the script's side
    std::uint16_t local_port = 0;
    std::uint16_t remote_port = 0;
};

// One option as it appeared on the wire, in order.
struct SeenOption {
    std::uint8_t kind = 0;
    std::uint32_t a = 0, b = 0;  // mss / wscale / TS val, TS ecr
    std::vector<std::pair<std::uint32_t, std::uint32_t>> blocks;
};

// An outbound segment, serialised and parsed back as a capture would see it.
struct Captured {
    tcp::Instant at;
    wire::Ipv4Addr src, dst;
    std::uint8_t tos = 0, ttl = 0;  // the IPv4 header's
    std::uint16_t src_port = 0, dst_port = 0;
    std::uint32_t seq = 0, ack = 0;
    std::uint8_t flags = 0;
    std::uint16_t window = 0, urg = 0;
    std::uint32_t payload_len = 0;
    std::vector<SeenOption> options;
};

// Parses an IPv4/TCP packet the engine produced; nullopt when malformed
// (which is itself reported as an error by the runner).
std::optional<Captured> parse_captured(const std::vector<std::uint8_t>& packet, tcp::Instant at);

// What the runner learns while a script runs.
struct SeqState {
    bool isn_known = false;
    std::uint32_t local_isn = 0;
    // TS val written on `>` lines -> the TSval the engine actually sent there.
    std::map<std::uint32_t, std::uint32_t> ts_map;
    // TS val checking (only under --tcp_ts_tick_usecs).
    std::int64_t ts_tick_us = 0;     // 0: TS val not checked
    std::int64_t engine_tick_us = 1000;
    std::int64_t tolerance_us = 4000;
    bool ts_base_known = false;
    std::int64_t ts_base_actual = 0;  // engine ticks at the first checked TSval
    std::int64_t ts_base_script = 0;  // script ticks there
};

struct BuildError {
    std::string message;
};

// Builds the IPv4 packet for a `<` line. Throws BuildError for options
// that cannot be sent (for example `<...>`).
std::vector<std::uint8_t> build_inbound(const PacketSpec& p, const Endpoints& ep,
                                        const SeqState& st);

// The `>` line as the script wrote it, and the captured segment written the
// same way (relative sequence numbers), for error messages.
std::string describe_spec(const PacketSpec& p);
std::string describe_captured(const Captured& c, const SeqState& st);

// Compares; returns the first difference as a sentence, or nullopt when the
// segment matches. On a match, learns TS values into `st` (see ts_map).
std::optional<std::string> match_outbound(const PacketSpec& p, const Captured& c, SeqState& st);

}  // namespace tcpfp::pktdrill
