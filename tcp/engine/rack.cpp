// RACK-TLP (RFC 8985) for SACK connections: the send log (per-segment
// transmit times), RACK's time-based loss detection with its reordering
// window and timer, and the tail loss probe. Loss recovery and PRR are in
// recovery.cpp.
#include <algorithm>

#include "tcp/engine/congestion.hpp"
#include "tcp/engine/engine.hpp"

namespace tcpfp::tcp {

using namespace wire;

namespace {

constexpr std::uint32_t kDupThresh = 3;  // RFC 8985 §6.2 / RFC 5681 DupThresh
// Linux adds TCP_TIMEOUT_MIN (2 ms) to the reorder timer and, when more than
// one segment is in flight, to the PTO: a timer never fires a hair early.
constexpr std::uint32_t kTimerSlackUs = 2000;

std::uint32_t stamp(Instant now) { return static_cast<std::uint32_t>(now.micros()); }

// Microseconds since a transmission, never negative (a send stamp may run a
// few microseconds ahead, see xmit_stamp).
std::uint32_t since(Instant now, std::uint32_t xmit) {
    const auto d = static_cast<std::int32_t>(stamp(now) - xmit);
    return d > 0 ? static_cast<std::uint32_t>(d) : 0;
}

// RFC 8985 §6.2 RACK_sent_after(t1, seq1, t2, seq2).
bool sent_after(std::uint32_t t1, SeqNum seq1, std::uint32_t t2, SeqNum seq2) {
    const auto d = static_cast<std::int32_t>(t1 - t2);
    return d > 0 || (d == 0 && seq2 < seq1);
}

}  // namespace

LossState* Engine::send_log(Tcb& t) {
    if (t.loss == kNoIndex) return nullptr;
    LossState& ls = losses_.at(t.loss);
    return ls.log_on ? &ls : nullptr;
}

// Header prediction stays off while reassembly or recovery is under way;
// a send log alone (SACK connection with data in flight, nothing SACKed,
// lost or pending) does not stop it.
bool Engine::loss_busy(const Tcb& t) const {
    if (t.loss == kNoIndex) return false;
    const LossState& ls = losses_.at(t.loss);
    return !ls.log_on || !ls.ooo.empty() || ls.ooo_fin || ls.in_recovery || ls.recover_valid ||
           ls.sacked_segs != 0 || ls.lost_bytes != 0 || ls.tlp_active;
}

// A flight starts from SND.UNA with nothing outstanding: the log starts
// empty there. RACK.min_RTT starts from SRTT (the control block keeps no
// minimum of its own) and only falls from there.
void Engine::log_begin(Tcb& t, LossState& ls, SeqNum at) {
    ls.log_on = true;
    ls.log.start = at;
    ls.log.head = 0;
    ls.log.n = 0;
    ls.sacked_bytes = ls.lost_bytes = ls.sacked_segs = 0;
    ls.ack_delivered = 0;
    ls.ack_dsack = false;
    ls.rack_valid = ls.rack_advanced = false;
    ls.fack = at;
    if (ls.min_rtt_us == 0 || (t.srtt_us != 0 && t.srtt_us < ls.min_rtt_us)) ls.min_rtt_us = t.srtt_us;
    ls.tlp_active = false;
}

void Engine::log_end(Tcb& t, LossState& ls) {
    ls.log_on = false;
    ls.log.n = 0;
    ls.sacked_bytes = ls.lost_bytes = ls.sacked_segs = 0;
    ls.tlp_active = false;
    ls.timer = LossTimer::none;
    ls.timer_at = kNoDeadline;
    release_loss_if_idle(t);
}

// Makes room for one record: merges the first two neighbours with the same
// flags (keeping the later transmit time, so RACK waits longer for them).
// The earlier record of the pair is the one removed: its right edge is the
// later one's left, so the later one grows leftwards by itself. Removing it
// shifts only the records before it (none when it is the first, the usual
// case in bulk), not the whole log behind it.
bool Engine::log_make_room(LossState& ls) {
    SendLog& g = ls.log;
    for (std::uint16_t i = 0; i + 1 < g.n; ++i) {
        const std::uint16_t a = g.slot(i);
        const std::uint16_t b = g.slot(static_cast<std::uint16_t>(i + 1));
        if (g.flags[a] != g.flags[b]) continue;
        if (static_cast<std::int32_t>(g.xmit_us[a] - g.xmit_us[b]) > 0) g.xmit_us[b] = g.xmit_us[a];
        if ((g.flags[a] & SendLog::kSacked) != 0) --ls.sacked_segs;
        for (std::uint16_t k = i; k > 0; --k) {
            const std::uint16_t d = g.slot(k);
            const std::uint16_t s = g.slot(static_cast<std::uint16_t>(k - 1));
            g.end[d] = g.end[s];
            g.xmit_us[d] = g.xmit_us[s];
            g.flags[d] = g.flags[s];
        }
        g.head = g.slot(1);
        --g.n;
        counters_.inc(Mib::send_log_merges);
        return true;
    }
    return false;
}

// RFC 8985 orders transmissions by time, then by sequence (RACK_sent_after),
// which assumes segments sent in the same instant go out in sequence order.
// A retransmission sent after newer data in the same microsecond (several
// ACKs handled at once) would look older than it is, and be declared lost as
// soon as that data is delivered: it gets the next microsecond instead.
std::uint32_t Engine::xmit_stamp(LossState& ls, bool retransmission, Instant now) {
    std::uint32_t ts = stamp(now);
    const auto ahead = static_cast<std::int32_t>(ls.last_xmit_us - ts);
    if (ahead > 0 || (ahead == 0 && retransmission)) ts = ls.last_xmit_us + (retransmission ? 1u : 0u);
    ls.last_xmit_us = ts;
    return ts;
}

void Engine::log_append(LossState& ls, SeqNum end, bool fin, Instant now) {
    SendLog& g = ls.log;
    const std::uint32_t ts = xmit_stamp(ls, false, now);
    if (g.n == SendLog::kMax && !log_make_room(ls)) {
        // Every neighbour differs: the last record absorbs the new one and
        // forgets its SACK or loss mark (at worst a spurious retransmission).
        const std::uint16_t last = g.slot(static_cast<std::uint16_t>(g.n - 1));
        const std::uint32_t len = static_cast<std::uint32_t>(g.end[last] - g.left(static_cast<std::uint16_t>(g.n - 1)));
        if ((g.flags[last] & SendLog::kSacked) != 0) {
            ls.sacked_bytes -= len;
            --ls.sacked_segs;
        }
        if ((g.flags[last] & SendLog::kLost) != 0) ls.lost_bytes -= len;
        g.end[last] = end;
        g.xmit_us[last] = ts;
        g.flags[last] = fin ? SendLog::kFin : 0;
        counters_.inc(Mib::send_log_merges);
        return;
    }
    const std::uint16_t s = g.slot(g.n);
    g.end[s] = end;
    g.xmit_us[s] = ts;
    g.flags[s] = fin ? SendLog::kFin : 0;
    ++g.n;
}

// Every (re)transmission of [seq, seq+len) (+1 for a FIN) on a SACK
// connection: new data gets a record, resent data refreshes the transmit
// time of the records it covers (RFC 8985 §6.1). PRR counts both (RFC 6937
// prr_out), and new data restarts the probe timer (RFC 8985 §7.2).
void Engine::log_sent(Tcb& t, SeqNum seq, std::uint32_t len, bool fin, Instant now) {
    if (!t.sack_ok) {
        // NewReno recovery keeps no log; PRR still counts what goes out.
        if (t.loss != kNoIndex && losses_.at(t.loss).in_recovery) losses_.at(t.loss).prr_out += len;
        return;
    }
    LossState* ls = send_log(t);
    if (ls == nullptr) {
        if (seq != t.snd_una) return;  // a flight already under way without a log
        ls = loss_state(t, true);
        if (ls == nullptr) {
            counters_.inc(Mib::send_log_unavailable);  // RFC 6675 rules then apply
            return;
        }
        log_begin(t, *ls, seq);
        ls->last_xmit_us = stamp(now) - 1;
    }
    SendLog& g = ls->log;
    const SeqNum end = seq + len + (fin ? 1u : 0u);
    const SeqNum stop = g.stop();
    const std::uint32_t ts = seq < stop ? xmit_stamp(*ls, true, now) : 0;
    for (std::uint16_t i = seq < stop ? g.first_after(seq) : g.n; i < g.n; ++i) {
        if (!(g.left(i) < end)) break;
        const std::uint16_t s = g.slot(i);
        if ((g.flags[s] & SendLog::kLost) != 0) {
            ls->lost_bytes -= static_cast<std::uint32_t>(g.right(i) - g.left(i));
            g.flags[s] = static_cast<std::uint8_t>(g.flags[s] & ~SendLog::kLost);
        }
        g.flags[s] |= SendLog::kRetrans;
        if (fin && g.right(i) == end) g.flags[s] |= SendLog::kFin;
        g.xmit_us[s] = ts;
    }
    if (stop < end) {
        log_append(*ls, end, fin, now);
        schedule_loss_probe(t, now);
    }
    if (ls->in_recovery) ls->prr_out += static_cast<std::uint32_t>(end - seq);
}

// RFC 8985 §6.2 steps 1-2 for one newly delivered record: RACK.fack and
// RACK.reord, RACK.min_RTT, and RACK.xmit_ts/end_seq/rtt. Like Linux, every
// delivered record sets RACK.rtt (the last one processed wins, SACKed
// blocks before the cumulative ACK), while xmit_ts/end_seq follow the most
// recently sent; an RTT shorter than min_RTT from a retransmitted record is
// ambiguous and ignored.
void Engine::rack_delivered(LossState& ls, std::uint8_t flags, SeqNum end, std::uint32_t xmit,
                            Instant now) {
    const bool retrans = (flags & SendLog::kRetrans) != 0;
    if (ls.fack < end) {
        ls.fack = end;
    } else if (!retrans) {
        ls.reord = true;  // delivered below RACK.fack, never resent: reordering
    }
    const std::uint32_t rtt = since(now, xmit);
    if (retrans && rtt < ls.min_rtt_us) return;
    if (!retrans && (ls.min_rtt_us == 0 || rtt < ls.min_rtt_us)) ls.min_rtt_us = std::max<std::uint32_t>(rtt, 1);
    ls.rack_advanced = true;
    ls.rack_rtt_us = rtt;
    if (!ls.rack_valid || sent_after(xmit, end, ls.rack_xmit_us, ls.rack_end)) {
        ls.rack_valid = true;
        ls.rack_xmit_us = xmit;
        ls.rack_end = end;
    }
}

// A SACK block (RFC 2018): records it covers entirely become SACKed. A
// block ending inside a record marks nothing (as Linux, which SACKs whole
// segments only). A block at or below SND.UNA, or inside a range already
// SACKed, is a D-SACK (RFC 2883 §4).
void Engine::log_sacked(Tcb& t, LossState& ls, SeqNum left, SeqNum right, bool first, Instant now) {
    if (first && !(t.snd_una < right)) {
        ls.ack_dsack = true;
        return;
    }
    SendLog& g = ls.log;
    bool any_new = false;
    bool all_old = true;
    const std::uint16_t from = g.first_after(left);
    for (std::uint16_t i = from; i < g.n; ++i) {
        const SeqNum l = g.left(i);
        const SeqNum r = g.right(i);
        if (!(l < right)) break;
        if (l < left || right < r) continue;
        const std::uint16_t s = g.slot(i);
        if ((g.flags[s] & SendLog::kSacked) != 0) continue;
        all_old = false;
        any_new = true;
        const auto len = static_cast<std::uint32_t>(r - l);
        if ((g.flags[s] & SendLog::kLost) != 0) {
            ls.lost_bytes -= len;
            g.flags[s] = static_cast<std::uint8_t>(g.flags[s] & ~SendLog::kLost);
        }
        g.flags[s] |= SendLog::kSacked;
        ls.sacked_bytes += len;
        ++ls.sacked_segs;
        ls.ack_delivered += len;
        rack_delivered(ls, g.flags[s], r, g.xmit_us[s], now);
    }
    if (first && !any_new && all_old && right <= g.stop() && t.snd_una < left) {
        // The first block repeats what was SACKed already: RFC 2883 D-SACK.
        // Only the record holding `left` can hold the whole block.
        const bool inside = from < g.n && g.left(from) <= left && right <= g.right(from) &&
                            (g.flags[g.slot(from)] & SendLog::kSacked) != 0;
        ls.ack_dsack = ls.ack_dsack || inside;
    }
}

// The cumulative ACK: records below it leave the log; what was not SACKed
// before counts as delivered (RFC 6937 DeliveredData) and feeds RACK.
void Engine::log_acked(LossState& ls, SeqNum ack, Instant now) {
    SendLog& g = ls.log;
    while (g.n > 0 && !(ack < g.right(0))) {
        const std::uint16_t s = g.slot(0);
        const auto len = static_cast<std::uint32_t>(g.end[s] - g.start);
        if ((g.flags[s] & SendLog::kSacked) != 0) {
            ls.sacked_bytes -= len;
            --ls.sacked_segs;
        } else {
            ls.ack_delivered += len;
            rack_delivered(ls, g.flags[s], g.end[s], g.xmit_us[s], now);
        }
        if ((g.flags[s] & SendLog::kLost) != 0) ls.lost_bytes -= len;
        g.start = g.end[s];
        g.head = static_cast<std::uint16_t>((g.head + 1) % SendLog::kMax);
        --g.n;
    }
    if (g.n > 0 && g.start < ack) {
        const auto part = static_cast<std::uint32_t>(ack - g.start);
        const std::uint8_t f = g.flags[g.slot(0)];
        if ((f & SendLog::kSacked) != 0) {
            ls.sacked_bytes -= part;
        } else {
            ls.ack_delivered += part;
        }
        if ((f & SendLog::kLost) != 0) ls.lost_bytes -= part;
    }
    if (g.start < ack) g.start = ack;
}

// RFC 8985 §6.2 step 4: RACK.reo_wnd. Zero while no reordering has been
// seen and either recovery is under way or DupThresh segments are SACKed
// (so the first three SACKs act at once, as DupThresh would); otherwise
// min_RTT/4 times the D-SACK multiplier, at most SRTT.
std::uint32_t Engine::rack_reo_wnd(const Tcb& t, const LossState& ls) const {
    if (!ls.reord) {
        if (ls.in_recovery || t.backoff > 0) return 0;
        if (ls.sacked_segs >= kDupThresh) return 0;
    }
    const std::uint32_t w = ls.min_rtt_us / 4 * ls.reo_wnd_mult;
    return t.srtt_us != 0 ? std::min(w, t.srtt_us) : w;
}

// RFC 8985 §6.2 step 5: a record sent before RACK's segment and not
// delivered within RACK.rtt + RACK.reo_wnd of its transmission is lost. Those
// still inside get the reorder timer (§6.3), Linux's 2 ms slack added.
// Returns the bytes newly marked lost; `armed` tells whether the timer is set.
std::uint32_t Engine::rack_detect_loss(Tcb& t, LossState& ls, Instant now, bool& armed) {
    armed = false;
    if (!ls.rack_valid) return 0;
    const std::int64_t reo = rack_reo_wnd(t, ls);
    std::int64_t wait = 0;
    std::uint32_t lost = 0;
    SendLog& g = ls.log;
    for (std::uint16_t i = 0; i < g.n; ++i) {
        const std::uint16_t s = g.slot(i);
        if ((g.flags[s] & (SendLog::kSacked | SendLog::kLost)) != 0) continue;
        if (!sent_after(ls.rack_xmit_us, ls.rack_end, g.xmit_us[s], g.end[s])) continue;
        const std::int64_t remaining =
            std::int64_t{ls.rack_rtt_us} + reo - std::int64_t{since(now, g.xmit_us[s])};
        if (remaining <= 0) {
            const auto len = static_cast<std::uint32_t>(g.right(i) - g.left(i));
            g.flags[s] |= SendLog::kLost;
            ls.lost_bytes += len;
            lost += len;
            counters_.inc(Mib::rack_lost_segs);
        } else {
            wait = std::max(wait, remaining);
        }
    }
    if (wait > 0) {
        ls.timer = LossTimer::reorder;
        ls.timer_at = deadline(now, Duration::micros(wait + kTimerSlackUs));
        armed = true;
    }
    return lost;
}

// RFC 8985 §6.2 step 4: a D-SACK widens the reordering window by one step
// per round trip; it persists for 16 recoveries (reset in exit_recovery).
void Engine::rack_on_dsack(Tcb& t, LossState& ls) {
    counters_.inc(Mib::dsacks_received);
    ls.reord = true;  // a spurious retransmission: the segment was only reordered
    if (ls.reo_wnd_persist > 0 && ls.dsack_round > t.snd_una) return;  // once per round
    if (ls.reo_wnd_mult < 255) ++ls.reo_wnd_mult;
    ls.reo_wnd_persist = 16;
    ls.dsack_round = t.snd_max;
}

// RFC 8985 §7.4: how a TLP episode ends, following Linux's reading. An ACK
// beyond TLP.end_seq after a retransmitted probe means the probe repaired a
// loss: the congestion response is due (ssthresh and cwnd reduced once). A
// D-SACK for the probe, or a pure duplicate ACK at TLP.end_seq, means both
// copies arrived: the probe was spurious and nothing is reduced.
void Engine::tlp_on_ack(Tcb& t, LossState& ls, bool una_advanced, std::uint32_t delivered, bool dsack) {
    if (!ls.tlp_active || t.snd_una < ls.tlp_end) {
        if (!ls.tlp_active || !dsack || !ls.tlp_is_retrans) return;
    }
    if (!ls.tlp_is_retrans) {
        ls.tlp_active = false;
        return;
    }
    if (dsack) {
        ls.tlp_active = false;
        counters_.inc(Mib::tlp_spurious);
        return;
    }
    if (ls.tlp_end < t.snd_una) {
        ls.tlp_active = false;
        counters_.inc(Mib::tlp_loss_repaired);
        t.ssthresh = cc::on_congestion(t, static_cast<std::uint32_t>(t.snd_max - t.snd_una));
        t.cwnd = std::max<std::uint32_t>(t.ssthresh, t.snd_mss);
        return;
    }
    if (!una_advanced && delivered == 0) {
        ls.tlp_active = false;
        counters_.inc(Mib::tlp_spurious);
    }
}

// RFC 8985 §7.2: arm the probe timeout once new data is sent or an ACK
// moves SND.UNA, when SACK is in use, nothing is SACKed or lost, and no
// recovery or timeout backoff is under way. PTO = 2*SRTT, plus the worst
// case delayed ACK (200 ms, Linux's minimum RTO) when one segment is in
// flight or Linux's 2 ms otherwise; 1 s without an RTT sample; never later
// than the RTO.
void Engine::schedule_loss_probe(Tcb& t, Instant now) {
    LossState* ls = send_log(t);
    if (ls == nullptr) return;
    if (ls->timer == LossTimer::reorder) return;
    const bool open = !ls->in_recovery && ls->sacked_segs == 0 && ls->lost_bytes == 0 && t.backoff == 0;
    if (!open || ls->log.n == 0) {  // (the log, not SND.MAX: called as a segment goes out)
        if (ls->timer == LossTimer::probe) {
            ls->timer = LossTimer::none;
            ls->timer_at = kNoDeadline;
        }
        return;
    }
    std::uint64_t pto_us = 1'000'000;
    if (t.srtt_us != 0) {
        pto_us = 2ull * t.srtt_us;
        pto_us += ls->log.n == 1 ? static_cast<std::uint64_t>(config_.min_rto.as_micros()) : kTimerSlackUs;
    }
    TickMs at = deadline(now, Duration::micros(static_cast<std::int64_t>(pto_us)));
    // The RTO as armed, or as about to be armed for the first segment out.
    const TickMs rto_at = t.rtx_deadline != kNoDeadline
                              ? t.rtx_deadline
                              : deadline(now, Duration::millis(static_cast<std::int64_t>(t.rto_ms)));
    at = std::min(at, rto_at);
    ls->timer = LossTimer::probe;
    ls->timer_at = at;
}

TickMs Engine::loss_deadline(const Tcb& t) const {
    if (t.loss == kNoIndex) return kNoDeadline;
    const LossState& ls = losses_.at(t.loss);
    return ls.timer == LossTimer::none ? kNoDeadline : ls.timer_at;
}

// The reorder timer or the probe timer fired (called before the RTO).
void Engine::on_loss_timer(Tcb& t, Instant now) {
    LossState* ls = send_log(t);
    if (ls == nullptr) return;
    const LossTimer kind = ls->timer;
    ls->timer = LossTimer::none;
    ls->timer_at = kNoDeadline;
    if (kind == LossTimer::reorder) {
        on_reorder_timeout(t, *ls, now);
    } else if (kind == LossTimer::probe) {
        send_loss_probe(t, *ls, now);
    }
}

// RFC 8985 §6.3: the reordering window has passed; mark what is now lost,
// start recovery if needed (PRR counts one segment delivered, as Linux) and
// retransmit.
void Engine::on_reorder_timeout(Tcb& t, LossState& ls, Instant now) {
    bool armed = false;
    const std::uint32_t lost = rack_detect_loss(t, ls, now, armed);
    if (lost == 0) return;
    if (!ls.in_recovery && !after_timeout(t, ls)) {
        enter_sack_recovery(t, ls);
        prr_on_ack(t, ls, t.snd_mss, lost, false);
    }
    retransmit_lost(t, ls, now);
}

// RFC 8985 §7.3: send one probe per episode: new data if the peer's window
// allows (cwnd does not limit a probe), else the last segment sent again;
// then restart the RTO from now.
void Engine::send_loss_probe(Tcb& t, LossState& ls, Instant now) {
    if (ls.tlp_active || t.snd_una == t.snd_max) return;
    const SeqNum before = t.snd_max;
    const auto offset = static_cast<std::uint32_t>(t.snd_nxt - t.snd_una);
    if (t.snd_nxt == t.snd_max && offset < t.snd_buf.len && t.snd_wnd > offset) {
        const std::uint32_t cwnd = t.cwnd;
        const bool nodelay = t.nodelay;
        t.cwnd = pipe(t) + t.snd_mss;  // one segment beyond cwnd
        t.nodelay = true;               // and Nagle does not hold it
        output_data(t, now);
        t.cwnd = std::max(cwnd, t.cwnd - t.snd_mss);
        t.nodelay = nodelay;
    }
    if (before != t.snd_max) {
        ls.tlp_is_retrans = false;
    } else {
        const SendLog& g = ls.log;
        if (g.n == 0) return;
        const auto last = static_cast<std::uint16_t>(g.n - 1);
        const bool fin = (g.flags[g.slot(last)] & SendLog::kFin) != 0;
        SeqNum from = g.left(last);
        const SeqNum data_end = g.right(last) - (fin ? 1u : 0u);
        if (data_end - from > static_cast<std::int32_t>(t.snd_mss)) from = data_end - t.snd_mss;
        if (!retransmit_range(t, from, g.right(last), fin, now)) return;
        ls.tlp_is_retrans = true;
    }
    ls.tlp_active = true;
    ls.tlp_end = t.snd_max;
    counters_.inc(Mib::tlp_probes);
    arm_rtx(t, now);
    rearm(t);
}

// After an RTO (RFC 6298 §5, RFC 2018 §8): SACK and loss marks are
// forgotten and go-back-N resends from SND.UNA; RACK stays quiet until the
// data outstanding at the timeout is acknowledged (RFC 6582 "recover").
void Engine::log_forget(LossState& ls) {
    SendLog& g = ls.log;
    for (std::uint16_t i = 0; i < g.n; ++i) {
        std::uint8_t& f = g.flags[g.slot(i)];
        f = static_cast<std::uint8_t>(f & ~(SendLog::kSacked | SendLog::kLost));
    }
    ls.sacked_bytes = ls.lost_bytes = ls.sacked_segs = 0;
    ls.rack_advanced = false;
    ls.tlp_active = false;
    ls.timer = LossTimer::none;
    ls.timer_at = kNoDeadline;
}

bool Engine::after_timeout(const Tcb& t, const LossState& ls) const {
    return !ls.in_recovery && ls.recover_valid && !(ls.recover < t.snd_una);
}

}  // namespace tcpfp::tcp
