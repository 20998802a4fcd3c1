// The transmission control block (RFC 9293 §3.3.1) and the compact
// TIME_WAIT record. Names follow the RFC: snd_una, snd_nxt, rcv_nxt, ...
#pragma once

#include <cstdint>

#include "tcp/base/four_tuple.hpp"
#include "tcp/base/time.hpp"
#include "tcp/engine/buffer.hpp"
#include "tcp/engine/congestion_state.hpp"
#include "tcp/engine/state.hpp"
#include "tcp/timer/timer_wheel.hpp"
#include "tcp/wire/seq.hpp"

namespace tcpfp::tcp {

using wire::SeqNum;

// Deadlines are milliseconds since the engine's epoch: 64 bits, so an
// engine that runs for years never sees them wrap.
using TickMs = std::uint64_t;
inline constexpr TickMs kNoDeadline = UINT64_MAX;

inline constexpr std::uint32_t kNoIndex = UINT32_MAX;

struct Tcb {
    // --- identity and state ---
    FourTuple tuple;
    State state = State::closed;
    std::uint8_t snd_wscale = 0;  // shift applied to the peer's window (RFC 7323 §2.3)
    std::uint8_t rcv_wscale = 0;  // shift applied to ours
    std::uint8_t so_error = 0;    // pending errno for the application (SO_ERROR)

    // --- flags ---
    bool ts_ok : 1 = false;          // RFC 7323 timestamps negotiated
    bool sack_ok : 1 = false;        // RFC 2018 SACK-permitted negotiated
    bool ws_ok : 1 = false;          // RFC 7323 window scaling negotiated
    bool fin_acked : 1 = false;      // our FIN was acknowledged
    bool passive : 1 = false;        // created from a listener
    bool orphan : 1 = false;         // the application closed its socket
    bool shut_rd : 1 = false;        // SHUT_RD: discard further data
    bool fin_queued : 1 = false;     // SHUT_WR or close: FIN after the send buffer
    bool fin_sent : 1 = false;       // our FIN has a sequence number (snd_max covers it)
    bool peer_fin : 1 = false;       // the peer's FIN was received
    bool nodelay : 1 = false;        // TCP_NODELAY
    bool keepalive : 1 = false;      // SO_KEEPALIVE
    bool linger_on : 1 = false;      // SO_LINGER with a timeout (0 aborts at close)
    bool lingering : 1 = false;      // close() waiting for our FIN to be ACKed
    bool ack_pending : 1 = false;    // an ACK is owed (delayed-ACK timer armed)
    bool ack_owed : 1 = false;       // an ACK is owed at the next drain (Engine::owe_ack)
    bool rtt_timing : 1 = false;     // Karn-safe RTT timing of rtt_seq in progress
    bool accepted : 1 = false;       // handed to the application (or active open)
    bool in_table : 1 = false;       // tuple present in the connection table
    bool persist : 1 = false;        // rtx_deadline is a zero-window probe (MUST-35/36)
    bool user_timeout_on : 1 = false;  // TCP_USER_TIMEOUT set: see UserTimeout
    // What our SYN offers (SockOpt::sack/timestamps/window_scale): SACK,
    // timestamps, window scaling (with [engine] wscale).
    bool sack_offer : 1 = true;
    bool ts_offer : 1 = true;
    bool ws_offer : 1 = true;
    std::uint8_t unacked_segs = 0;   // full-sized segments received since our last ACK
    std::uint8_t backoff = 0;        // RTO doublings (RFC 6298 §5.5)
    std::uint8_t retries = 0;        // consecutive retransmission timeouts
    std::uint8_t keepalive_probes = 0;
    std::uint8_t dupacks = 0;

    // --- send sequence space (RFC 9293 §3.3.1) ---
    SeqNum iss;
    SeqNum snd_una;
    SeqNum snd_nxt;
    SeqNum snd_max;     // highest sequence number sent + 1 (retransmission goes back to snd_una)
    SeqNum snd_wl1;
    SeqNum snd_wl2;
    std::uint32_t snd_wnd = 0;
    std::uint32_t max_snd_wnd = 0;  // largest window the peer offered (RFC 5961 §5.2)
    std::uint16_t snd_mss = 536;    // payload bytes per segment, options excluded
    std::uint16_t rcv_mss = 536;    // what we advertised

    // --- receive sequence space ---
    SeqNum irs;
    SeqNum rcv_nxt;
    SeqNum rcv_adv;     // right edge of the window we last advertised (SHLD-14: never shrink)
    SeqNum rcv_up;      // RCV.UP: the octet after the urgent data (MUST-30/62), while urg_pending

    // --- RFC 7323 timestamps ---
    std::uint32_t ts_recent = 0;
    std::uint16_t ts_recent_age_h = 0;  // when ts_recent was set, in hours (PAWS 24-day rule)
    std::uint16_t oow_ack_at = 0;       // last ACK for a refused segment (dup or challenge), 8 ms units mod 2^16
    SeqNum last_ack_sent;
    std::uint32_t ts_offset = 0;  // random per-connection TSval offset

    // --- RFC 6298 retransmission timer state ---
    std::uint32_t srtt_us = 0;  // 0 until the first sample
    std::uint32_t rttvar_us = 0;
    std::uint32_t rto_ms = 1000;
    SeqNum rtt_seq;        // timed sequence number when not using timestamps
    std::uint32_t rtt_start = 0;  // low 32 bits of the send tick (an RTT is far below 2^32 ms)

    // --- congestion control (RFC 5681; CUBIC per RFC 9438) ---
    std::uint32_t cwnd = 0;
    std::uint32_t ssthresh = UINT32_MAX;
    CubicState cubic;

    // --- application and buffers ---
    std::uint32_t loss = kNoIndex;       // LossState while reassembling or recovering
    std::uint32_t listener = kNoIndex;   // owning listener while not yet accepted
    std::uint32_t accept_next = kNoIndex;  // accept-queue link
    std::uint32_t snd_limit = 0;  // SO_SNDBUF
    std::uint32_t rcv_limit = 0;  // SO_RCVBUF
    ChunkChain snd_buf;  // bytes from the first unacknowledged one
    ChunkChain rcv_buf;  // bytes received in order, not yet read (and out-of-order ones beyond)
    // (small fields here fill the gap before the 8-byte deadlines)
    std::uint16_t linger_s = 0;
    CongestionControl cc = CongestionControl::cubic;
    std::uint8_t ka_cnt = 9;

    // --- timers: one wheel entry at the earliest of these deadlines ---
    TickMs rtx_deadline = kNoDeadline;    // retransmission, SYN retry or persist probe
    TickMs delack_deadline = kNoDeadline;
    TickMs keepalive_deadline = kNoDeadline;
    TickMs conn_deadline = kNoDeadline;   // FIN_WAIT_2 orphan timeout or linger
    // Keepalive times (RFC 9293 §3.8.4), per connection: TCP_KEEPIDLE and
    // TCP_KEEPINTVL in seconds (<= 32767, as on Linux); TCP_KEEPCNT below.
    std::uint16_t ka_idle_s = 7200;
    std::uint16_t ka_intvl_s = 75;
    std::uint8_t soft_error = 0;  // last ICMP soft error (errno), RFC 9293 SHLD-25
    std::uint8_t ttl = 64;        // IP_TTL (MUST-49)
    std::uint8_t tos = 0;         // IP_TOS: DSCP only (MUST-48); the ECN bits are TCP's
    // RFC 3168 ECN, urgent mode, RFC 4821 and the pool's send block (one byte that was padding):
    bool ecn_ok : 1 = false;       // negotiated (in SYN_SENT: our SYN asked for it)
    bool ecn_echo : 1 = false;     // a CE mark arrived: ECE on our ACKs until the peer's CWR (§6.1.3)
    bool ecn_cwr : 1 = false;      // we reduced cwnd: CWR on the next new data segment (§6.1.2)
    bool ecn_reduced : 1 = false;  // a reduction is in force until SND.UNA passes Engine::ecn_recover_
    bool urg_pending : 1 = false;  // urgent mode: unread urgent data up to rcv_up (RFC 9293 §3.10.7.4 sixth)
    bool plpmtud : 1 = false;      // RFC 4821 search state in Engine::plpmtud_ (same index)
    bool mtu_probe_out : 1 = false;  // a probe is in flight (Engine::plpmtud_ has its range)
    bool send_blocked : 1 = false; // send() refused for the chunk pool: `writable` when chunks free
    Timer timer;
};

// RFC 9293 §3.8.3 USER TIMEOUT (RFC 5482 TCP_USER_TIMEOUT), per connection.
// Rarely set, so it lives in an array beside the control blocks (same
// index) and the Tcb only carries the user_timeout_on flag: the fast path
// touches this line only for connections that asked for it.
struct UserTimeout {
    std::uint32_t ms = 0;           // abort after this long without progress
    std::uint32_t stall_since = 0;  // low 32 bits of the tick the current wait began
};

// What stays of a connection in TIME_WAIT (RFC 9293 §3.10.7.4 and RFC 6191):
// enough to re-ACK a retransmitted FIN with a fresh timestamp and to judge a
// new SYN for the same 4-tuple.
struct TimeWaitRecord {
    FourTuple tuple;
    SeqNum snd_nxt;
    SeqNum rcv_nxt;
    std::uint32_t ts_recent = 0;
    std::uint32_t ts_offset = 0;
    std::uint16_t window = 0;  // as last advertised, already scaled
    bool ts_ok = false;
    std::uint8_t pad_ = 0;
    Timer timer;
};

// Size budgets (the benchmarks print the real figures): the control block
// without its buffers, and the TIME_WAIT record (Linux's is 264 bytes).
static_assert(sizeof(Tcb) <= 256, "control block over budget");
static_assert(sizeof(TimeWaitRecord) <= 64, "TIME_WAIT record over budget");

}  // namespace tcpfp::tcp
