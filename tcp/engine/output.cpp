// Segment generation: SYN and SYN-ACK, ACKs, RSTs, and data with our FIN.
#include <algorithm>
#include <array>

#include "tcp/engine/engine.hpp"

namespace tcpfp::tcp {

using namespace wire;

OutSegment* Engine::push_segment() {
    if (out_len_ == config_.output_queue) {
        counters_.inc(Mib::output_dropped);  // TCP recovers by retransmission
        return nullptr;
    }
    buffers_.park_releases();  // this segment may point into a send buffer
    OutSegment* s = &out_[out_len_++];
    // Every field but the payload pieces, which count says are unused: the
    // eight of them would double what each segment costs to clear.
    s->tuple = FourTuple{};
    s->seq = SeqNum();
    s->ack = SeqNum();
    s->flags = 0;
    s->window = 0;
    s->urgent_ptr = 0;
    s->ttl = config_.ttl;  // segments of no connection (RSTs, TIME_WAIT ACKs)
    s->tos = 0;
    s->options = TcpOptions{};
    s->payload.count = 0;
    s->payload.bytes = 0;
    return s;
}

// The window we offer: free buffer space, scaled (RFC 7323 §2.3), with
// receiver-side SWS avoidance (RFC 9293 §3.8.6.2.2, MUST-39) and never
// moving the right edge left (SHLD-14). A chunk pool running low offers
// less new window (its share, ChunkPool::window_allowance) before it would
// have to drop data; what was offered stays offered.
std::uint16_t Engine::window_to_advertise(Tcb& t, bool* pool_clamped) {
    std::uint32_t space = t.shut_rd ? t.rcv_limit
                                    : (t.rcv_limit > t.rcv_buf.len ? t.rcv_limit - t.rcv_buf.len : 0);
    const std::uint32_t allowance = buffers_.window_allowance(tcbs_.size());
    if (allowance < space && !t.shut_rd) {
        space = allowance;
        if (pool_clamped != nullptr) *pool_clamped = true;
    }
    SeqNum right = t.rcv_nxt + space;
    const std::uint32_t sws = std::min<std::uint32_t>(t.rcv_limit / 2, t.rcv_mss);
    if (right - t.rcv_adv < static_cast<std::int32_t>(sws)) right = seq_max(t.rcv_adv, t.rcv_nxt);
    if (right < t.rcv_adv) right = t.rcv_adv;
    std::uint32_t wnd = static_cast<std::uint32_t>(right - t.rcv_nxt);
    const std::uint32_t max_wnd = 65535u << t.rcv_wscale;
    wnd = std::min(wnd, max_wnd);
    // Scaling rounds down: the edge the peer sees may fall back by less than
    // one unit (2^shift), which RFC 7323 §2.4 tells senders to tolerate.
    // Rounding up instead would promise space we do not have, and repeated
    // round-ups would ratchet the promise further past the buffer.
    return static_cast<std::uint16_t>(std::min<std::uint32_t>(wnd >> t.rcv_wscale, 65535));
}

void Engine::attach_payload(Tcb& t, OutSegment& s, std::uint32_t offset, std::uint32_t n) {
    // check_chunk_limits() makes n bytes fit PayloadParts::kMax pieces.
    s.payload.count = static_cast<std::uint8_t>(t.snd_buf.view(buffers_, offset, n, s.payload.part, s.payload.bytes));
}

void Engine::fill_header(Tcb& t, OutSegment& s, std::uint8_t flags, SeqNum seq, Instant now) {
    (void)now;
    s.tuple = t.tuple;
    s.ttl = t.ttl;
    s.tos = t.tos;
    s.seq = seq;
    // RFC 3168 §6.1.3: ECE on every ACK while a CE mark waits for the CWR
    // (never on a SYN, whose ECE means ECN setup, nor on an RST).
    if (t.ecn_echo && (flags & (tcp_flag::ack | tcp_flag::syn | tcp_flag::rst)) == tcp_flag::ack) {
        flags |= tcp_flag::ece;
    }
    s.flags = flags;
    if ((flags & tcp_flag::syn) != 0) {
        // Every SYN offers a window (with or without ACK); RFC 7323 §2.2:
        // it is never scaled.
        const std::uint32_t allowance = buffers_.window_allowance(tcbs_.size());
        if (allowance < std::min<std::uint32_t>(t.rcv_limit, 65535)) counters_.inc(Mib::rcv_window_pool_clamped);
        s.window = static_cast<std::uint16_t>(std::min({t.rcv_limit, allowance, 65535u}));
        t.rcv_adv = t.rcv_nxt + s.window;
    }
    if ((flags & tcp_flag::ack) != 0) {
        s.ack = t.rcv_nxt;
        if ((flags & tcp_flag::syn) == 0) {
            bool clamped = false;
            s.window = window_to_advertise(t, &clamped);
            if (clamped) counters_.inc(Mib::rcv_window_pool_clamped);
            const SeqNum edge = t.rcv_nxt + (static_cast<std::uint32_t>(s.window) << t.rcv_wscale);
            if (t.rcv_adv < edge) t.rcv_adv = edge;
        }
        t.last_ack_sent = t.rcv_nxt;
        // Any segment carrying an ACK satisfies a pending delayed ACK.
        t.ack_pending = false;
        t.ack_owed = false;
        t.unacked_segs = 0;
        t.delack_deadline = kNoDeadline;
    }
    // RFC 7323 §3.2: once negotiated, TSopt goes on every segment.
    if (t.ts_ok) {
        s.options.has_timestamps = true;
        s.options.ts_val = ts_now(t.ts_offset);
        s.options.ts_ecr = t.ts_recent;
    }
    if (t.sack_ok && t.loss != kNoIndex && (flags & tcp_flag::ack) != 0) {
        const LossState& ls = losses_.at(t.loss);
        s.options.sack_count = sack_blocks(t, ls, s.options.sack.data());
    }
}

// RFC 2018 §4: SACK blocks for what we hold beyond RCV.NXT, the block with
// the latest arrival first; three fit beside timestamps, four without. A
// held FIN occupies a sequence number (RFC 9293 §3.4), so the block that
// ends at it takes it in, or it has a block of its own (Linux's blocks
// likewise count the FIN): the sender then knows its FIN arrived.
std::uint8_t Engine::sack_blocks(const Tcb& t, const LossState& ls, SackBlock* out) const {
    std::array<SackBlock, RangeSet::kMax + 1> all;
    std::uint8_t n = 0;
    bool fin_placed = !ls.ooo_fin;
    for (std::uint8_t i = 0; i < ls.ooo.n; ++i) {
        all[n] = ls.ooo.r[i];
        if (!fin_placed && all[n].right == ls.ooo_fin_seq) {
            all[n].right += 1;
            fin_placed = true;
        }
        ++n;
    }
    if (!fin_placed) all[n++] = {ls.ooo_fin_seq, ls.ooo_fin_seq + 1};
    const std::uint8_t max_blocks = t.ts_ok ? 3 : 4;
    std::uint8_t first = n;  // the block now holding the latest arrival
    for (std::uint8_t i = 0; i < n; ++i) {
        if (all[i].left <= ls.recent.left && ls.recent.left < all[i].right) first = i;
    }
    std::uint8_t count = 0;
    if (first < n) out[count++] = all[first];
    for (std::uint8_t i = 0; i < n && count < max_blocks; ++i) {
        if (i != first) out[count++] = all[i];
    }
    return count;
}

// RFC 9293 §3.7.1 / RFC 6691: SMSS counts payload beside the options every
// segment carries (TS, already deducted from snd_mss); options added to one
// segment come out of its payload. SACK blocks (RFC 2018 §3: NOP, NOP,
// kind, length, 8 bytes a block) ride on data segments while we hold
// out-of-order data, so those segments carry less — as Linux's
// tcp_current_mss() — or the frame would exceed the MTU.
std::uint32_t Engine::payload_mss(const Tcb& t) const {
    const std::uint32_t mss = t.snd_mss;
    if (!t.sack_ok || t.loss == kNoIndex) return mss;
    std::array<SackBlock, 4> blocks;
    const std::uint32_t count = sack_blocks(t, losses_.at(t.loss), blocks.data());
    if (count == 0) return mss;
    const std::uint32_t opt = 4 + 8 * count;
    return mss > opt + 64 ? mss - opt : 64;
}

void Engine::send_syn(Tcb& t, Instant now) {
    OutSegment* s = push_segment();
    const bool synack = t.state == State::syn_received;
    if (!synack && t.ecn_ok && t.retries > 0) {
        // RFC 3168 §6.1.1.1: an ECN-setup SYN may be what a middlebox
        // drops; the retransmissions go without it, as Linux's tcp_ecn_fallback.
        t.ecn_ok = false;
        counters_.inc(Mib::ecn_syn_fallback);
    }
    // RFC 3168 §6.1.1: ECN setup is ECE+CWR on the SYN, ECE on the SYN-ACK.
    // Neither is sent ECT (§6.1.1), as no control segment is.
    std::uint8_t flags = synack ? (tcp_flag::syn | tcp_flag::ack) : tcp_flag::syn;
    if (t.ecn_ok) flags |= synack ? tcp_flag::ece : (tcp_flag::ece | tcp_flag::cwr);
    if (s != nullptr) {
        fill_header(t, *s, flags, t.iss, now);
        TcpOptions& o = s->options;
        o.has_mss = true;  // RFC 9293 §3.7.1: always send MSS in a SYN (SHLD-5)
        o.mss = t.rcv_mss;
        if (synack) {
            // Answer only what the peer offered.
            o.has_wscale = t.ws_ok;
            o.wscale = t.rcv_wscale;
            o.sack_permitted = t.sack_ok;
            o.has_timestamps = t.ts_ok;
        } else {
            o.has_wscale = t.ws_offer;
            // used once the SYN-ACK confirms scaling
            t.rcv_wscale = o.has_wscale ? our_wscale(t.rcv_limit) : 0;
            o.wscale = t.rcv_wscale;
            o.sack_permitted = t.sack_offer;
            o.has_timestamps = t.ts_offer;
            o.ts_val = ts_now(t.ts_offset);
            o.ts_ecr = 0;
        }
        counters_.inc(t.retries > 0 ? Mib::retrans_segs : Mib::out_segs);
    }
    t.snd_nxt = t.iss + 1;
    t.snd_max = seq_max(t.snd_max, t.snd_nxt);
    if (t.retries == 0) note_progress(t, now);  // the user timeout covers the handshake
    if (t.retries == 0 && !t.rtt_timing) {
        t.rtt_timing = true;
        t.rtt_seq = t.iss;
        t.rtt_start = static_cast<std::uint32_t>(tick(now));
    }
    arm_rtx(t, now);
    rearm(t);
}

// <SEQ=SND.NXT><ACK=RCV.NXT><CTL=ACK>, where SND.NXT is the highest we sent:
// while a timeout rewinds our sending point, an ACK numbered from there
// would fall left of the peer's window and be dropped with its ACK field
// unread; if both ends did that neither could ever advance (BSD and Linux
// likewise number pure ACKs from the highest sequence sent).
void Engine::send_ack(Tcb& t, Instant now) {
    OutSegment* s = push_segment();
    if (s == nullptr) return;
    fill_header(t, *s, tcp_flag::ack, t.snd_max, now);
    counters_.inc(Mib::out_segs);
}

// RFC 9293 §3.8.6.3 (MUST-58, MUST-59): when several segments are queued,
// all of them are processed before any ACK is sent. So an ACK that data or
// a FIN calls for is owed, not sent: output() sends one per connection once
// the caller has fed in its whole burst, and any segment carrying ACK that
// goes out first (data the application sends in reply, its FIN) settles it.
// Duplicate ACKs for out-of-order data stay immediate (RFC 5681 §4.2: the
// sender counts them), as do the rate-limited challenge and out-of-window
// ACKs.
void Engine::owe_ack(Tcb& t, Instant now) {
    if (t.ack_owed) return;
    if (acks_owed_len_ == config_.max_connections) {
        // Only reachable when control blocks are freed and reused within one
        // drain: no list entry is free, so the ACK goes out now.
        send_ack(t, now);
        return;
    }
    t.ack_owed = true;
    acks_owed_[acks_owed_len_++] = index_of(t);
}

void Engine::send_owed_acks() {
    for (std::uint32_t i = 0; i < acks_owed_len_; ++i) {
        const std::uint32_t index = acks_owed_[i];
        if (!tcbs_.is_live(index)) continue;
        Tcb& t = tcbs_.at(index);
        if (!t.ack_owed) continue;  // a segment carrying ACK went out since
        t.ack_owed = false;
        // Reset or closed since (a released block is only a CLOSED shell):
        // there is nothing left to acknowledge.
        if (t.state == State::closed || !t.in_table) continue;
        send_ack(t, now_);
    }
    acks_owed_len_ = 0;
}

// An RST for a connection we have: <SEQ=SND.NXT><CTL=RST> (RFC 9293 §3.10.5),
// carrying ACK as BSD and Linux do so the peer can match it either way.
void Engine::send_rst(Tcb& t, Instant now) {
    OutSegment* s = push_segment();
    if (s == nullptr) return;
    fill_header(t, *s, tcp_flag::rst | tcp_flag::ack, t.snd_max, now);
    s->window = 0;
    counters_.inc(Mib::out_segs);
    counters_.inc(Mib::out_rsts);
}

// RFC 9293 §3.10.7.1 reset generation for a segment with no connection:
// if it had an ACK, <SEQ=SEG.ACK><CTL=RST>; otherwise
// <SEQ=0><ACK=SEG.SEQ+SEG.LEN><CTL=RST,ACK>.
void Engine::send_rst_reply(const InSegment& seg) {
    OutSegment* s = push_segment();
    if (s == nullptr) return;
    s->tuple = seg.tuple;
    if (seg.has(tcp_flag::ack)) {
        s->seq = seg.ack;
        s->flags = tcp_flag::rst;
    } else {
        s->seq = SeqNum(0);
        s->ack = seg.seq + seg.seg_len();
        s->flags = tcp_flag::rst | tcp_flag::ack;
    }
    counters_.inc(Mib::out_segs);
    counters_.inc(Mib::out_rsts);
}

// PSH where Linux puts it, beyond MUST-61's last segment. RFC 9293 §3.9.1
// leaves extra PSH bits to the sender (the receiver only delivers sooner),
// so matching Linux costs nothing and keeps packet-level comparisons with
// it exact. The rule is a model fitted to upstream captures: Linux queues
// data in 2-segment GSO units (tcp_min_tso_segs) and a unit sent whole
// at the end of a window-limited burst carries PSH (`P. 1:10001(10000)`
// for a 10-segment initial window, `P. 12001:14001(2000)` on an ACK),
// while a unit the window splits keeps PSH for its unsent tail (tso_fragment)
// — a 7-segment burst ends without it, and so do single segments clocked
// out one per ACK (limited transmit, PRR, probes). So: the tail of a burst
// of an even number (>= 2) of new segments that a window cut short.
void Engine::mark_burst_push(OutSegment* tail, std::uint32_t segs) {
    if (tail != nullptr && segs >= 2 && segs % 2 == 0) tail->flags |= tcp_flag::psh;
}

namespace {
// The states in which data (new or retransmitted) and our FIN go out.
bool sends_data(State s) {
    switch (s) {
        case State::established:
        case State::close_wait:
        case State::fin_wait_1:
        case State::closing:
        case State::last_ack:
            return true;
        default:
            return false;
    }
}
}  // namespace

// Sends what the windows allow from the send buffer, then our FIN.
// Retransmission reuses this path: after a timeout snd_nxt goes back to
// snd_una and everything up to snd_max is sent again.
void Engine::output_data(Tcb& t, Instant now) {
    if (!sends_data(t.state) || t.fin_acked) return;
    const SeqNum data_end = t.snd_una + t.snd_buf.len;  // where our FIN goes
    OutSegment* burst_tail = nullptr;  // the last new-data segment of this pass
    std::uint32_t burst_segs = 0;
    bool window_cut = false;  // the pass stopped because a window was full (not Nagle/SWS)
    const std::uint32_t mss = payload_mss(t);  // the SACK blocks stay the same this pass
    for (;;) {
        const std::uint32_t offset = static_cast<std::uint32_t>(t.snd_nxt - t.snd_una);
        if (offset >= t.snd_buf.len) break;
        const bool retransmit = t.snd_nxt < t.snd_max;
        const std::uint32_t n = next_segment_bytes(t, offset, mss, retransmit, now, window_cut);
        if (n == 0) break;
        OutSegment* s = push_segment();
        if (s == nullptr) break;
        send_data_segment(t, *s, offset, {n, mss}, retransmit, now);
        if (!retransmit) {
            burst_tail = s;
            ++burst_segs;
        }
    }
    if (window_cut) mark_burst_push(burst_tail, burst_segs);
    // Data waiting, nothing in flight, and the window (zero, or too small
    // for sender SWS avoidance) holds it back: the persist timer (MUST-35/36)
    // doubles as RFC 1122 §4.2.3.4's SWS override timer.
    if (t.snd_una == t.snd_max && t.snd_buf.len > 0 && t.rtx_deadline == kNoDeadline &&
        !t.fin_sent) {
        t.persist = true;
        start_rtx(t, now);
    }
    // A bare FIN once the data is out (first time, or again after a timeout).
    if (t.fin_queued && t.snd_nxt == data_end && (!t.fin_sent || t.snd_nxt < t.snd_max)) {
        send_bare_fin(t, data_end, now);
    }
    rearm(t);
}

// The payload of the next segment at `offset` into the send buffer: 0 when
// the windows, sender SWS avoidance or Nagle hold it back. `window_cut` says
// whether a window (not Nagle or SWS) is what limits it.
std::uint32_t Engine::next_segment_bytes(Tcb& t, std::uint32_t offset, std::uint32_t mss, bool retransmit,
                                         Instant now, bool& window_cut) {
    const std::uint32_t unsent = t.snd_buf.len - offset;
    // The peer's window limits what lies beyond SND.UNA; the congestion
    // window limits what is in the network, which during SACK recovery
    // is RFC 6675's pipe rather than everything beyond SND.UNA.
    const std::uint32_t in_flight = t.loss != kNoIndex ? pipe(t) : offset;
    const std::uint32_t by_peer = t.snd_wnd > offset ? t.snd_wnd - offset : 0;
    const std::uint32_t by_cwnd = t.cwnd > in_flight ? t.cwnd - in_flight : 0;
    const std::uint32_t usable = std::min(by_peer, by_cwnd);
    // RFC 4821 §7.4: a path MTU probe is one larger segment of new data.
    const std::uint32_t seg_mss =
        t.plpmtud && !t.mtu_probe_out && !retransmit ? plpmtud_probe_payload(t, mss, unsent, usable, now) : mss;
    const std::uint32_t n = std::min({unsent, seg_mss, usable});
    window_cut = usable < std::min<std::uint32_t>(unsent, mss);
    if (n == 0 || n >= mss || retransmit) return n;
    // Sender SWS avoidance (RFC 9293 §3.8.6.2.1, MUST-38): a short
    // segment only when it drains the buffer or fills half the
    // largest window seen; Nagle (§3.7.4, SHLD-7) holds it back
    // while data is unacknowledged, unless TCP_NODELAY.
    const bool drains = n == unsent;
    if (!drains && n < t.max_snd_wnd / 2) return 0;
    if (drains && !t.nodelay && !t.fin_queued && t.snd_una != t.snd_nxt) return 0;
    return n;
}

// Fills `s` with [offset, offset + n) of the send buffer, our FIN when it
// is the last of the data, and advances SND.NXT past it.
void Engine::send_data_segment(Tcb& t, OutSegment& s, std::uint32_t offset, SegmentSize size, bool retransmit,
                               Instant now) {
    const std::uint32_t n = size.bytes;
    const std::uint32_t unsent = t.snd_buf.len - offset;
    std::uint8_t flags = tcp_flag::ack;
    if (n == unsent) flags |= tcp_flag::psh;  // MUST-61: PSH on the last segment
    const bool fin_here = t.fin_queued && n == unsent && (!t.fin_sent || retransmit);
    if (fin_here) flags |= tcp_flag::fin;
    fill_header(t, s, flags, t.snd_nxt, now);
    if (t.ecn_ok && !retransmit) {
        // RFC 3168 §6.1.2: new data goes ECT(0), the first after a
        // reduction with CWR; retransmissions stay Not-ECT (§6.1.5).
        s.tos |= ecn::ect0;
        if (t.ecn_cwr) {
            s.flags |= tcp_flag::cwr;
            t.ecn_cwr = false;
            counters_.inc(Mib::ecn_cwr_sent);
        }
    }
    attach_payload(t, s, offset, n);
    counters_.inc(retransmit ? Mib::retrans_segs : Mib::out_segs);
    if (fin_here && t.fin_sent) counters_.inc(Mib::fin_retransmits);
    log_sent(t, t.snd_nxt, n, fin_here, now);  // RFC 8985 per-segment state
    if (n > size.mss) plpmtud_probe_sent(t, t.snd_nxt, n);
    if (!retransmit && !t.ts_ok && !t.rtt_timing) {
        t.rtt_timing = true;
        t.rtt_seq = t.snd_nxt;
        t.rtt_start = static_cast<std::uint32_t>(tick(now));
    }
    t.snd_nxt += n + (fin_here ? 1u : 0u);
    if (fin_here) t.fin_sent = true;
    t.snd_max = seq_max(t.snd_max, t.snd_nxt);
    if (t.rtx_deadline == kNoDeadline) start_rtx(t, now);
}

// Our FIN alone, once the data is out (or again after a timeout).
void Engine::send_bare_fin(Tcb& t, SeqNum data_end, Instant now) {
    OutSegment* s = push_segment();
    if (s == nullptr) return;
    const bool retransmit = t.fin_sent;
    fill_header(t, *s, tcp_flag::fin | tcp_flag::ack, data_end, now);
    counters_.inc(retransmit ? Mib::retrans_segs : Mib::out_segs);
    if (retransmit) counters_.inc(Mib::fin_retransmits);
    log_sent(t, data_end, 0, true, now);
    t.fin_sent = true;
    t.snd_nxt = data_end + 1;
    t.snd_max = seq_max(t.snd_max, t.snd_nxt);
    if (t.rtx_deadline == kNoDeadline) start_rtx(t, now);
}


}  // namespace tcpfp::tcp
