// Timers: one wheel entry per connection at its earliest deadline, the
// retransmission timer (RFC 6298), keepalive (RFC 9293 §3.8.4), the
// FIN-WAIT-2 orphan timeout, linger, and TIME_WAIT records on the wheel.
#include <algorithm>
#include <cerrno>

#include "tcp/engine/congestion.hpp"
#include "tcp/engine/engine.hpp"

namespace tcpfp::tcp {

using namespace wire;

// One wheel timer per connection, at its earliest deadline. A deadline that
// moved later (each ACK pushes the RTO and keepalive on) leaves the timer
// where it is: it fires early, on_tcb_timer() finds nothing due and arms it
// for what is left. So a busy connection moves its timer about once per
// RTO instead of once per segment; each move unlinks from one wheel list
// and links into another, touching two other connections' timers.
void Engine::rearm(Tcb& t) {
    const TickMs next = std::min({t.rtx_deadline, t.delack_deadline, t.keepalive_deadline,
                                  t.conn_deadline, loss_deadline(t)});
    if (next == kNoDeadline) {
        wheel_.cancel(t.timer);
        return;
    }
    const Instant at = instant(next);
    if (t.timer.armed() && !(at < wheel_.tick_instant(t.timer.expires))) return;
    wheel_.arm(t.timer, at);
}

void Engine::advance(Instant now, std::size_t max_segments) {
    now_ = now;
    // An expiry may emit a segment or two (a retransmission, a probe, an
    // RST): timers fire in steps of kStep while the segments made stay
    // within what the output queue has room for (counting two per expiry)
    // and what the caller allows (a congested link), until the timer budget
    // is spent. The rest fire at the next call, after the caller drained.
    // Expiries that emit nothing (TIME_WAIT deletions) go on at full
    // speed, so a mass expiry of FINs does not delay them.
    constexpr std::size_t kStep = 32;
    const std::size_t room = (config_.output_queue - std::min(out_len_, config_.output_queue)) / 2;
    const std::size_t out_limit = out_len_ + std::min(room, max_segments);
    std::size_t fired = 0;
    std::uint64_t carried = 0;  // of the last step: the call's carry-over
    while (fired < config_.timer_budget && out_len_ + kStep <= out_limit) {
        const std::size_t step = std::min<std::size_t>(kStep, config_.timer_budget - fired);
        const auto carried_before = wheel_.carried_over();
        const std::size_t n = wheel_.advance(now, step, [&](Timer& t) { on_timer(t, now); });
        carried = wheel_.carried_over() - carried_before;
        fired += n;
        if (n < step) break;  // nothing more is due
    }
    counters_.inc(Mib::timer_budget_carryover, carried);
    // No room for even one step: whatever is due waits for the next call
    // (its count is unknown without walking the wheel, so calls are counted).
    if (fired == 0 && out_len_ + kStep > out_limit && !(now < wheel_.next_deadline())) {
        counters_.inc(Mib::timers_held_for_output);
    }
}

Instant Engine::next_deadline() const { return wheel_.next_deadline(); }

void Engine::on_timer(Timer& timer, Instant now) {
    if (timer.kind == kTimerKindTimeWait) {
        counters_.inc(Mib::timewait_expired);
        delete_time_wait(timer.owner);
        return;
    }
    on_tcb_timer(tcbs_.at(timer.owner), now);
}

void Engine::on_tcb_timer(Tcb& t, Instant now) {
    const TickMs nowt = tick(now);
    if (t.conn_deadline <= nowt) {
        t.conn_deadline = kNoDeadline;
        if (t.lingering) {
            // SO_LINGER ran out before our FIN was acknowledged: tell the
            // application, and let the connection finish as an orphan.
            counters_.inc(Mib::linger_timeouts);
            t.lingering = false;
            post(index_of(t), EventKind::linger_timeout);
            make_orphan(t);
            if (t.state == State::fin_wait_2) {
                t.conn_deadline = deadline(now, orphan_fin_wait_2_timeout());
            }
        } else if (t.orphan && t.state == State::fin_wait_2) {
            counters_.inc(Mib::orphan_fin_wait_2_timeouts);
            set_state(t, State::closed);
            release(t);
            return;
        }
    }
    if (t.delack_deadline <= nowt) {
        t.delack_deadline = kNoDeadline;
        if (t.ack_pending) send_ack(t, now);
    }
    // RFC 8985: the reorder or probe timer, which never outlives the RTO.
    if (loss_deadline(t) <= nowt) on_loss_timer(t, now);
    if (t.rtx_deadline <= nowt) {
        t.rtx_deadline = kNoDeadline;
        on_rto(t, now);
        if (t.state == State::closed) return;
    }
    if (t.keepalive_deadline <= nowt) {
        t.keepalive_deadline = kNoDeadline;
        on_keepalive(t, now);
        if (t.state == State::closed) return;
    }
    rearm(t);
}

// RFC 6298 §5.4-5.7 and RFC 9293 §3.8.3 (R1/R2, MUST-20..23).
void Engine::on_rto(Tcb& t, Instant now) {
    if (gave_up_for_overload(t, now)) return;
    if (t.snd_una == t.snd_max) {
        // The persist timer: nothing in flight, data held back by a zero
        // window. Probe and back off (RFC 9293 §3.8.6.1, SHLD-29/30).
        if (t.persist && t.snd_buf.len > 0) {
            if (t.backoff < 31) ++t.backoff;
            send_window_probe(t, now);
            arm_rtx(t, now);
        }
        t.persist = false;
        return;
    }
    counters_.inc(Mib::rto_expirations);
    if (t.retries < UINT8_MAX) ++t.retries;
    const bool syn = t.state == State::syn_sent || t.state == State::syn_received;
    const std::uint8_t limit = t.state == State::syn_sent       ? config_.syn_retries
                               : t.state == State::syn_received ? config_.synack_retries
                                                                : config_.r2_retries;
    // MUST-20: at R1 the path is in doubt; there is no IP routing to advise
    // here, so it is counted (the DPDK layer may re-resolve ARP on it).
    if (t.retries == config_.r1_retries && !syn) counters_.inc(Mib::r1_reached);
    // RFC 9293 §3.8.3 / RFC 5482: a user timeout replaces the R2 count (as
    // on Linux, for the handshake too).
    const bool give_up = t.user_timeout_on ? user_timeout_left_ms(t, now) <= 0 : t.retries > limit;
    if (give_up) {
        if (t.user_timeout_on) counters_.inc(Mib::user_timeouts);
        counters_.inc(Mib::conn_timeouts);
        if (syn) counters_.inc(Mib::attempt_fails);
        if (t.state == State::syn_received && t.passive) {
            set_state(t, State::closed);
            release(t);
            return;
        }
        // A connect() that an ICMP soft error preceded reports that error,
        // as Linux does (EHOSTUNREACH rather than ETIMEDOUT).
        const int err = t.state == State::syn_sent && t.soft_error != 0 ? t.soft_error : ETIMEDOUT;
        finish(t, EventKind::timed_out, err);
        return;
    }
    // §5.5: back off (the base RTO is kept; arm_rtx applies 2^backoff, and
    // the first new ACK clears it, as Linux does); §5.6: restart the timer.
    if (t.backoff < 31) ++t.backoff;
    t.rtt_timing = false;  // Karn: no sample from a retransmitted segment
    if (t.mtu_probe_out) plpmtud_abandon(t);  // RFC 4821 §7.6.3
    // RFC 4821 §7.7: from R1 on, a path that eats large segments is suspected.
    if (config_.mtu_probing != MtuProbing::off && !syn && t.retries >= config_.r1_retries) {
        plpmtud_black_hole(t, now);
    }
    // RFC 5681 §3.1: ssthresh per the algorithm (eq. 4 for NewReno), and a
    // loss window of one segment. Only the first timeout of a series counts
    // as a new congestion event.
    const std::uint32_t flight = static_cast<std::uint32_t>(t.snd_max - t.snd_una);
    if (t.backoff == 1) t.ssthresh = cc::on_congestion(t, flight);
    t.cwnd = t.snd_mss;
    t.snd_nxt = t.snd_una;
    t.dupacks = 0;
    if (LossState* ls = loss_state(t, false)) {
        // RFC 2018 §8: after a timeout, forget the SACK scoreboard (the
        // receiver may have reneged); RFC 6582: recovery ends.
        ls->sacked.clear();
        log_forget(*ls);
        ls->in_recovery = false;
        ls->recover_valid = true;
        ls->recover = t.snd_max;
        release_loss_if_idle(t);
    }
    arm_rtx(t, now);
    if (syn) {
        send_syn(t, now);
    } else if (t.snd_wnd == 0 && t.snd_buf.len > 0) {
        send_window_probe(t, now);  // the probe byte itself was lost
    } else {
        output_data(t, now);
    }
}

// RFC 9293 §3.8.4: a keep-alive carries SEG.SEQ = SND.NXT-1 and no data, so
// the peer must answer with an ACK; after keepalive_count unanswered probes
// the connection is dropped.
void Engine::on_keepalive(Tcb& t, Instant now) {
    if (!t.keepalive || !is_synchronized(t.state)) return;
    // RFC 5482 / Linux: with a user timeout, the time since the peer was
    // last heard from decides instead of the probe count (once one probe
    // went unanswered).
    const std::uint64_t silent_ms = std::uint64_t{t.ka_idle_s} * 1000 +
                                    std::uint64_t{t.keepalive_probes} * t.ka_intvl_s * 1000;
    const bool expired =
        t.user_timeout_on
            ? t.keepalive_probes > 0 && silent_ms >= user_timeouts_[index_of(t)].ms
            : t.keepalive_probes >= t.ka_cnt;
    if (t.user_timeout_on && expired) counters_.inc(Mib::user_timeouts);
    if (expired) {
        counters_.inc(Mib::conn_timeouts);
        // A connect() that an ICMP soft error preceded reports that error,
        // as Linux does (EHOSTUNREACH rather than ETIMEDOUT).
        const int err = t.state == State::syn_sent && t.soft_error != 0 ? t.soft_error : ETIMEDOUT;
        finish(t, EventKind::timed_out, err);
        return;
    }
    ++t.keepalive_probes;
    OutSegment* s = push_segment();
    if (s != nullptr) {
        fill_header(t, *s, tcp_flag::ack, t.snd_una - 1, now);
        counters_.inc(Mib::out_segs);
        counters_.inc(Mib::keepalive_probes);
    }
    t.keepalive_deadline = deadline(now, Duration::seconds(t.ka_intvl_s));
}

// Graceful overload (EngineConfig::overload_percent, max_orphans): at its
// retransmission timeout, a connection no application waits for gives its
// control block back instead of backing off. An embryonic one (SYN-RECEIVED
// whose SYN-ACK went unanswered) is dropped without a word, as Linux prunes
// its SYN queue; an orphan is reset, as Linux's tcp_out_of_resources does.
bool Engine::gave_up_for_overload(Tcb& t, Instant now) {
    if (t.state == State::syn_received && t.passive) {
        if (!under_pressure()) return false;
        counters_.inc(Mib::syn_recv_pruned);
        set_state(t, State::closed);
        release(t);
        return true;
    }
    if (!t.orphan || t.state == State::syn_sent || (!too_many_orphans() && !under_pressure())) return false;
    counters_.inc(Mib::orphans_reset_overload);
    send_rst(t, now);
    set_state(t, State::closed);
    release(t);
    return true;
}

void Engine::arm_rtx(Tcb& t, Instant now) {
    const std::uint64_t max_ms = static_cast<std::uint64_t>(config_.max_rto.as_millis());
    std::uint64_t rto = std::min<std::uint64_t>(std::uint64_t{t.rto_ms} << t.backoff, max_ms);
    if (t.user_timeout_on) {
        // Fire no later than the user timeout, so the abort comes on time
        // (as Linux's tcp_clamp_rto_to_user_timeout).
        const std::int64_t left = user_timeout_left_ms(t, now);
        rto = std::min<std::uint64_t>(rto, static_cast<std::uint64_t>(std::max<std::int64_t>(left, 1)));
    }
    t.rtx_deadline = deadline(now, Duration::millis(static_cast<std::int64_t>(rto)));
}

void Engine::start_rtx(Tcb& t, Instant now) {
    note_progress(t, now);
    arm_rtx(t, now);
}

// RFC 5482 user timeout: the current wait for the peer (data, a SYN, a FIN
// or a window probe outstanding) began now.
void Engine::note_progress(Tcb& t, Instant now) {
    if (t.user_timeout_on) user_timeouts_[index_of(t)].stall_since = static_cast<std::uint32_t>(tick(now));
}

// Milliseconds until the user timeout of the current wait; <= 0 when past.
std::int64_t Engine::user_timeout_left_ms(const Tcb& t, Instant now) const {
    const UserTimeout& ut = user_timeouts_[index_of(t)];
    const std::uint32_t waited = static_cast<std::uint32_t>(tick(now)) - ut.stall_since;
    return static_cast<std::int64_t>(ut.ms) - static_cast<std::int64_t>(waited);
}

// RFC 6298 §2.2-2.4 with alpha 1/8, beta 1/4, K 4, G = 1 ms.
void Engine::rtt_sample(Tcb& t, std::uint32_t r) {
    counters_.inc(Mib::rtt_samples);
    if (t.srtt_us == 0) {
        t.srtt_us = std::max<std::uint32_t>(r, 1);
        t.rttvar_us = r / 2;
    } else {
        const std::uint32_t diff = t.srtt_us > r ? t.srtt_us - r : r - t.srtt_us;
        t.rttvar_us = (3 * t.rttvar_us + diff) / 4;
        t.srtt_us = std::max<std::uint32_t>((7 * t.srtt_us + r) / 8, 1);
    }
    const std::uint64_t rto_us = std::uint64_t{t.srtt_us} + std::max<std::uint64_t>(1000, 4ull * t.rttvar_us);
    const auto rto_ms = static_cast<std::int64_t>((rto_us + 999) / 1000);
    t.rto_ms = static_cast<std::uint32_t>(
        std::clamp(rto_ms, config_.min_rto.as_millis(), config_.max_rto.as_millis()));
}

// The full control block gives way to a compact record for 2*MSL
// (RFC 9293 §3.10.7.4). With MSL 0 the connection is deleted at once.
void Engine::enter_time_wait(Tcb& t, Instant now) {
    // The ACK of the peer's FIN cannot wait for the drain: the control
    // block is about to go (the record answers only retransmissions).
    if (t.ack_owed) send_ack(t, now);
    counters_.inc(Mib::timewait_entered);
    const PoolHandle h = config_.msl.as_micros() > 0 ? time_waits_.acquire() : PoolHandle::invalid();
    if (config_.msl.as_micros() > 0 && h == PoolHandle::invalid()) {
        counters_.inc(Mib::timewait_overflow);
    }
    if (h != PoolHandle::invalid()) {
        TimeWaitRecord& tw = time_waits_.at(h.index);
        tw.tuple = t.tuple;
        tw.snd_nxt = t.snd_max;
        tw.rcv_nxt = t.rcv_nxt;
        tw.ts_recent = t.ts_recent;
        tw.ts_offset = t.ts_offset;
        tw.ts_ok = t.ts_ok;
        tw.window = window_to_advertise(t);
        tw.timer.owner = h.index;
        tw.timer.kind = kTimerKindTimeWait;
        ++counters_.by_state[static_cast<std::size_t>(State::time_wait)];
        (void)table_.update(t.tuple, kTimeWaitBit | h.index);
        t.in_table = false;  // the record owns the 4-tuple now
        restart_time_wait(tw, now);
    }
    finish(t, EventKind::closed, 0);
}

void Engine::restart_time_wait(TimeWaitRecord& tw, Instant now) {
    wheel_.arm(tw.timer, now + config_.msl * 2);
}

void Engine::delete_time_wait(std::uint32_t index) {
    TimeWaitRecord& tw = time_waits_.at(index);
    (void)table_.erase(tw.tuple);
    wheel_.cancel(tw.timer);
    --counters_.by_state[static_cast<std::size_t>(State::time_wait)];
    (void)time_waits_.release(time_waits_.handle_of(index));
}

// Linux's tcp_tw_reuse = 1 (tcp_twsk_unique): a TIME_WAIT 4-tuple may be
// reused by an active open once timestamps were negotiated on it and its
// last activity (entry, or a re-ACKed FIN) is at least 1 s old. The record
// keeps no entry time; its deadline is that activity plus 2*MSL.
bool Engine::time_wait_reusable(const TimeWaitRecord& tw, Instant now) const {
    if (!config_.tw_reuse || !tw.ts_ok) return false;
    const std::int64_t left_ms = static_cast<std::int64_t>(tw.timer.expires) -
                                 static_cast<std::int64_t>(tick(now));
    return (config_.msl * 2).as_millis() - left_ms >= 1000;
}

// An active open may use `tuple`: nothing holds it, or a reusable TIME_WAIT.
bool Engine::tuple_free_for_connect(const FourTuple& tuple, Instant now) const {
    const auto v = table_.find(tuple);
    if (!v) return true;
    return (*v & kTimeWaitBit) != 0 && time_wait_reusable(time_waits_.at(*v & ~kTimeWaitBit), now);
}

// RFC 5961 §7: at most challenge_ack_per_second challenge ACKs per engine
// per second.
bool Engine::challenge_ack_allowed(Instant now) {
    const std::uint64_t ms = now.millis();
    if (ms - challenge_window_start_ms_ >= 1000) {
        challenge_window_start_ms_ = ms;
        challenge_acks_in_window_ = 0;
    }
    if (challenge_acks_in_window_ >= config_.challenge_ack_per_second) {
        counters_.inc(Mib::challenge_acks_limited);
        return false;
    }
    ++challenge_acks_in_window_;
    return true;
}

}  // namespace tcpfp::tcp
