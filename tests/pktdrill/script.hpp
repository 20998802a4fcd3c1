// A parsed packetdrill script: header options and a list of timed events.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace tcpfp::pktdrill {

// A system-call argument or result, as written: `...`, 4, SOCK_STREAM,
// O_RDWR|O_NONBLOCK, [1], {onoff=1, linger=0}, htons(8080), "text".
struct Expr {
    enum class Kind { ellipsis, integer, word, string, bit_or, array, structure, assign, call };
    Kind kind = Kind::ellipsis;
    std::int64_t value = 0;   // integer
    std::string text;         // word, string; assign: the field name; call: the function
    std::vector<Expr> items;  // bit_or: two; array, structure: elements; assign: one; call: args
};

struct TcpOptionSpec {
    enum class Kind { nop, eol, mss, wscale, sack_ok, sack, timestamp };
    Kind kind = Kind::nop;
    std::uint32_t a = 0;  // mss, wscale, TS val
    std::uint32_t b = 0;  // TS ecr
    std::vector<std::pair<std::uint32_t, std::uint32_t>> blocks;  // sack
};

// packetdrill's ip_info before the flags: `[ect0]`, `(ce)`, `[noecn]`,
// `[ect01]` (either ECT), `(tos 0x20)` (the whole byte), `(ttl 32)`. On `<`
// lines they fill the IPv4 header; on `>` lines they are checked, and an
// outbound line without them checks neither field (as packetdrill).
enum class EcnSpec { unchecked, no_ecn, ect0, ect1, ce, ect01 };

struct PacketSpec {
    bool inbound = true;
    EcnSpec ecn = EcnSpec::unchecked;
    std::optional<std::uint8_t> tos;
    std::optional<std::uint8_t> ttl;
    std::string flags_text;  // as written: "S.", "F.", "-"
    std::uint8_t flags = 0;
    std::uint32_t start = 0, end = 0, len = 0;
    std::optional<std::uint32_t> ack;
    std::optional<std::uint16_t> win;
    std::optional<std::uint16_t> urg;
    bool options_any = false;  // <...>: do not check
    bool has_options = false;  // an option list (possibly empty) was written
    std::vector<TcpOptionSpec> options;
    // `< icmp TYPE [CODE] [mtu N] [start:end(len)]`: an ICMP error quoting
    // the segment we sent at start (relative to our ISN), len bytes long.
    bool icmp = false;
    std::uint8_t icmp_type = 0, icmp_code = 0;
    std::uint16_t icmp_mtu = 0;
};

struct SyscallSpec {
    std::string name;
    std::vector<Expr> args;
    Expr result;
    std::string errno_name;       // empty: none expected
    bool blocking = false;        // written with `...END`
    std::int64_t end_us = 0;      // END as written (absolute or relative like the start)
};

// When an event happens. A range `a~b` or `*` admits a window; `+` makes a
// time relative to the previous event.
struct TimeSpec {
    bool any = false;
    bool relative = false;
    std::int64_t us = 0;
    bool has_range = false;
    bool range_relative = false;
    std::int64_t range_end_us = 0;
};

struct Event {
    enum class Kind { packet, syscall, command, code };
    int line = 0;
    TimeSpec time;
    Kind kind = Kind::packet;
    PacketSpec packet;
    SyscallSpec syscall;
    std::string text;  // command or code body
};

struct Script {
    std::string path;
    std::vector<std::pair<std::string, std::string>> options;  // --name=value, in order
    std::vector<std::pair<int, std::string>> expect_errors;    // `// expect-error: TEXT` (self-tests)
    std::vector<Event> events;
};

// "0.200" -> 200000; ".1" -> 100000; "3" -> 3000000.
std::optional<std::int64_t> seconds_to_us(const std::string& text);

}  // namespace tcpfp::pktdrill
