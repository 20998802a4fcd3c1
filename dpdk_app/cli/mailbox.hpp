// The prompt's mailbox to a worker: the main lcore (single producer) puts a
// pointer to a CliRequest into the worker's SPSC rte_ring, the worker (single
// consumer) polls it once per loop iteration, executes the request against
// the engine it owns, fills the reply and sets `done` (release). The main
// lcore waits for `done` (acquire) before it reads the reply or frees the
// request. Nothing on the packet path locks or touches an atomic.
#pragma once

#include <atomic>
#include <cstdint>
#include <string>
#include <vector>

#include "tcp/engine/counters.hpp"
#include "tcp/engine/engine.hpp"
#include "tcp/engine/state.hpp"
#include "tcp/base/four_tuple.hpp"
#include "dpdk_app/cli/flood.hpp"
#include "dpdk_app/cli/gen.hpp"

namespace tcpfp::app::cli {

enum class Op : std::uint8_t {
    connect,      // addr/port fields; reply: id
    send_text,    // id, text
    send_bytes,   // id, num
    shutdown,     // id, num (0 rd, 1 wr, 2 rdwr)
    close,        // id, num = linger ms or -1
    abort,        // id
    state,        // id; reply: state_name ("closed" when gone)
    recv_take,    // id, text: succeeds when the received data holds text (consumed up to it)
    listen,       // addr/port, num = mode
    unlisten,     // addr/port
    conns,        // reply: rows
    stats,        // reply: counters
    set_timers,   // num = timewait ms (or -1), num2 = fin_wait_2 ms (or -1)
    arp,          // reply: text
    arp_probe,    // tuple.remote_ip; reply: num = 1 when resolved (else resolving starts)
    gen_start,    // gen: the worker's share of a traffic generator (cli/gen.hpp)
    gen_stop,     // stops the worker's generator
    gen_report,   // reply: gen_report
    timers,       // reply: timers (the engine's timer summary)
    set_verbose,  // num = 1 on, 0 off: the worker prints every TCP segment in and out
    flood_start,  // flood: the worker's share of a SYN flood (cli/flood.hpp)
    flood_stop,   // stops the worker's flood
    flood_report, // reply: flood_report
};

// Server behaviour of a CLI listener's accepted connections.
enum class Mode : std::uint8_t { client, echo, discard, http, sink, hold };

struct ConnRow {
    std::uint64_t id = 0;  // global CLI id, 0 when not the CLI's
    tcp::State state = tcp::State::closed;
    tcp::FourTuple tuple;
    std::uint32_t recv_q = 0, send_q = 0, accept_q = 0;
    bool orphan = false;
    bool ts_ok = false;
    std::uint32_t snd_wnd = 0, rcv_wnd = 0;
    unsigned worker = 0;
    tcp::ConnInfo info;  // windows, RTT, pending timer (TIME_WAIT: timer and time left only)
};

struct Request {
    Op op = Op::state;
    std::uint64_t id = 0;  // global connection id
    std::int64_t num = -1, num2 = -1;
    tcp::FourTuple tuple;  // connect/listen/seed: local (may be 0) and remote
    std::string text;
    // reply
    int rc = 0;            // 0 ok; otherwise `out` says why
    std::string out;
    std::string state_name;
    std::vector<ConnRow> rows;
    tcp::Counters counters;
    std::uint64_t connections = 0, time_wait = 0;
    tcp::TimerSummary timers;
    std::atomic<bool> done{false};
    GenSpec gen;           // gen_start
    GenReport gen_report;  // gen_report's reply
    FloodSpec flood;       // flood_start
    FloodReport flood_report;  // flood_report's reply
};

// Global ids: worker w numbers its connections w * kIdStride + 1, + 2, ...
inline constexpr std::uint64_t kIdStride = 100000;
inline unsigned worker_of(std::uint64_t id) { return static_cast<unsigned>(id / kIdStride); }

}  // namespace tcpfp::app::cli
