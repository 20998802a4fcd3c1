// Per-engine counters: the RFC 4022 TCP-MIB set, one counter per drop
// reason (declared once, below), and connections by state. Plain integers:
// each engine is owned by one lcore, so no atomics.
#pragma once

#include <array>
#include <cstdint>

#include "tcp/engine/state.hpp"
#include "tcp/wire/errors.hpp"

namespace tcpfp::tcp {

// RFC 4022 §3 (tcpActiveOpens ... tcpOutRsts) plus our own totals.
#define TCPFP_MIB_COUNTERS(X)                                                           \
    X(active_opens, "tcpActiveOpens: CLOSED -> SYN_SENT")                               \
    X(passive_opens, "tcpPassiveOpens: LISTEN -> SYN_RECEIVED")                         \
    X(attempt_fails, "tcpAttemptFails: SYN_SENT/SYN_RECEIVED -> CLOSED or LISTEN")      \
    X(estab_resets, "tcpEstabResets: ESTABLISHED/CLOSE_WAIT -> CLOSED by RST")          \
    X(in_segs, "tcpInSegs: segments received, including errors")                        \
    X(out_segs, "tcpOutSegs: segments sent, excluding pure retransmissions")            \
    X(retrans_segs, "tcpRetransSegs: segments retransmitted")                           \
    X(fin_retransmits, "our FIN sent again (timeout, loss probe or recovery)")          \
    X(in_errs, "tcpInErrs: segments received in error (checksum, header, options)")     \
    X(out_rsts, "tcpOutRsts: segments sent with RST")                                   \
    X(in_rsts, "RST segments accepted")                                                 \
    X(challenge_acks_sent, "RFC 5961 challenge ACKs sent")                              \
    X(challenge_acks_limited, "RFC 5961 challenge ACKs suppressed by the rate limit")   \
    X(dup_acks_sent, "ACKs sent for unacceptable segments (RFC 9293 §3.10.7.4)")        \
    X(oow_acks_limited, "ACKs for unacceptable segments and challenge ACKs suppressed (one per 500 ms per connection)") \
    X(rtt_samples, "RTT measurements taken (RFC 7323 RTTM or Karn-safe timing)")        \
    X(predicted_acks, "pure ACKs handled by header prediction")                         \
    X(predicted_data, "in-order data segments handled by header prediction")            \
    X(syncookies_sent, "SYN-ACKs carrying a SYN cookie (SYN queue full or pressure, RFC 4987)") \
    X(syncookies_ok, "connections opened from a valid SYN cookie")                      \
    X(syncookies_overload, "of syncookies_sent: SYNs answered by cookie under pressure (no state kept)") \
    X(syn_recv_pruned, "SYN-RECEIVED connections dropped at a SYN-ACK timeout under pressure") \
    X(orphans_reset_overload, "orphans reset for want of resources (max_orphans or pressure; Linux TCPAbortOnMemory)") \
    X(syncookies_failed, "ACKs to a listener with no valid cookie (RST sent)")          \
    X(timewait_entered, "connections that entered TIME_WAIT")                           \
    X(timewait_expired, "TIME_WAIT records deleted at 2*MSL")                           \
    X(timewait_overflow, "TIME_WAIT records unavailable: connection deleted at once")   \
    X(timewait_reused, "TIME_WAIT 4-tuples reopened by a new SYN (RFC 6191)")           \
    X(timewait_reused_active, "TIME_WAIT 4-tuples taken by our own connect() (tw_reuse)") \
    X(listen_close_dropped, "SYN_RECEIVED connections dropped silently with their listener") \
    X(table_full_rsts, "SYNs answered with RST: connection table full (table_full = rst)") \
    X(timewait_fin_reacked, "retransmitted FINs re-ACKed in TIME_WAIT")                 \
    X(orphan_fin_wait_2_timeouts, "orphaned FIN_WAIT_2 connections timed out")          \
    X(fin_wait_2_shortened, "orphaned FIN_WAIT_2 timeouts cut to 5 s under pressure")   \
    X(orphan_data_rst, "data for a closed socket answered with RST")                    \
    X(rto_expirations, "retransmission timeouts")                                       \
    X(fast_retransmits, "fast recoveries entered (RFC 5681 §3.2, RFC 6675, RFC 8985)")   \
    X(rack_lost_segs, "segments RACK deemed lost (RFC 8985 §6.2)")                     \
    X(tlp_probes, "tail loss probes sent (RFC 8985 §7.3)")                              \
    X(tlp_loss_repaired, "TLP episodes that repaired a loss (cwnd reduced, §7.4)")      \
    X(tlp_spurious, "TLP probes found unnecessary (D-SACK or duplicate ACK, §7.4)")     \
    X(dsacks_received, "D-SACKs received (RFC 2883; widen RACK's reordering window)")   \
    X(send_log_merges, "send-log records merged because the log was full")              \
    X(send_log_unavailable, "flights without a send log (loss-state pool empty)")       \
    X(window_probes, "zero-window probes sent (RFC 9293 §3.8.6.1)")                     \
    X(keepalive_probes, "keep-alive probes sent (RFC 9293 §3.8.4)")                     \
    X(conn_timeouts, "connections dropped after R2 / SYN retries (ETIMEDOUT)")          \
    X(user_timeouts, "connections dropped by their user timeout (RFC 5482, ETIMEDOUT)")  \
    X(r1_reached, "retransmissions reached R1 (RFC 9293 §3.8.3 MUST-20: path in doubt)") \
    X(linger_timeouts, "SO_LINGER timeouts")                                            \
    X(timer_budget_carryover, "timer expirations carried over to the next advance")     \
    X(timers_held_for_output, "advance calls that fired no due timer: no output-queue room") \
    X(events_dropped, "application events lost to a full event queue")                  \
    X(output_dropped, "segments lost to a full output queue")                           \
    X(send_no_buffers, "send() calls refused (ENOBUFS): chunk pool down to its receive reserve") \
    X(rcv_window_pool_clamped, "windows offered below the receive buffer's room: chunk pool running low") \
    X(icmp_soft_errors, "ICMP soft errors noted on a connection (RFC 9293 MUST-56, SHLD-25)") \
    X(icmp_hard_aborts, "connections in SYN_SENT/SYN_RECEIVED aborted by ICMP protocol or port unreachable (SHLD-26)") \
    X(pmtu_lowered, "connections whose MSS a fragmentation-needed error lowered (RFC 1191)") \
    X(pmtu_clamped, "fragmentation-needed MTUs below 576 raised to 576 (RFC 1191 §3)") \
    X(ecn_negotiated, "connections established with ECN (RFC 3168 §6.1.1)")           \
    X(ecn_syn_fallback, "SYNs retransmitted without ECN setup (RFC 3168 §6.1.1.1)")   \
    X(ecn_ce_received, "data segments that arrived marked CE (RFC 3168 §6.1.3)")       \
    X(ecn_reductions, "congestion windows reduced for an ECN-Echo (RFC 3168 §6.1.2)")  \
    X(ecn_cwr_sent, "segments sent with CWR (RFC 3168 §6.1.2)")                       \
    X(plpmtud_black_holes, "MSS lowered after R1 timeouts of larger segments (RFC 4821 §7.7)") \
    X(plpmtud_probes, "path MTU probes sent (RFC 4821 §7.4)")                         \
    X(plpmtud_probes_acked, "probes acknowledged: the MSS rose (RFC 4821 §7.6.1)")    \
    X(plpmtud_probes_lost, "probes lost alone: the search ceiling fell (RFC 4821 §7.6.2)") \
    X(plpmtud_probes_inconclusive, "probes a timeout or other losses hid (RFC 4821 §7.6.3)")

// Why a received segment was not (fully) processed. Wire errors come first
// so a WireError maps to a drop reason by value.
#define TCPFP_DROP_REASONS(X)                                                          \
    X(not_tcp, "IPv4 protocol is not TCP")                                             \
    X(ip_fragment, "IPv4 fragment (reassembly is not supported)")                      \
    X(not_local, "destination is not one of the engine's addresses")                  \
    X(bad_source, "source is broadcast, multicast, unspecified or local")              \
    X(syn_fin, "SYN and FIN together (a scan, never valid)")                          \
    X(no_control_flags, "none of SYN, ACK or RST (null or FIN/PSH/URG-only scan)")     \
    X(no_listener, "no connection and no listener (RST sent unless RST)")             \
    X(rst_no_connection, "RST for no connection")                                      \
    X(listen_ack, "ACK to a listener (RST sent)")                                      \
    X(listen_no_syn, "non-SYN segment to a listener")                                  \
    X(syn_queue_full, "SYN dropped: listener SYN queue full")                          \
    X(accept_queue_full, "handshake ACK dropped: accept queue full")                   \
    X(table_full, "no control block free: a SYN or a cookie handshake's ACK dropped, or a connect() refused") \
    X(no_buffers, "received data dropped (all or its tail): chunk pool exhausted")      \
    X(syn_sent_bad_ack, "SYN_SENT: unacceptable ACK (RST sent)")                       \
    X(syn_sent_rst_ignored, "SYN_SENT: RST without an acceptable ACK")                 \
    X(syn_sent_no_syn, "SYN_SENT: segment without SYN or RST")                         \
    X(paws, "PAWS: timestamp older than TS.Recent (RFC 7323 §5)")                      \
    X(ts_missing, "timestamps negotiated but segment carries none (RFC 7323 §3.2)")    \
    X(out_of_window, "sequence number outside the receive window")                     \
    X(rst_out_of_window, "RST outside the receive window")                             \
    X(rst_challenged, "RST in window but not at RCV.NXT (RFC 5961 §3.2)")              \
    X(rst_time_wait, "RST in TIME_WAIT ignored (RFC 1337)")                            \
    X(syn_challenged, "SYN in a synchronized state (RFC 5961 §4)")                     \
    X(no_ack_flag, "segment without ACK in a synchronized state")                      \
    X(ack_too_old, "ACK below SND.UNA - MAX.SND.WND (RFC 5961 §5)")                    \
    X(ack_unsent, "ACK for data not yet sent")                                         \
    X(syn_received_bad_ack, "SYN_RECEIVED: unacceptable ACK (RST sent)")               \
    X(data_after_fin, "data after the peer's FIN")                                     \
    X(data_after_shutdown_rd, "data after SHUT_RD discarded")                          \
    X(out_of_order, "out-of-order data not buffered")                                  \
    X(data_beyond_fin, "held out-of-order data beyond the peer's FIN, discarded")      \
    X(rcv_buffer_full, "data beyond the receive buffer")                               \
    X(time_wait_segment, "segment for a TIME_WAIT record that needs no answer")        \
    X(orphan_data, "data for a socket the application closed (RST sent)")             \
    X(icmp_malformed, "ICMP error: bad IPv4 header, checksum or quote")                 \
    X(icmp_not_ours, "ICMP error quoting no TCP segment from one of our addresses")     \
    X(icmp_no_connection, "ICMP error for no connection (or a TIME_WAIT record)")       \
    X(icmp_out_of_window, "ICMP error quoting a sequence number outside SND.UNA..SND.NXT (RFC 5927 §4.1)") \
    X(icmp_source_quench, "ICMP source quench, discarded (RFC 9293 MUST-55)")          \
    X(icmp_mtu_not_lower, "fragmentation needed announcing no smaller MTU than in use")

enum class Mib : std::uint8_t {
#define TCPFP_X(name, desc) name,
    TCPFP_MIB_COUNTERS(TCPFP_X)
#undef TCPFP_X
        count_
};

enum class Drop : std::uint8_t {
#define TCPFP_X(name, desc) wire_##name,
    TCPFP_WIRE_ERRORS(TCPFP_X)
#undef TCPFP_X
#define TCPFP_X(name, desc) name,
        TCPFP_DROP_REASONS(TCPFP_X)
#undef TCPFP_X
            count_
};

constexpr Drop drop_for(wire::WireError e) { return static_cast<Drop>(e); }

const char* name(Mib m);
const char* describe(Mib m);
const char* name(Drop d);
const char* describe(Drop d);

struct Counters {
    std::array<std::uint64_t, static_cast<std::size_t>(Mib::count_)> mib{};
    std::array<std::uint64_t, static_cast<std::size_t>(Drop::count_)> drops{};
    std::array<std::uint64_t, kStateCount> by_state{};  // current connections per state

    void inc(Mib m, std::uint64_t n = 1) { mib[static_cast<std::size_t>(m)] += n; }
    void drop(Drop d) { drops[static_cast<std::size_t>(d)] += 1; }
    std::uint64_t get(Mib m) const { return mib[static_cast<std::size_t>(m)]; }
    std::uint64_t get(Drop d) const { return drops[static_cast<std::size_t>(d)]; }
    std::uint64_t in_state(State s) const { return by_state[static_cast<std::size_t>(s)]; }
    // tcpCurrEstab (RFC 4022): ESTABLISHED plus CLOSE_WAIT.
    std::uint64_t curr_estab() const {
        return in_state(State::established) + in_state(State::close_wait);
    }
};

}  // namespace tcpfp::tcp
