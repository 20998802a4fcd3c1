// Reassembly of out-of-order data (receiver) and loss recovery (sender):
// SACK (RFC 2018, RFC 6675), NewReno fast retransmit and recovery (RFC 5681
// §3.2, RFC 6582), limited transmit (RFC 3042), and zero-window probes
// (RFC 9293 §3.8.6.1).
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
    if (ls.ooo.empty() && !ls.ooo_fin && ls.sacked.empty() && !ls.in_recovery && !ls.recover_valid) {
        (void)losses_.release(losses_.handle_of(t.loss));
        t.loss = kNoIndex;
    }
}

// Holds a segment that starts beyond RCV.NXT in the receive ring at its
// place, so that filling the hole makes it readable without copying again.
bool Engine::queue_out_of_order(Tcb& t, const InSegment& seg, Instant now) {
    LossState* ls = loss_state(t, true);
    const std::uint32_t offset = static_cast<std::uint32_t>(seg.seq - t.rcv_nxt);
    const std::int32_t adv = t.rcv_adv - t.rcv_nxt;
    const std::uint32_t window = std::max<std::uint32_t>(adv > 0 ? static_cast<std::uint32_t>(adv) : 0,
                                                         t.rcv_limit > t.rcv_buf.len ? t.rcv_limit - t.rcv_buf.len : 0);
    bool stored = false;
    if (ls != nullptr && !t.shut_rd && offset < window) {
        const auto room = static_cast<std::size_t>(window - offset);
        const auto data = seg.payload.first(std::min(seg.payload.size(), room));
        bool no_buffer = false;
        const std::uint32_t n = t.rcv_buf.write_at(buffers_, t.rcv_buf.len + offset, data, no_buffer);
        if (no_buffer) counters_.drop(Drop::no_buffers);
        if (n > 0 && ls->ooo.add(seg.seq, seg.seq + n)) {
            stored = true;
            ls->recent = {seg.seq, seg.seq + n};
            for (std::uint8_t i = 0; i < ls->ooo.n; ++i) {
                if (ls->ooo.r[i].left <= seg.seq && seg.seq < ls->ooo.r[i].right) ls->recent = ls->ooo.r[i];
            }
            if (seg.has(tcp_flag::fin) && n == seg.payload.size()) {
                ls->ooo_fin = true;
                ls->ooo_fin_seq = seg.seq + n;
            }
        }
    }
    if (!stored) {
        counters_.drop(Drop::out_of_order);
        release_loss_if_idle(t);
    }
    send_ack(t, now);
    return stored;
}

// After RCV.NXT advanced: make held ranges that now touch it readable.
bool Engine::drain_reassembly(Tcb& t, Instant now) {
    LossState& ls = losses_.at(t.loss);
    ls.ooo.trim_below(t.rcv_nxt);
    while (!ls.ooo.empty() && ls.ooo.r[0].left == t.rcv_nxt) {
        const std::uint32_t n = static_cast<std::uint32_t>(ls.ooo.r[0].right - t.rcv_nxt);
        t.rcv_buf.extend(n);
        t.rcv_nxt += n;
        ls.ooo.trim_below(t.rcv_nxt);
        post(index_of(t), EventKind::readable);
    }
    const bool fin_next = ls.ooo_fin && ls.ooo_fin_seq == t.rcv_nxt && ls.ooo.empty();
    if (fin_next) ls.ooo_fin = false;
    release_loss_if_idle(t);
    if (fin_next) return accept_fin(t, now);
    return true;
}

// RFC 2018 §3 / RFC 6675 §4: record what the peer holds above SND.UNA.
void Engine::on_sack(Tcb& t, const InSegment& seg) {
    if (!t.sack_ok || seg.options.sack_count == 0) return;
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
    LossState* ls = loss_state(t, false);
    if (ls != nullptr && ls->in_recovery) {
        // RFC 6582 §3.2 step 4: inflate the window for each segment that left.
        t.cwnd += t.snd_mss;
        if (t.sack_ok) retransmit_holes(t, now);
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
    ls->in_recovery = true;
    ls->recover_valid = true;
    ls->recover = t.snd_max;
    ls->high_rxt = t.snd_una;
    const std::uint32_t flight = static_cast<std::uint32_t>(t.snd_max - t.snd_una);
    t.ssthresh = cc::on_congestion(t, flight);
    counters_.inc(Mib::fast_retransmits);
    if (retransmit_at(t, t.snd_una, now)) ls->high_rxt = t.snd_una + t.snd_mss;
    // RFC 6675 §5 step 4 sets cwnd = ssthresh; RFC 6582 adds 3*SMSS for the
    // segments that left the network.
    t.cwnd = t.sack_ok ? t.ssthresh : t.ssthresh + 3u * t.snd_mss;
    if (t.sack_ok) retransmit_holes(t, now);
    t.rtt_timing = false;  // Karn
    arm_rtx(t, now);
}

// An ACK that advances SND.UNA while recovering (RFC 6582 §3.2 steps 5-6).
void Engine::on_recovery_ack(Tcb& t, SeqNum ack, std::uint32_t acked, Instant now) {
    LossState& ls = losses_.at(t.loss);
    if (!(ack < ls.recover)) {
        // Full acknowledgement: leave recovery, deflate the window.
        ls.in_recovery = false;
        ls.recover_valid = false;  // a later loss starts a new recovery
        const std::uint32_t flight = static_cast<std::uint32_t>(t.snd_max - ack);
        t.cwnd = std::min(t.ssthresh, std::max<std::uint32_t>(flight, t.snd_mss) + t.snd_mss);
        t.dupacks = 0;
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
    std::uint32_t n = std::min<std::uint32_t>(t.snd_mss, t.snd_buf.len - offset);
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
    t.snd_buf.view(buffers_, offset, n, s->payload, s->payload2);
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
    const std::uint32_t n = std::min({std::max<std::uint32_t>(t.snd_wnd, 1),
                                      static_cast<std::uint32_t>(t.snd_mss), t.snd_buf.len});
    OutSegment* s = push_segment();
    if (s == nullptr) return;
    fill_header(t, *s, tcp_flag::ack | tcp_flag::psh, t.snd_una, now);
    t.snd_buf.view(buffers_, 0, n, s->payload, s->payload2);
    counters_.inc(Mib::window_probes);
    if (t.snd_max - t.snd_una < static_cast<std::int32_t>(n)) t.snd_max = t.snd_una + n;
    t.snd_nxt = t.snd_max;
}

}  // namespace tcpfp::tcp
