// Reassembly of out-of-order data (receiver) and loss recovery (sender):
// SACK recovery driven by RACK (RFC 8985, detection in rack.cpp) with
// Proportional Rate Reduction (RFC 6937), NewReno fast retransmit and
// recovery with PRR for connections without SACK (RFC 5681 §3.2, RFC
// 6582), limited transmit (RFC 3042), and zero-window probes (RFC 9293
// §3.8.6.1).
#include <algorithm>

#include "tcp/engine/congestion.hpp"
#include "tcp/engine/engine.hpp"

namespace tcpfp::tcp {

using namespace wire;

LossState* Engine::loss_state(Tcb& t, bool create) {
    if (t.loss != kNoIndex) return &losses_.at(t.loss);
    if (!create) return nullptr;
    const PoolHandle h = losses_.acquire();
    if (h == PoolHandle::invalid()) return nullptr;
    t.loss = h.index;
    return &losses_.at(h.index);
}

void Engine::release_loss_if_idle(Tcb& t) {
    if (t.loss == kNoIndex) return;
    const LossState& ls = losses_.at(t.loss);
    // Nothing held beyond RCV.NXT (any more): the chunks of a hole or of
    // discarded out-of-order data go back to the pool.
    if (ls.ooo.empty()) t.rcv_buf.trim(buffers_);
    if (ls.ooo.empty() && !ls.ooo_fin && ls.sacked.empty() && !ls.in_recovery && !ls.recover_valid &&
        !ls.log_on) {
        (void)losses_.release(losses_.handle_of(t.loss));
        t.loss = kNoIndex;
    }
}

// Out-of-order data or a FIN beyond a hole is held.
bool Engine::holds_out_of_order(const Tcb& t) const {
    if (t.loss == kNoIndex) return false;
    const LossState& ls = losses_.at(t.loss);
    return !ls.ooo.empty() || ls.ooo_fin;
}

// Holds a segment that starts beyond RCV.NXT in the receive ring at its
// place, so that filling the hole makes it readable without copying again.
// Nothing is held at or beyond a FIN already held: the stream ends there.
bool Engine::queue_out_of_order(Tcb& t, const InSegment& seg, Instant now) {
    LossState* ls = loss_state(t, true);
    const std::uint32_t offset = static_cast<std::uint32_t>(seg.seq - t.rcv_nxt);
    const std::int32_t adv = t.rcv_adv - t.rcv_nxt;
    std::uint32_t window = std::max<std::uint32_t>(adv > 0 ? static_cast<std::uint32_t>(adv) : 0,
                                                   t.rcv_limit > t.rcv_buf.len ? t.rcv_limit - t.rcv_buf.len : 0);
    Drop reason = Drop::out_of_order;
    if (ls != nullptr && ls->ooo_fin) {
        window = std::min(window, static_cast<std::uint32_t>(ls->ooo_fin_seq - t.rcv_nxt));
        if (offset >= window) reason = Drop::data_beyond_fin;
    }
    bool stored = false;
    if (ls != nullptr && !t.shut_rd && offset < window) {
        const auto room = static_cast<std::size_t>(window - offset);
        const auto data = seg.payload.first(std::min(seg.payload.size(), room));
        bool no_buffer = false;
        const std::uint32_t n = t.rcv_buf.write_at(buffers_, t.rcv_buf.len + offset, data, 0, no_buffer);
        if (no_buffer && n == 0) reason = Drop::no_buffers;  // counted once, below
        if (no_buffer && n > 0) counters_.drop(Drop::no_buffers);  // the tail
        if (n > 0 && ls->ooo.add(seg.seq, seg.seq + n)) {
            stored = true;
            ls->recent = {seg.seq, seg.seq + n};
            for (std::uint8_t i = 0; i < ls->ooo.n; ++i) {
                if (ls->ooo.r[i].left <= seg.seq && seg.seq < ls->ooo.r[i].right) ls->recent = ls->ooo.r[i];
            }
            if (seg.has(tcp_flag::fin) && n == seg.payload.size()) hold_fin(*ls, seg.seq + n);
        }
    }
    if (!stored) {
        counters_.drop(reason);
        release_loss_if_idle(t);
    }
    send_ack(t, now);  // RFC 5681 §4.2: a duplicate ACK at once, with SACK blocks
    return stored;
}

// A FIN without data beyond a hole: the eighth step of RFC 9293 §3.10.7.4
// applies only once it is in order, so it is kept with the reassembly
// state, and answered, like any out-of-order segment, by an immediate
// duplicate ACK (RFC 5681 §4.2) whose SACK block covers it (RFC 2018 §4),
// as Linux and FreeBSD keep it in their out-of-order queues. The sequence
// check already placed it inside the window we advertised.
void Engine::queue_out_of_order_fin(Tcb& t, SeqNum fin_seq, Instant now) {
    LossState* ls = loss_state(t, true);
    if (ls == nullptr) {
        counters_.drop(Drop::out_of_order);  // the peer's FIN retransmission brings it again
    } else {
        hold_fin(*ls, fin_seq);
        ls->recent = {fin_seq, fin_seq + 1};
    }
    send_ack(t, now);
}

// The stream ends at the first FIN: of two held (only a confused or forged
// peer sends them), the lower one counts.
void Engine::hold_fin(LossState& ls, SeqNum fin_seq) {
    if (ls.ooo_fin && !(fin_seq < ls.ooo_fin_seq)) return;
    ls.ooo_fin = true;
    ls.ooo_fin_seq = fin_seq;
}

// After RCV.NXT advanced: make held ranges that now touch it readable, then
// take a held FIN the stream has reached (RFC 9293 §3.10.7.4 "eighth, check
// the FIN bit"), in the same ACK. Held data beyond that FIN is not part of
// the stream and is discarded (as Linux purges its out-of-order queue); a
// held FIN the in-order data has run past was never the stream's end, and
// is forgotten.
bool Engine::drain_reassembly(Tcb& t, Instant now) {
    LossState& ls = losses_.at(t.loss);
    ls.ooo.trim_below(t.rcv_nxt);
    while (!ls.ooo.empty() && ls.ooo.r[0].left == t.rcv_nxt) {
        const std::uint32_t n = static_cast<std::uint32_t>(ls.ooo.r[0].right - t.rcv_nxt);
        // After SHUT_RD the held bytes were discarded with the buffer: the
        // sequence space moves on, nothing becomes readable.
        if (!t.shut_rd) t.rcv_buf.extend(n);
        t.rcv_nxt += n;
        ls.ooo.trim_below(t.rcv_nxt);
        post(index_of(t), EventKind::readable);
    }
    bool fin_next = false;
    if (ls.ooo_fin && !(t.rcv_nxt < ls.ooo_fin_seq)) {
        fin_next = ls.ooo_fin_seq == t.rcv_nxt;
        ls.ooo_fin = false;
        if (fin_next && !ls.ooo.empty()) {
            counters_.drop(Drop::data_beyond_fin);
            ls.ooo.clear();
        }
    }
    release_loss_if_idle(t);
    if (fin_next) return accept_fin(t, now);
    return true;
}

// RFC 2018 §3 / RFC 6675 §4: record what the peer holds above SND.UNA.
void Engine::on_sack(Tcb& t, const InSegment& seg, Instant now) {
    if (!t.sack_ok || seg.options.sack_count == 0) return;
    if (LossState* log = send_log(t)) {
        bool first = true;
        for (const SackBlock& b : seg.options.sack_blocks()) {
            if (b.left < b.right && b.right <= t.snd_max) log_sacked(t, *log, b.left, b.right, first, now);
            first = false;
        }
        return;
    }
    LossState* ls = nullptr;
    for (const SackBlock& b : seg.options.sack_blocks()) {
        // Ignore blocks that are not within what we sent (RFC 2018 §5: the
        // receiver may renege; blocks below SND.UNA are D-SACKs or stale).
        if (!(t.snd_una < b.right && b.right <= t.snd_max && b.left < b.right)) continue;
        if (ls == nullptr) ls = loss_state(t, true);
        if (ls == nullptr) return;
        (void)ls->sacked.add(seq_max(b.left, t.snd_una), b.right);
    }
}

// RFC 5681 §3.2 and RFC 6582 §3.2: the third duplicate ACK starts fast
// retransmit; the first two may each release one new segment (RFC 3042).
void Engine::on_duplicate_ack(Tcb& t, Instant now) {
    if (t.dupacks < 255) ++t.dupacks;
    if (send_log(t) != nullptr) return;  // RACK decides (rack_on_ack)
    LossState* ls = loss_state(t, false);
    if (ls != nullptr && ls->in_recovery) {
        if (!t.sack_ok) {
            // RFC 6937: each duplicate ACK delivered one segment; PRR
            // replaces RFC 6582 §3.2 step 4's window inflation.
            ++ls->reno_dupacks;
            prr_on_ack(t, *ls, t.snd_mss, 0, false);
        } else {
            t.cwnd += t.snd_mss;  // RFC 6582 §3.2 step 4 (SACK without a send log)
            retransmit_holes(t, now);
        }
        output_data(t, now);
        return;
    }
    // RFC 6675 §5: with SACK, loss is also declared once more than
    // DupThresh segments are SACKed above SND.UNA.
    const bool sack_says_lost =
        ls != nullptr && ls->sacked.bytes() >= 3u * t.snd_mss;
    if (t.dupacks < 3 && !sack_says_lost) {
        // RFC 3042: send one new segment per dup ACK, within cwnd + 2*SMSS.
        const std::uint32_t saved = t.cwnd;
        t.cwnd = saved + static_cast<std::uint32_t>(t.dupacks) * t.snd_mss;
        output_data(t, now);
        t.cwnd = saved;
        return;
    }
    // RFC 6582 §3.2 step 2: only if this loss is after the last recovery.
    ls = loss_state(t, true);
    if (ls == nullptr) return;
    if (ls->recover_valid && !(ls->recover < t.snd_una)) return;  // RFC 6582 §3.2 step 2
    if (t.mtu_probe_out) plpmtud_abandon(t);  // RFC 4821 §7.6.3 (no send log to tell)
    ls->in_recovery = true;
    ls->recover_valid = true;
    ls->recover = t.snd_max;
    ls->high_rxt = t.snd_una;
    const std::uint32_t flight = static_cast<std::uint32_t>(t.snd_max - t.snd_una);
    t.ssthresh = cc::on_congestion(t, flight);
    counters_.inc(Mib::fast_retransmits);
    prr_begin(t, *ls);
    if (!t.sack_ok) {
        // RFC 6937 from the first ACK: the three duplicate ACKs delivered
        // three segments; the head counts as lost until it is resent.
        ls->reno_dupacks = t.dupacks;
        prr_on_ack(t, *ls, t.snd_mss, t.snd_mss, false);
    } else {
        t.cwnd = t.ssthresh;  // RFC 6675 §5 step 4 (SACK without a send log)
    }
    if (retransmit_at(t, t.snd_una, now)) {
        ls->high_rxt = t.snd_una + t.snd_mss;
        if (!t.sack_ok) ls->prr_out += t.snd_mss;
    }
    if (t.sack_ok) retransmit_holes(t, now);
    t.rtt_timing = false;  // Karn
    arm_rtx(t, now);
}

// An ACK that advances SND.UNA while recovering (RFC 6582 §3.2 steps 5-6).
void Engine::on_recovery_ack(Tcb& t, SeqNum ack, std::uint32_t acked, Instant now) {
    LossState& ls = losses_.at(t.loss);
    if (!(ack < ls.recover)) {
        // Full acknowledgement: leave recovery with cwnd = ssthresh (RFC
        // 6582 §3.2 step 6 option 2, where PRR has brought the flight).
        exit_recovery(t, ls);
        return;
    }
    if (!t.sack_ok) {
        // Partial acknowledgement without SACK (RFC 6582 §3.2 step 5): the
        // next segment is lost too. PRR (RFC 6937) sizes what may be sent:
        // one segment filled the hole, the rest of what was acknowledged
        // had already been counted by duplicate ACKs (as Linux counts it).
        const std::uint32_t segs = (acked + t.snd_mss - 1) / t.snd_mss;
        const std::uint32_t eaten = std::min(segs > 0 ? segs - 1 : 0, ls.reno_dupacks);
        const std::uint32_t delivered =
            std::max<std::uint32_t>(acked > ls.reno_dupacks * t.snd_mss ? acked - ls.reno_dupacks * t.snd_mss : 0,
                                    t.snd_mss);
        ls.reno_dupacks -= eaten;
        const bool resend = !(ack < ls.high_rxt);
        prr_on_ack(t, ls, delivered, resend ? t.snd_mss : 0, true);
        if (resend && retransmit_at(t, ack, now)) {
            ls.high_rxt = seq_max(ls.high_rxt, ack + t.snd_mss);
            ls.prr_out += t.snd_mss;
        }
        arm_rtx(t, now);
        return;
    }
    // Partial acknowledgement: the next hole is lost too; retransmit it and
    // deflate by the amount acknowledged (keep one SMSS of the inflation).
    // Only if that hole has not been resent already during this recovery.
    if (!(ack < ls.high_rxt) && (!t.sack_ok || !ls.sacked.contains(ack))) {
        if (retransmit_at(t, ack, now)) ls.high_rxt = seq_max(ls.high_rxt, ack + t.snd_mss);
    }
    if (t.sack_ok) retransmit_holes(t, now);
    t.cwnd = t.cwnd > acked ? t.cwnd - acked : t.snd_mss;
    t.cwnd += t.snd_mss;
    arm_rtx(t, now);
}

// RFC 6675 §4 "pipe", estimated from the scoreboard: unSACKed bytes beyond
// the highest SACKed one are in flight; below it, holes count only once
// retransmitted (below HighRxt), since the ones not yet resent are lost.
// Without a scoreboard or outside recovery it is what was sent from SND.UNA
// up to SND.NXT (which a timeout rewinds for go-back-N).
std::uint32_t Engine::pipe(const Tcb& t) const {
    const std::uint32_t outstanding = static_cast<std::uint32_t>(t.snd_nxt - t.snd_una);
    if (t.loss == kNoIndex) return outstanding;
    const LossState& ls = losses_.at(t.loss);
    if (ls.log_on) {
        // With the send log, as RFC 6675 §4 defines pipe and Linux counts
        // packets in flight: outstanding bytes less those SACKed and those
        // deemed lost and not yet resent.
        const std::uint32_t out = ls.sacked_bytes + ls.lost_bytes;
        return outstanding > out ? outstanding - out : 0;
    }
    if (!t.sack_ok && ls.in_recovery) {
        // Without SACK, each duplicate ACK stands for one segment that left.
        const std::uint32_t left = ls.reno_dupacks * t.snd_mss;
        return outstanding > left ? outstanding - left : 0;
    }
    if (!ls.in_recovery || ls.sacked.empty()) return outstanding;
    const SeqNum highest = ls.sacked.r[ls.sacked.n - 1].right;
    std::uint32_t p = highest < t.snd_nxt ? static_cast<std::uint32_t>(t.snd_nxt - highest) : 0;
    const SeqNum rxt_end = seq_min(seq_max(ls.high_rxt, t.snd_una), highest);
    // Unsacked bytes in [snd_una, rxt_end): the retransmitted holes.
    SeqNum at = t.snd_una;
    for (std::uint8_t i = 0; i < ls.sacked.n && at < rxt_end; ++i) {
        const SeqNum hole_end = seq_min(ls.sacked.r[i].left, rxt_end);
        if (at < hole_end) p += static_cast<std::uint32_t>(hole_end - at);
        at = seq_max(at, ls.sacked.r[i].right);
    }
    return p;
}

// RFC 6675 §5 NextSeg() rule 1, simplified: retransmit unSACKed ranges below
// the highest SACKed byte, from HighRxt on, while the pipe has room.
void Engine::retransmit_holes(Tcb& t, Instant now) {
    LossState& ls = losses_.at(t.loss);
    if (ls.sacked.empty()) return;
    const SeqNum highest = ls.sacked.r[ls.sacked.n - 1].right;
    SeqNum seq = seq_max(ls.high_rxt, t.snd_una);
    for (int sent = 0; sent < 64 && seq < highest; ++sent) {
        // Skip SACKed bytes.
        bool moved = true;
        while (moved) {
            moved = false;
            for (std::uint8_t i = 0; i < ls.sacked.n; ++i) {
                if (ls.sacked.r[i].left <= seq && seq < ls.sacked.r[i].right) {
                    seq = ls.sacked.r[i].right;
                    moved = true;
                }
            }
        }
        if (!(seq < highest)) break;
        if (pipe(t) >= t.cwnd) break;
        if (!retransmit_at(t, seq, now)) break;
        seq += t.snd_mss;
        ls.high_rxt = seq;
    }
}

// Sends one segment of already-sent data starting at `seq`, up to SMSS and
// never past the next SACKed block or SND.MAX; fresh timestamp. SND.NXT is
// not moved (RFC 6675 keeps new data and retransmissions apart).
bool Engine::retransmit_at(Tcb& t, SeqNum seq, Instant now) {
    if (!(t.snd_una <= seq && seq < t.snd_max)) return false;
    const std::uint32_t offset = static_cast<std::uint32_t>(seq - t.snd_una);
    if (offset >= t.snd_buf.len) return false;  // only our FIN is left: RTO resends it
    std::uint32_t n = std::min<std::uint32_t>(payload_mss(t), t.snd_buf.len - offset);
    n = std::min<std::uint32_t>(n, static_cast<std::uint32_t>(t.snd_max - seq));
    if (LossState* ls = loss_state(t, false)) {
        for (std::uint8_t i = 0; i < ls->sacked.n; ++i) {
            if (seq < ls->sacked.r[i].left) {
                n = std::min<std::uint32_t>(n, static_cast<std::uint32_t>(ls->sacked.r[i].left - seq));
                break;
            }
        }
    }
    if (n == 0) return false;
    OutSegment* s = push_segment();
    if (s == nullptr) return false;
    fill_header(t, *s, tcp_flag::ack, seq, now);
    attach_payload(t, *s, offset, n);
    if (offset + n == t.snd_buf.len) s->flags |= tcp_flag::psh;
    counters_.inc(Mib::retrans_segs);
    return true;
}

// RFC 9293 §3.8.6.1 (MUST-35/36): with a zero window and data waiting, send
// one byte beyond the window each time the persist timer fires; the timer
// backs off like the RTO (SHLD-29/30) and the connection is kept while the
// peer answers (MUST-37).
// With a small nonzero window the same timer sends what the window allows
// (RFC 1122 §4.2.3.4 SWS override).
void Engine::send_window_probe(Tcb& t, Instant now) {
    if (t.snd_buf.len == 0) return;
    const std::uint32_t n = std::min({std::max<std::uint32_t>(t.snd_wnd, 1), payload_mss(t),
                                      t.snd_buf.len});
    OutSegment* s = push_segment();
    if (s == nullptr) return;
    fill_header(t, *s, tcp_flag::ack | tcp_flag::psh, t.snd_una, now);
    attach_payload(t, *s, 0, n);
    counters_.inc(Mib::window_probes);
    log_sent(t, t.snd_una, n, false, now);
    if (t.snd_max - t.snd_una < static_cast<std::int32_t>(n)) t.snd_max = t.snd_una + n;
    t.snd_nxt = t.snd_max;
}

// --- PRR (RFC 6937) ---------------------------------------------------------

// RFC 6937 §3 at the start of recovery: prr_delivered = prr_out = 0 and
// RecoverFS = snd.nxt - snd.una (the RFC's choice; Linux takes the cwnd).
void Engine::prr_begin(Tcb& t, LossState& ls) {
    ls.prr_delivered = 0;
    ls.prr_out = 0;
    ls.recover_fs = std::max<std::uint32_t>(static_cast<std::uint32_t>(t.snd_max - t.snd_una), 1);
}

// RFC 6937 §3 on every ACK in recovery, with the reduction bound of
// draft-ietf-tcpm-prr-rfc6937bis as Linux applies it (PRR-SSRB): while pipe
// exceeds ssthresh, send in proportion to what was delivered; below it,
// catch up towards ssthresh by what was delivered, plus one MSS when the ACK
// advanced SND.UNA and revealed no new loss. The first ACK always releases
// the fast retransmit. For the non-SACK pipe, `newly_lost` also names a
// lost head that is about to be resent (not in flight yet).
void Engine::prr_on_ack(Tcb& t, LossState& ls, std::uint32_t delivered, std::uint32_t newly_lost,
                        bool una_advanced) {
    if (delivered == 0) return;
    ls.prr_delivered += delivered;
    std::int64_t p = pipe(t);
    if (!ls.log_on) p = std::max<std::int64_t>(p - newly_lost, 0);
    const std::int64_t ssthresh = t.ssthresh;
    const std::int64_t done = std::int64_t{ls.prr_delivered} - ls.prr_out;
    std::int64_t sndcnt = 0;
    if (p > ssthresh) {
        // Proportional Rate Reduction: CEIL(prr_delivered * ssthresh / RecoverFS) - prr_out.
        const std::int64_t share = (std::int64_t{ls.prr_delivered} * ssthresh + ls.recover_fs - 1) / ls.recover_fs;
        sndcnt = share - ls.prr_out;
    } else {
        std::int64_t limit = std::max<std::int64_t>(done, delivered);
        if (una_advanced && newly_lost == 0) limit += t.snd_mss;  // PRR-SSRB
        sndcnt = std::min(ssthresh - p, limit);
    }
    sndcnt = std::max<std::int64_t>(sndcnt, 0);
    if (ls.prr_out == 0 && sndcnt == 0) sndcnt = t.snd_mss;  // the fast retransmit itself
    t.cwnd = static_cast<std::uint32_t>(std::min<std::int64_t>(p + sndcnt, UINT32_MAX));
}

// Recovery ends once everything outstanding at its start is acknowledged:
// cwnd = ssthresh (RFC 6582 §3.2 step 6 option 2; RFC 6937 leaves cwnd there).
void Engine::exit_recovery(Tcb& t, LossState& ls) {
    ls.in_recovery = false;
    ls.recover_valid = false;  // a later loss starts a new recovery
    t.cwnd = std::max<std::uint32_t>(t.ssthresh, t.snd_mss);
    t.dupacks = 0;
    ls.reno_dupacks = 0;
    // RFC 8985 §6.2: the widened reordering window lasts 16 recoveries.
    if (ls.reo_wnd_persist > 0) {
        --ls.reo_wnd_persist;
    } else {
        ls.reo_wnd_mult = 1;
    }
}

// --- SACK recovery with RACK ------------------------------------------------

// RACK marked something lost outside recovery: fast recovery begins (RFC
// 6675 §5 with RFC 8985 §6.2 as the loss detector): ssthresh from the
// congestion controller, PRR from zero, recover = SND.MAX.
void Engine::enter_sack_recovery(Tcb& t, LossState& ls) {
    ls.in_recovery = true;
    ls.recover_valid = true;
    ls.recover = t.snd_max;
    t.ssthresh = cc::on_congestion(t, static_cast<std::uint32_t>(t.snd_max - t.snd_una));
    prr_begin(t, ls);
    ls.tlp_active = false;  // the episode's outcome no longer matters
    if (ls.timer == LossTimer::probe) {
        ls.timer = LossTimer::none;
        ls.timer_at = kNoDeadline;
    }
    t.rtt_timing = false;  // Karn
    counters_.inc(Mib::fast_retransmits);
}

// Resends records marked lost, in sequence order, while pipe leaves room
// in cwnd (RFC 6675 §5 NextSeg rule 1 with RACK's marks; PRR sized cwnd).
// Resending the first unacknowledged record restarts the RTO, as Linux.
void Engine::retransmit_lost(Tcb& t, LossState& ls, Instant now) {
    SendLog& g = ls.log;
    for (std::uint16_t i = 0; i < g.n && ls.lost_bytes > 0; ++i) {
        const std::uint16_t s = g.slot(i);
        if ((g.flags[s] & SendLog::kLost) == 0) continue;
        const SeqNum l = g.left(i);
        const SeqNum r = g.right(i);
        const auto len = std::min<std::uint32_t>(static_cast<std::uint32_t>(r - l), t.snd_mss);
        if (pipe(t) + len > t.cwnd) break;
        const bool fin = (g.flags[s] & SendLog::kFin) != 0;
        if (!retransmit_range(t, l, r, fin, now)) break;
        if (l == t.snd_una) arm_rtx(t, now);
    }
}

// Sends [seq, end) again in MSS-sized pieces (the FIN with the last one when
// `fin`), with fresh timestamps; SND.NXT does not move.
bool Engine::retransmit_range(Tcb& t, SeqNum seq, SeqNum end, bool fin, Instant now) {
    const SeqNum data_end = end - (fin ? 1u : 0u);
    bool sent = false;
    do {
        if (seq < t.snd_una) return sent;
        const auto offset = static_cast<std::uint32_t>(seq - t.snd_una);
        const std::uint32_t avail = offset < t.snd_buf.len ? t.snd_buf.len - offset : 0;
        const std::uint32_t n = std::min({static_cast<std::uint32_t>(data_end - seq),
                                          payload_mss(t), avail});
        const bool fin_here = fin && seq + n == data_end;
        if (n == 0 && !fin_here) return sent;
        OutSegment* s = push_segment();
        if (s == nullptr) return sent;
        std::uint8_t flags = tcp_flag::ack;
        if (fin_here) flags |= tcp_flag::fin;
        if (n > 0 && offset + n == t.snd_buf.len) flags |= tcp_flag::psh;
        fill_header(t, *s, flags, seq, now);
        if (n > 0) attach_payload(t, *s, offset, n);
        counters_.inc(Mib::retrans_segs);
        if (fin_here) counters_.inc(Mib::fin_retransmits);
        log_sent(t, seq, n, fin_here, now);
        seq += n;
        sent = true;
        if (fin_here) break;
    } while (seq < data_end);
    return sent;
}

// Every ACK on a connection with a send log ends here, once its SACK
// blocks and cumulative acknowledgement are in the log: the TLP episode
// (RFC 8985 §7.4), the end of recovery, RACK's loss detection (§6.2), the
// start of recovery, PRR or the congestion controller, the retransmissions,
// and the probe timer. `cong` is false for an ACK below SND.UNA that only
// brings SACK information (Linux then skips the congestion response too).
void Engine::rack_on_ack(Tcb& t, std::uint32_t acked, bool una_advanced, bool cong, Instant now) {
    LossState* lp = send_log(t);
    if (lp == nullptr) return;
    LossState& ls = *lp;
    const std::uint32_t delivered = ls.ack_delivered;
    const bool dsack = ls.ack_dsack;
    ls.ack_delivered = 0;
    ls.ack_dsack = false;
    if (dsack) rack_on_dsack(t, ls);
    tlp_on_ack(t, ls, una_advanced, delivered, dsack);
    if (ls.in_recovery && !(t.snd_una < ls.recover)) {
        exit_recovery(t, ls);
    } else if (!ls.in_recovery && ls.recover_valid && ls.recover < t.snd_una) {
        ls.recover_valid = false;  // the data outstanding at the last RTO is acknowledged
    }
    bool armed = false;
    std::uint32_t newly_lost = 0;
    if (ls.rack_advanced && !after_timeout(t, ls)) {
        ls.rack_advanced = false;
        newly_lost = rack_detect_loss(t, ls, now, armed);
    }
    // RFC 4821 §7.6.2: a path MTU probe lost alone is no congestion signal.
    const bool probe_lost =
        t.mtu_probe_out && !ls.in_recovery && ls.lost_bytes > 0 && plpmtud_probe_lost(t, ls, now);
    if (!ls.in_recovery && ls.lost_bytes > 0 && !after_timeout(t, ls) && !probe_lost) enter_sack_recovery(t, ls);
    if (cong) {
        if (ls.in_recovery) {
            prr_on_ack(t, ls, delivered, newly_lost, una_advanced);
        } else if (acked > 0) {
            t.dupacks = 0;
            cc::on_ack(t, acked, tick(now));
        }
    }
    if (ls.lost_bytes > 0) retransmit_lost(t, ls, now);
    if (una_advanced && !armed) schedule_loss_probe(t, now);
    if (t.snd_una == t.snd_max && !ls.in_recovery) log_end(t, ls);
}

}  // namespace tcpfp::tcp
