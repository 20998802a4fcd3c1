// Segment arrival in SYN-RECEIVED and the synchronized states: RFC 9293
// §3.10.7.4, one named step per check, in the RFC's order. Each step returns
// false when the segment has been fully dealt with (dropped, or the
// connection is gone).
#include <algorithm>
#include <cerrno>

#include "tcp/engine/congestion.hpp"
#include "tcp/engine/engine.hpp"

namespace tcpfp::tcp {

using namespace wire;

namespace {
constexpr std::uint32_t kPawsIdleMs = 24u * 24 * 3600 * 1000;  // RFC 7323 §5.5: 24 days

// What counts as a full-sized segment for the every-second-segment ACK rule
// (RFC 5681 §4.2): the peer sends at most our MSS less its options, and in
// practice no more than the MSS it announced to us (our snd_mss).
std::uint32_t full_segment(const Tcb& t) {
    return std::min<std::uint32_t>(t.rcv_mss - (t.ts_ok ? 12u : 0u), t.snd_mss);
}

bool can_receive_text(State s) {
    return s == State::established || s == State::fin_wait_1 || s == State::fin_wait_2;
}
}  // namespace

void Engine::on_synchronized(Tcb& t, const InSegment& seg, Instant now) {
    // A retransmitted SYN while our SYN-ACK is outstanding: answer it again
    // (the SYN falls left of the window, so the generic check would only ACK).
    if (t.state == State::syn_received && seg.has(tcp_flag::syn) && !seg.has(tcp_flag::ack) &&
        seg.seq == t.irs) {
        send_syn(t, now);
        return;
    }
    if (t.keepalive) {
        t.keepalive_deadline = deadline(now, Duration::seconds(t.ka_idle_s));
        t.keepalive_probes = 0;
    }
    if (header_prediction(t, seg, now)) return;
    if (!check_paws(t, seg, now)) return;      // RFC 7323 §5.3, before the window test
    if (!check_sequence(t, seg, now)) return;  // first
    if (!check_rst(t, seg, now)) return;  // second
    // third: security/compartment is not used (RFC 9293 §3.10.7.4, MAY-? none)
    if (!check_syn(t, seg, now)) return;  // fourth
    if (!check_ack(t, seg, now)) return;  // fifth
    // RFC 7323 §4.3 records TS.Recent once a segment is acceptable; doing it
    // only after the ACK check too (as Linux does) keeps a blind segment with
    // a forged TSval and a bad ACK from poisoning PAWS (RFC 5961 spirit).
    update_ts_recent(t, seg, now);
    check_ce(t, seg, now);                // RFC 3168 §6.1.3, before the text is taken
    process_urg(t, seg);                  // sixth
    if (!process_text(t, seg, now)) return;  // seventh
    if (!process_fin(t, seg, now)) return;  // eighth
    output_data(t, now);
    rearm(t);
}

// Header prediction (Jacobson, RFC 1323 Appendix / RFC 7323 §4.4's note):
// in ESTABLISHED, the next expected segment carrying only ACK (and maybe
// PSH), a fresh timestamp and nothing to reassemble is either a pure ACK for
// new data or in-order data, which may acknowledge new data too (each
// message of a request/response exchange does). Unlike BSD we also
// take window changes here: with SEG.SEQ = RCV.NXT and SND.WL1 <= SEG.SEQ the
// §3.10.7.4 window-update rule always applies, so it is one assignment.
// Both are handled here without the general steps; the result is what those
// steps would do. Anything else returns false and takes the general path,
// ECN signals included (ECE, CWR, a CE mark: RFC 3168 is no fast path).
bool Engine::header_prediction(Tcb& t, const InSegment& seg, Instant now) {
    constexpr std::uint8_t kMask = tcp_flag::syn | tcp_flag::fin | tcp_flag::rst | tcp_flag::urg |
                                   tcp_flag::ack | tcp_flag::ece | tcp_flag::cwr;
    if (t.state != State::established || (seg.flags & kMask) != tcp_flag::ack || seg.ecn == ecn::ce ||
        seg.seq != t.rcv_nxt || seg.options.sack_count != 0 || loss_busy(t) || t.orphan || t.shut_rd ||
        t.snd_wl1 > seg.seq || t.snd_wl2 > seg.ack) {
        return false;
    }
    if (t.ts_ok) {
        if (!seg.options.has_timestamps ||
            static_cast<std::int32_t>(seg.options.ts_val - t.ts_recent) < 0) {
            return false;
        }
    } else if (seg.options.has_timestamps) {
        return false;
    }
    const bool acks_new = t.snd_una < seg.ack && seg.ack <= t.snd_max;
    if (seg.payload.empty()) {
        // A pure ACK for new data (a duplicate ACK goes the general way).
        if (!acks_new) return false;
        counters_.inc(Mib::predicted_acks);
        predicted_ack(t, seg, true, now);
        output_data(t, now);  // rearms the timer
        return true;
    }
    // In-order data that fits the buffer, acknowledging nothing new or
    // new data of ours: a request or response of a request/response
    // exchange, which also acknowledges the other side's last message (as
    // Linux's fast path takes it).
    if (seg.ack != t.snd_una && !acks_new) return false;
    const std::uint32_t room = t.rcv_limit > t.rcv_buf.len ? t.rcv_limit - t.rcv_buf.len : 0;
    if (seg.payload.size() > room) return false;
    // It fits the buffer (room was checked); unless the pool has all the
    // chunks it needs, the general path takes what it can and counts the rest.
    const auto size = static_cast<std::uint32_t>(seg.payload.size());
    if (t.rcv_buf.chunks_needed(buffers_, t.rcv_buf.len, size) > buffers_.free_chunks()) return false;
    counters_.inc(Mib::predicted_data);
    predicted_ack(t, seg, acks_new, now);
    bool no_buffer = false;
    const std::uint32_t taken = t.rcv_buf.write(buffers_, seg.payload, t.rcv_limit, 0, no_buffer);
    t.rcv_nxt += taken;
    post(index_of(t), EventKind::readable);
    if (taken >= full_segment(t)) ++t.unacked_segs;
    if (t.unacked_segs >= 2) {
        owe_ack(t, now);
    } else if (!t.ack_pending) {
        t.ack_pending = true;
        t.delack_deadline = deadline(now, config_.delayed_ack);
    }
    // A window that opened may release data we hold (output_data rearms).
    if (t.snd_buf.len > static_cast<std::uint32_t>(t.snd_max - t.snd_una)) {
        output_data(t, now);
    } else {
        rearm(t);
    }
    return true;
}

// A predicted segment's ACK, as the general path takes it, in RFC 9293
// §3.10.7.4's order (the ACK, fifth, before the text, seventh): TS.Recent
// (RFC 7323 §4.3), the data it acknowledges, and the window, whose update
// rule always applies here (SEG.SEQ = RCV.NXT, SND.WL1 <= SEG.SEQ and
// SND.WL2 <= SEG.ACK were checked).
void Engine::predicted_ack(Tcb& t, const InSegment& seg, bool acks_new, Instant now) {
    update_ts_recent(t, seg, now);
    if (acks_new) on_data_acked(t, seg.ack, seg, now);
    t.snd_wnd = static_cast<std::uint32_t>(seg.window) << t.snd_wscale;
    t.max_snd_wnd = std::max(t.max_snd_wnd, t.snd_wnd);
    t.snd_wl1 = seg.seq;
    t.snd_wl2 = seg.ack;
}

// RFC 7323 §5.3 R1: a non-RST segment whose TSval is older than TS.Recent is
// an old duplicate: ACK it and drop it. After 24 days of idleness TS.Recent
// is no longer trusted (§5.5).
bool Engine::check_paws(Tcb& t, const InSegment& seg, Instant now) {
    if (!t.ts_ok) return true;
    if (!seg.options.has_timestamps) {
        if (seg.has(tcp_flag::rst)) return true;
        // RFC 7323 §3.2: a non-RST segment without TSopt SHOULD be dropped.
        counters_.drop(Drop::ts_missing);
        return false;
    }
    if (seg.has(tcp_flag::rst)) return true;
    if (static_cast<std::uint16_t>(tick(now) / 3'600'000 - t.ts_recent_age_h) > kPawsIdleMs / 3'600'000) return true;
    if (static_cast<std::int32_t>(seg.options.ts_val - t.ts_recent) >= 0) return true;
    counters_.drop(Drop::paws);
    send_oow_ack(t, now);
    return false;
}

// First: the four-case acceptability test (RFC 9293 §3.10.7.4, Table 6).
bool Engine::check_sequence(Tcb& t, const InSegment& seg, Instant now) {
    const std::uint32_t len = seg.seg_len();
    const std::int32_t adv = t.rcv_adv - t.rcv_nxt;
    const std::uint32_t wnd = adv > 0 ? static_cast<std::uint32_t>(adv) : 0;
    bool ok;
    if (len == 0) {
        ok = wnd == 0 ? seg.seq == t.rcv_nxt : seq_in_window(seg.seq, t.rcv_nxt, wnd);
    } else if (wnd == 0) {
        // MUST-66: with a zero window, ACK, URG and RST must still be
        // processed; a segment at RCV.NXT goes on with its text trimmed away.
        ok = seg.seq == t.rcv_nxt;
    } else {
        ok = seq_in_window(seg.seq, t.rcv_nxt, wnd) ||
             seq_in_window(seg.seq + (len - 1), t.rcv_nxt, wnd);
    }
    if (ok) return true;
    if (seg.has(tcp_flag::rst)) {
        counters_.drop(Drop::rst_out_of_window);
        return false;
    }
    // <SEQ=SND.NXT><ACK=RCV.NXT><CTL=ACK>, then drop.
    counters_.drop(Drop::out_of_window);
    if (len > 0 && seg.seq + len <= t.rcv_nxt) {
        // A retransmission of data we already hold: its sender lost our ACK
        // and waits for one, so every copy is answered (as Linux, which
        // exempts data from tcp_invalid_ratelimit). Data cannot feed an ACK
        // war: the answer is a pure ACK, and pure ACKs stay rate-limited.
        counters_.inc(Mib::dup_acks_sent);
        send_ack(t, now);
        return false;
    }
    send_oow_ack(t, now);
    return false;
}

// RFC 7323 §4.3: TS.Recent follows the segment that Last.ACK.sent covers.
void Engine::update_ts_recent(Tcb& t, const InSegment& seg, Instant now) {
    if (!t.ts_ok || !seg.options.has_timestamps) return;
    if (seg.seq <= t.last_ack_sent &&
        (static_cast<std::int32_t>(seg.options.ts_val - t.ts_recent) >= 0 ||
         static_cast<std::uint16_t>(tick(now) / 3'600'000 - t.ts_recent_age_h) > kPawsIdleMs / 3'600'000)) {
        t.ts_recent = seg.options.ts_val;
        t.ts_recent_age_h = static_cast<std::uint16_t>(tick(now) / 3'600'000);
    }
}

// Second: RST. RFC 5961 §3.2: only an RST at exactly RCV.NXT resets; one
// elsewhere in the window draws a challenge ACK.
bool Engine::check_rst(Tcb& t, const InSegment& seg, Instant now) {
    if (!seg.has(tcp_flag::rst)) return true;
    if (seg.seq != t.rcv_nxt) {
        counters_.drop(Drop::rst_challenged);
        send_challenge_ack(t, now);
        return false;
    }
    counters_.inc(Mib::in_rsts);
    switch (t.state) {
        case State::syn_received:
            counters_.inc(Mib::attempt_fails);
            if (t.passive) {
                // Return to LISTEN: the listener never saw this connection.
                set_state(t, State::closed);
                release(t);
            } else {
                finish(t, EventKind::reset, ECONNREFUSED);
            }
            return false;
        case State::established:
        case State::close_wait:
            counters_.inc(Mib::estab_resets);
            finish(t, EventKind::reset, ECONNRESET);
            return false;
        case State::fin_wait_1:
        case State::fin_wait_2:
            finish(t, EventKind::reset, ECONNRESET);
            return false;
        default:  // CLOSING, LAST_ACK: the close is complete anyway
            finish(t, EventKind::closed, 0);
            return false;
    }
}

// Fourth: SYN. RFC 5961 §4.2 (RFC 9293 MUST-? "challenge ACK"): any SYN in a
// synchronized state, whatever its sequence number, draws a challenge ACK.
bool Engine::check_syn(Tcb& t, const InSegment& seg, Instant now) {
    if (!seg.has(tcp_flag::syn)) return true;
    if (t.state == State::syn_received && t.passive) {
        // RFC 9293: a passive SYN-RECEIVED connection returns to LISTEN.
        counters_.inc(Mib::attempt_fails);
        counters_.drop(Drop::syn_challenged);
        set_state(t, State::closed);
        release(t);
        return false;
    }
    counters_.drop(Drop::syn_challenged);
    send_challenge_ack(t, now);
    return false;
}

// Fifth: ACK.
bool Engine::check_ack(Tcb& t, const InSegment& seg, Instant now) {
    if (!seg.has(tcp_flag::ack)) {
        counters_.drop(Drop::no_ack_flag);
        return false;
    }
    if (t.state == State::syn_received) {
        if (!(t.snd_una < seg.ack && seg.ack <= t.snd_max)) {
            counters_.drop(Drop::syn_received_bad_ack);
            send_rst_reply(seg);  // <SEQ=SEG.ACK><CTL=RST>
            return false;
        }
        if (t.passive) {
            Listener& l = listeners_.at(t.listener);
            if (l.accept_count >= l.backlog) {
                // Keep the connection embryonic; the peer's next ACK retries.
                counters_.drop(Drop::accept_queue_full);
                return false;
            }
        }
        t.snd_wnd = static_cast<std::uint32_t>(seg.window) << t.snd_wscale;
        t.max_snd_wnd = std::max(t.max_snd_wnd, t.snd_wnd);
        t.snd_wl1 = seg.seq;
        t.snd_wl2 = seg.ack;
        on_data_acked(t, seg.ack, seg, now);
        enter_established(t, now);
    }
    // RFC 5961 §5.2: acceptable when SND.UNA - MAX.SND.WND <= SEG.ACK <= SND.NXT
    // (snd_max here: the highest sequence we ever sent).
    if (seg.ack > t.snd_max) {
        counters_.drop(Drop::ack_unsent);
        send_challenge_ack(t, now);
        return false;
    }
    if (seg.ack < t.snd_una - t.max_snd_wnd) {
        counters_.drop(Drop::ack_too_old);
        send_challenge_ack(t, now);
        return false;
    }
    // RFC 5681 §2: a duplicate ACK acknowledges nothing new, carries no data
    // and no SYN/FIN, leaves the window alone, while data is outstanding.
    const bool duplicate = seg.ack == t.snd_una && t.snd_una != t.snd_max && seg.payload.empty() &&
                           !seg.has(tcp_flag::syn) && !seg.has(tcp_flag::fin) &&
                           (static_cast<std::uint32_t>(seg.window) << t.snd_wscale) == t.snd_wnd;
    on_sack(t, seg, now);
    if (t.snd_wnd == 0) t.retries = 0;  // MUST-37: the peer is alive, keep probing
    const bool acks_new_data = t.snd_una < seg.ack;
    if (acks_new_data) {
        on_data_acked(t, seg.ack, seg, now);
    } else {
        if (duplicate) on_duplicate_ack(t, now);
        // RFC 8985: with a send log every ACK may reveal loss, duplicate or
        // not; one below SND.UNA brings only its SACK blocks.
        rack_on_ack(t, 0, false, seg.ack == t.snd_una, now);
    }
    if (t.ecn_ok && seg.has(tcp_flag::ece)) on_ecn_echo(t);
    // Window update (RFC 9293 §3.10.7.4): from a segment at least as new as
    // the last one that updated it; MUST-34 tolerates a shrinking window.
    // Also from any ACK of new data, as Linux does (tcp_may_update_window):
    // by the RFC's rule alone, one blind in-window segment with a sequence
    // number ahead of the peer's, and a tiny window, moves SND.WL1 past every
    // real segment of a peer that sends no data, and the window stays tiny
    // for as long as the connection lives (found by fuzz_engine).
    if (acks_new_data || t.snd_wl1 < seg.seq || (t.snd_wl1 == seg.seq && t.snd_wl2 <= seg.ack)) {
        const bool was_closed = t.snd_wnd == 0;
        t.snd_wnd = static_cast<std::uint32_t>(seg.window) << t.snd_wscale;
        // The window reopened while only a probe byte was out: send it again
        // as the start of a full segment rather than leave it to the timer.
        if (was_closed && t.snd_wnd > 0 && t.snd_max - t.snd_una == 1 && t.snd_buf.len > 1) {
            t.snd_nxt = t.snd_una;
        }
        t.max_snd_wnd = std::max(t.max_snd_wnd, t.snd_wnd);
        t.snd_wl1 = seg.seq;
        t.snd_wl2 = seg.ack;
    }
    if (!t.fin_acked) return true;
    switch (t.state) {
        case State::closing:  // our FIN acked after both FINs crossed
            enter_time_wait(t, now);
            return false;
        case State::last_ack:  // passive close complete
            finish(t, EventKind::closed, 0);
            return false;
        default:
            return true;
    }
}

// Called for every ACK that advances SND.UNA (including the handshake's).
void Engine::on_data_acked(Tcb& t, SeqNum ack, const InSegment& seg, Instant now) {
    std::uint32_t acked = static_cast<std::uint32_t>(ack - t.snd_una);
    if (t.snd_una == t.iss) --acked;  // our SYN
    const bool fin_now_acked = t.fin_sent && !t.fin_acked && ack == t.snd_max;
    if (fin_now_acked) --acked;
    const bool was_full = t.snd_buf.len >= t.snd_limit || t.send_blocked;
    t.snd_buf.consume(buffers_, acked);
    t.snd_una = ack;
    if (t.snd_nxt < t.snd_una) t.snd_nxt = t.snd_una;
    // RFC 3168 §6.1.2: the window that was reduced for an ECN-Echo is
    // acknowledged; the next ECE is a new congestion signal.
    if (t.ecn_reduced && ecn_recover_[index_of(t)] < ack) t.ecn_reduced = false;
    if (t.mtu_probe_out) plpmtud_probe_acked(t, ack, now);  // RFC 4821 §7.6.1
    // RTT measurement: RFC 7323 §4 (RTTM) from the echoed timestamp, else one
    // timed segment at a time, never a retransmitted one (Karn). After a
    // retransmission the peer may echo the TSval of an older transmission
    // (a duplicate it rejected refreshes no TS.Recent, RFC 7323 §5.3 R2/R3),
    // which would fold the timeout itself into SRTT; such ACKs give no sample.
    const LossState* recovering = t.loss != kNoIndex ? &losses_.at(t.loss) : nullptr;
    const bool fresh = t.backoff == 0 && (recovering == nullptr || !recovering->in_recovery);
    if (t.ts_ok && seg.options.has_timestamps && seg.options.ts_ecr != 0) {
        if (const std::uint32_t ticks = ts_now(t.ts_offset) - seg.options.ts_ecr;
            fresh && ticks < 0x7fffffffu) {
            rtt_sample(t, static_cast<std::uint32_t>(
                              std::min<std::int64_t>(ticks * config_.ts_tick.as_micros(), UINT32_MAX)));
        }
    } else if (t.rtt_timing && t.rtt_seq < ack) {
        t.rtt_timing = false;
        rtt_sample(t, (static_cast<std::uint32_t>(tick(now)) - t.rtt_start) * 1000u);
    }
    t.backoff = 0;
    t.retries = 0;
    t.persist = false;
    note_progress(t, now);
    LossState* ls = loss_state(t, false);
    const bool logged = ls != nullptr && ls->log_on;  // RACK-TLP: rack_on_ack below
    if (logged) {
        log_acked(*ls, ack, now);
    } else {
        if (ls != nullptr) ls->sacked.trim_below(ack);
        if (ls != nullptr && ls->in_recovery) {
            on_recovery_ack(t, ack, acked, now);
        } else if (acked > 0) {
            t.dupacks = 0;
            cc::on_ack(t, acked, tick(now));
        }
        if (ls != nullptr) release_loss_if_idle(t);
    }
    if (fin_now_acked) on_our_fin_acked(t, now);
    // RFC 6298 §5.2/5.3: stop the timer when all is acknowledged, else restart.
    if (t.snd_una == t.snd_max) {
        t.rtx_deadline = kNoDeadline;
    } else {
        arm_rtx(t, now);
    }
    if (logged) rack_on_ack(t, acked, true, true, now);
    if (was_full && t.snd_buf.len < t.snd_limit) {
        t.send_blocked = false;
        post(index_of(t), EventKind::writable);
    }
}

void Engine::on_our_fin_acked(Tcb& t, Instant now) {
    t.fin_acked = true;
    if (t.lingering) {
        t.lingering = false;
        t.conn_deadline = kNoDeadline;
        post(index_of(t), EventKind::linger_done);
        make_orphan(t);
    }
    if (t.state == State::fin_wait_1) {
        set_state(t, State::fin_wait_2);
        // An orphan must not wait for the peer forever (RFC 9293 leaves the
        // FIN-WAIT-2 timeout to the implementation; Linux uses 60 s).
        if (t.orphan) t.conn_deadline = deadline(now, orphan_fin_wait_2_timeout());
    }
}

void Engine::enter_established(Tcb& t, Instant now) {
    const bool queued_fin = t.fin_queued;
    if (t.ecn_ok) counters_.inc(Mib::ecn_negotiated);
    set_state(t, queued_fin ? State::fin_wait_1 : State::established);
    if (t.keepalive) t.keepalive_deadline = deadline(now, Duration::seconds(t.ka_idle_s));
    if (t.passive) {
        Listener& l = listeners_.at(t.listener);
        if (l.syn_count > 0) --l.syn_count;
        enqueue_accept(t);
    } else {
        post(index_of(t), EventKind::connected);
    }
}

void Engine::enqueue_accept(Tcb& t) {
    Listener& l = listeners_.at(t.listener);
    t.accept_next = kNoIndex;
    if (l.accept_tail == kNoIndex) {
        l.accept_head = index_of(t);
    } else {
        tcbs_.at(l.accept_tail).accept_next = index_of(t);
    }
    l.accept_tail = index_of(t);
    ++l.accept_count;
    post(l.tcb, EventKind::accepted);
}

// RFC 3168 §6.1.2: an ECN-Echo reports congestion on the path to the peer.
// The sender responds as to a loss (ssthresh from the congestion
// controller, cwnd down to it), at most once per window of data, and tells
// the receiver with CWR on its next new data segment (output_data). While
// a loss recovery is under way its reduction stands for this one: only the
// CWR is queued, as Linux does on entering recovery.
void Engine::on_ecn_echo(Tcb& t) {
    const LossState* ls = t.loss != kNoIndex ? &losses_.at(t.loss) : nullptr;
    if (ls != nullptr && ls->in_recovery) {
        t.ecn_cwr = true;
        return;
    }
    if (t.ecn_reduced) return;  // this window was reduced already
    t.ssthresh = cc::on_congestion(t, static_cast<std::uint32_t>(t.snd_max - t.snd_una));
    t.cwnd = std::max<std::uint32_t>(t.ssthresh, t.snd_mss);
    t.ecn_reduced = true;
    ecn_recover_[index_of(t)] = t.snd_max;
    t.ecn_cwr = true;
    counters_.inc(Mib::ecn_reductions);
}

// RFC 3168 §6.1.3: a receiver echoes a CE mark with ECE on every ACK until
// a segment with CWR arrives (a CWR segment that is itself marked starts a
// new echo). The first mark is acknowledged without delay, as Linux does:
// the sender's window may be small.
void Engine::check_ce(Tcb& t, const InSegment& seg, Instant now) {
    if (!t.ecn_ok) return;
    if (seg.has(tcp_flag::cwr)) t.ecn_echo = false;
    if (seg.ecn != ecn::ce || seg.payload.empty()) return;  // only data is sent ECT (§6.1.4)
    counters_.inc(Mib::ecn_ce_received);
    if (t.ecn_echo) return;
    t.ecn_echo = true;
    owe_ack(t, now);
}

// Sixth: URG (RFC 9293 §3.10.7.4, MUST-30/31/62): RCV.UP <- max(RCV.UP,
// SEG.UP), where SEG.SEQ + SEG.UP is the octet after the urgent data, and
// the application is signalled once per continuous run of urgent data, when
// the pointer is ahead of what it has read (MUST-32: EventKind::urgent).
// The urgent bytes stay inline in the stream (RFC 6093).
void Engine::process_urg(Tcb& t, const InSegment& seg) {
    if (!seg.has(tcp_flag::urg) || !can_receive_text(t.state)) return;
    const SeqNum up = seg.seq + seg.urgent_ptr;
    if (t.urg_pending && !(t.rcv_up < up)) return;
    if (!(read_point(t) < up)) return;  // urgent data already read: an old segment
    t.rcv_up = up;
    if (t.urg_pending) return;  // still in urgent mode: signalled already
    t.urg_pending = true;
    post(index_of(t), EventKind::urgent);
}

// The sequence number of the next byte the application will read: RCV.NXT
// less the unread bytes and the peer's FIN, which RCV.NXT also covers.
SeqNum Engine::read_point(const Tcb& t) { return t.rcv_nxt - (t.rcv_buf.len + (t.peer_fin ? 1u : 0u)); }

std::uint32_t Engine::urgent_left(const Tcb& t) {
    if (!t.urg_pending) return 0;
    const std::int32_t left = t.rcv_up - read_point(t);
    return left > 0 ? static_cast<std::uint32_t>(left) : 0;
}

// Seventh: segment text. Returns false only when the connection is gone.
bool Engine::process_text(Tcb& t, const InSegment& seg, Instant now) {
    if (seg.payload.empty()) return true;
    if (!can_receive_text(t.state)) {
        // CLOSE-WAIT, CLOSING, LAST-ACK: the peer already sent its FIN.
        counters_.drop(Drop::data_after_fin);
        return true;
    }
    if (t.orphan) {
        // Nobody can read this: RST, as BSD and Linux do (RFC 9293 MAY-1 with
        // SHLD-3, "a TCP MAY ... abort"). Like Linux, the connection is gone
        // and the RST answers the segment (<SEQ=SEG.ACK><CTL=RST>, §3.10.7.1):
        // SEG.ACK is the peer's RCV.NXT, so the RST is exactly acceptable
        // (RFC 5961 §3.2) even while our FIN is still unacknowledged.
        counters_.inc(Mib::orphan_data_rst);
        counters_.drop(Drop::orphan_data);
        send_rst_reply(seg);
        set_state(t, State::closed);
        release(t);
        return false;
    }
    std::uint32_t skip = 0;
    if (seg.seq < t.rcv_nxt) skip = static_cast<std::uint32_t>(t.rcv_nxt - seg.seq);
    if (seg.seq > t.rcv_nxt) {
        // Out of order: held for reassembly, and an immediate duplicate ACK
        // (with SACK blocks) tells the sender where the hole is (RFC 5681 §4.2).
        (void)queue_out_of_order(t, seg, now);
        return true;  // a FIN on it is queued too; process_fin sees it is not next
    }
    if (skip >= seg.payload.size()) return true;  // all old; any FIN comes next
    auto fresh = seg.payload.subspan(skip);
    std::uint32_t taken = 0;
    if (t.shut_rd) {
        counters_.drop(Drop::data_after_shutdown_rd);
        taken = static_cast<std::uint32_t>(fresh.size());
    } else {
        // Accept what fits in the window we advertised (never less than the
        // buffer's own room, so a window we promised is honoured).
        const std::int32_t adv = t.rcv_adv - t.rcv_nxt;
        const std::uint32_t room =
            std::max<std::uint32_t>(adv > 0 ? static_cast<std::uint32_t>(adv) : 0,
                                    t.rcv_limit > t.rcv_buf.len ? t.rcv_limit - t.rcv_buf.len : 0);
        bool no_buffer = false;
        // Data in a window we offered may use the pool's last chunks.
        taken = t.rcv_buf.write(buffers_, fresh.first(std::min<std::size_t>(fresh.size(), room)),
                                t.rcv_buf.len + room, 0, no_buffer);
        // One reason per drop: the pool ran out, or the data lay beyond the buffer.
        if (taken < fresh.size()) counters_.drop(no_buffer ? Drop::no_buffers : Drop::rcv_buffer_full);
        if (taken > 0) post(index_of(t), EventKind::readable);
    }
    t.rcv_nxt += taken;
    if (taken < fresh.size()) {
        owe_ack(t, now);
        return true;  // the FIN, if any, lies beyond what we took
    }
    if (holds_out_of_order(t)) {
        // This segment may have filled a hole: join what was held (a held
        // FIN too), and ACK at once (RFC 5681 §4.2).
        if (!drain_reassembly(t, now)) return false;
        if (!t.peer_fin) owe_ack(t, now);  // (a queued FIN was ACKed already)
        return true;
    }
    // Delayed ACK (RFC 9293 §3.8.6.3, RFC 5681 §4.2): ACK at least every
    // second full-sized segment, and within delayed_ack (< 500 ms, MUST-40).
    if (seg.has(tcp_flag::fin)) return true;  // process_fin ACKs at once
    if (fresh.size() >= full_segment(t)) ++t.unacked_segs;
    if (t.unacked_segs >= 2) {
        owe_ack(t, now);
    } else if (!t.ack_pending) {
        t.ack_pending = true;
        t.delack_deadline = deadline(now, config_.delayed_ack);
    }
    return true;
}

// Eighth: FIN. Returns false when the connection left for TIME_WAIT.
bool Engine::process_fin(Tcb& t, const InSegment& seg, Instant now) {
    if (!seg.has(tcp_flag::fin)) return true;
    const SeqNum fin_seq = seg.seq + static_cast<std::uint32_t>(seg.payload.size());
    if (t.peer_fin) {
        // A retransmitted FIN in CLOSE-WAIT, CLOSING or LAST-ACK: ACK again.
        if (fin_seq + 1 == t.rcv_nxt) owe_ack(t, now);
        return true;
    }
    if (fin_seq != t.rcv_nxt) {
        // Beyond a hole: a FIN on data was held with it (process_text); a
        // bare one is held here. Either is taken once the hole fills.
        if (seg.payload.empty() && t.rcv_nxt < fin_seq) queue_out_of_order_fin(t, fin_seq, now);
        return true;
    }
    return accept_fin(t, now);
}

// The peer's FIN takes its sequence number: from a segment in order, or from
// the reassembly queue once the hole before it has filled.
bool Engine::accept_fin(Tcb& t, Instant now) {
    t.rcv_nxt += 1;
    t.peer_fin = true;
    post(index_of(t), EventKind::peer_closed);
    owe_ack(t, now);  // a FIN is ACKed at once: by the drain that follows
    switch (t.state) {
        case State::syn_received:
        case State::established:
            set_state(t, State::close_wait);
            break;
        case State::fin_wait_1:
            if (t.fin_acked) {
                enter_time_wait(t, now);
                return false;
            }
            set_state(t, State::closing);  // simultaneous close
            break;
        case State::fin_wait_2:
            enter_time_wait(t, now);
            return false;
        default:
            break;
    }
    return true;
}

// RFC 9293 §3.10.7.4 answers an unacceptable segment with an ACK, and RFC
// 5961 answers a suspicious RST, SYN or ACK with a challenge ACK. If the
// two ends ever disagree about the sequence space, each answer is itself
// refused by the other and the exchange never ends (an "ACK war"; RFC 5961
// §10 notes the risk for challenge ACKs). Like Linux (last_oow_ack_time,
// tcp_invalid_ratelimit), both kinds draw on one budget per connection: at
// most one such ACK per 500 ms. Retransmitted data is exempt (check_sequence).
bool Engine::oow_ack_allowed(const Tcb& t, Instant now) {
    const std::uint16_t stamp = oow_stamp(now);
    const auto since = static_cast<std::uint16_t>(stamp - t.oow_ack_at);
    if (t.oow_ack_at != 0 && since < 500 / 8) {
        counters_.inc(Mib::oow_acks_limited);
        return false;
    }
    return true;
}

// Stored as (8 ms unit + 1) mod 2^16, so 0 means "never".
std::uint16_t Engine::oow_stamp(Instant now) const {
    auto stamp = static_cast<std::uint16_t>(tick(now) / 8 + 1);
    return stamp == 0 ? 1 : stamp;
}

void Engine::send_oow_ack(Tcb& t, Instant now) {
    if (!oow_ack_allowed(t, now)) return;
    t.oow_ack_at = oow_stamp(now);
    counters_.inc(Mib::dup_acks_sent);
    send_ack(t, now);
}

// RFC 5961 §7: the connection's budget first (shared with the ACKs above,
// as Linux checks it first), then the engine-wide challenge ACK limit.
void Engine::send_challenge_ack(Tcb& t, Instant now) {
    if (!oow_ack_allowed(t, now)) return;
    if (!challenge_ack_allowed(now)) return;
    t.oow_ack_at = oow_stamp(now);
    counters_.inc(Mib::challenge_acks_sent);
    send_ack(t, now);
}

}  // namespace tcpfp::tcp
