// Segment arrival: parsing, demultiplexing, and the states without a
// synchronized connection (RFC 9293 §3.10.7.1-3), plus TIME_WAIT records.
#include <algorithm>
#include <cerrno>

#include "tcp/engine/engine.hpp"

namespace tcpfp::tcp {

using namespace wire;

// The IPv4 layer of input(): what dpdk_app's worker checks itself before
// it calls input_tcp().
bool Engine::parse_ipv4(std::span<const std::uint8_t> packet, RxOffload rx, Ipv4Addr& src,
                        Ipv4Addr& dst, std::uint8_t& ecn_field, std::span<const std::uint8_t>& segment) {
    auto ip = Ipv4View::parse(packet);
    if (!ip) {
        counters_.drop(drop_for(ip.error()));
        return false;
    }
    if (!rx.ip_checksum_ok && !ip->checksum_ok()) {
        counters_.drop(Drop::wire_ip_bad_checksum);
        return false;
    }
    if (ip->protocol() != ipproto::tcp) {
        counters_.drop(Drop::not_tcp);
        return false;
    }
    if (ip->is_fragment()) {
        counters_.drop(Drop::ip_fragment);
        return false;
    }
    src = ip->src();
    dst = ip->dst();
    // Only our own addresses, none of them broadcast or multicast
    // (add_address): a SYN or any segment to a broadcast or multicast
    // address is discarded here, silently (RFC 9293 §3.9.2.3, MUST-57).
    if (!is_local(dst)) {
        counters_.inc(Mib::in_segs);
        counters_.drop(Drop::not_local);
        return false;
    }
    // RFC 9293 §3.9.2.3 / RFC 1122 §4.2.3.10 (MUST-63): no connection from a
    // broadcast or multicast address; a source of our own is a LAND attack.
    if (src.is_broadcast() || src.is_multicast() || src.is_unspecified() || is_local(src)) {
        counters_.inc(Mib::in_segs);
        counters_.drop(Drop::bad_source);
        return false;
    }
    ecn_field = ip->tos() & ecn::mask;
    segment = ip->payload();
    return true;
}

bool Engine::parse_tcp(Ipv4Addr src, Ipv4Addr dst, std::span<const std::uint8_t> segment,
                       RxOffload rx, InSegment& seg) {
    counters_.inc(Mib::in_segs);
    auto tcp = TcpView::parse(segment);
    if (!tcp) {
        counters_.inc(Mib::in_errs);
        counters_.drop(drop_for(tcp.error()));
        return false;
    }
    // MUST-3: verify the checksum of every received segment.
    if (!rx.l4_checksum_ok && !tcp->checksum_ok(src, dst)) {
        counters_.inc(Mib::in_errs);
        counters_.drop(Drop::wire_tcp_bad_checksum);
        return false;
    }
    // MUST-5/6/7/64: options in any segment, unknown ones skipped, illegal
    // lengths rejected without reading past the header.
    if (const WireError e = parse_tcp_options_into(tcp->options(), seg.options); e != WireError::none) {
        counters_.inc(Mib::in_errs);
        counters_.drop(drop_for(e));
        return false;
    }
    // Flag combinations no TCP sends (RFC 9293 §3.10.7: every segment but
    // the first SYN carries ACK; SYN+FIN and flagless segments are scans).
    const std::uint8_t f = tcp->flags();
    if ((f & tcp_flag::syn) != 0 && (f & tcp_flag::fin) != 0) {
        counters_.drop(Drop::syn_fin);
        return false;
    }
    if ((f & (tcp_flag::syn | tcp_flag::ack | tcp_flag::rst)) == 0) {
        counters_.drop(Drop::no_control_flags);
        return false;
    }
    seg.tuple = FourTuple{dst, src, tcp->dst_port(), tcp->src_port()};
    seg.seq = tcp->seq();
    seg.ack = tcp->ack();
    seg.flags = tcp->flags();
    seg.window = tcp->window();
    seg.urgent_ptr = tcp->urgent_ptr();
    seg.payload = tcp->payload();
    return true;
}

void Engine::input(std::span<const std::uint8_t> packet, Instant now, RxOffload rx) {
    now_ = now;
    Ipv4Addr src, dst;
    std::uint8_t ecn_field = 0;
    std::span<const std::uint8_t> segment;
    if (!parse_ipv4(packet, rx, src, dst, ecn_field, segment)) return;
    input_tcp(src, dst, ecn_field, segment, now, rx);
}

void Engine::input_tcp(Ipv4Addr src, Ipv4Addr dst, std::uint8_t ecn_field,
                       std::span<const std::uint8_t> segment, Instant now, RxOffload rx) {
    now_ = now;
    InSegment seg;
    if (!parse_tcp(src, dst, segment, rx, seg)) return;
    seg.ecn = ecn_field;
    demux(seg, now);
}

// RFC 9293 §3.10.7: the connection (or TIME_WAIT record) the segment
// belongs to, else a listener, else CLOSED.
void Engine::demux(const InSegment& seg, Instant now) {
    if (auto found = table_.find(seg.tuple)) {
        if ((*found & kTimeWaitBit) != 0) {
            on_time_wait(*found & ~kTimeWaitBit, seg, now);
            return;
        }
        Tcb& t = tcbs_.at(*found);
        if (t.state == State::syn_sent) {
            on_syn_sent(t, seg, now);
        } else {
            on_synchronized(t, seg, now);
        }
        return;
    }
    if (auto li = listen_table_.lookup(seg.tuple.local_ip, seg.tuple.local_port)) {
        on_listen(tcbs_.at(listeners_.at(*li).tcb), seg, now);
        return;
    }
    on_closed(seg);
}

// RFC 9293 §3.10.7.1: CLOSED (no TCB). An RST is dropped; anything else
// draws an RST that the sender will find acceptable.
void Engine::on_closed(const InSegment& seg) {
    if (seg.has(tcp_flag::rst)) {
        counters_.drop(Drop::rst_no_connection);
        return;
    }
    counters_.drop(Drop::no_listener);
    send_rst_reply(seg);
}

// A control block for a connection a listener is accepting: in the table,
// linked to the listener, with the listener's socket options. kNoIndex
// (counted as table_full) when there is no room.
std::uint32_t Engine::new_passive_tcb(const Tcb& lt, const InSegment& seg, Instant now) {
    int err = 0;
    const std::uint32_t index = new_tcb(seg.tuple, now, err);
    if (index == kNoIndex || table_.insert(seg.tuple, index) != InsertResult::inserted) {
        if (index != kNoIndex) {
            --counters_.by_state[static_cast<std::size_t>(State::closed)];
            (void)tcbs_.release(id_of(index));
        }
        counters_.drop(Drop::table_full);
        return kNoIndex;
    }
    Tcb& t = tcbs_.at(index);
    t.in_table = true;
    t.passive = true;
    t.listener = lt.accept_next;
    t.nodelay = lt.nodelay;
    t.keepalive = lt.keepalive;
    t.linger_on = lt.linger_on;
    t.linger_s = lt.linger_s;
    t.snd_limit = lt.snd_limit;
    t.rcv_limit = lt.rcv_limit;
    t.rcv_mss = lt.rcv_mss;
    t.cc = lt.cc;
    t.ka_idle_s = lt.ka_idle_s;
    t.ka_intvl_s = lt.ka_intvl_s;
    t.ka_cnt = lt.ka_cnt;
    t.ttl = lt.ttl;  // an accepted connection inherits the listener's IP_TTL and IP_TOS
    t.tos = lt.tos;
    t.sack_offer = lt.sack_offer;  // and what the listener offers
    t.ts_offer = lt.ts_offer;
    t.ws_offer = lt.ws_offer;
    t.user_timeout_on = lt.user_timeout_on;  // RFC 5482, inherited as on Linux
    user_timeouts_[index] = user_timeouts_[index_of(lt)];
    return index;
}

// RFC 9293 §3.10.7.2: LISTEN.
void Engine::on_listen(Tcb& lt, const InSegment& seg, Instant now) {
    if (seg.has(tcp_flag::rst)) {  // first: an RST is ignored
        counters_.drop(Drop::rst_no_connection);
        return;
    }
    if (seg.has(tcp_flag::ack)) {  // second: any ACK is bad here...
        // ...unless it completes a handshake we answered with a SYN cookie.
        if (config_.syn_cookies && !seg.has(tcp_flag::syn) && open_from_cookie(lt, seg, now)) return;
        if (config_.syn_cookies && !seg.has(tcp_flag::syn)) counters_.inc(Mib::syncookies_failed);
        counters_.drop(Drop::listen_ack);
        send_rst_reply(seg);
        return;
    }
    if (!seg.has(tcp_flag::syn)) {  // fourth: neither SYN nor RST
        counters_.drop(Drop::listen_no_syn);
        return;
    }
    // third: SYN. Bounded SYN and accept queues (RFC 4987 §3.1).
    const std::uint32_t li = lt.accept_next;
    Listener& l = listeners_.at(li);
    // Graceful overload: under pressure a SYN takes no state; only a peer
    // that completes the handshake gets a control block (RFC 4987 §3.6).
    // A full table keeps its own policy ([engine] table_full) below.
    if (config_.syn_cookies && l.accept_count < l.backlog && tcbs_.size() < config_.max_connections &&
        under_pressure()) {
        counters_.inc(Mib::syncookies_overload);
        send_cookie_syn_ack(lt, seg, now);
        return;
    }
    if (l.syn_count >= l.backlog) {
        if (config_.syn_cookies && l.accept_count < l.backlog) {
            send_cookie_syn_ack(lt, seg, now);  // no state kept (RFC 4987 §3.6)
            return;
        }
        counters_.drop(Drop::syn_queue_full);
        return;
    }
    if (l.accept_count >= l.backlog) {
        counters_.drop(Drop::accept_queue_full);
        return;
    }
    const std::uint32_t index = new_passive_tcb(lt, seg, now);
    if (index == kNoIndex) {
        // Counted as a table_full drop; with table_full = rst the peer
        // learns at once instead of retrying its SYN.
        if (config_.rst_on_table_full) {
            counters_.inc(Mib::table_full_rsts);
            send_rst_reply(seg);
        }
        return;
    }
    Tcb& t = tcbs_.at(index);
    ++l.syn_count;
    t.irs = seg.seq;
    t.rcv_nxt = seg.seq + 1;
    t.rcv_adv = t.rcv_nxt;
    init_sequence(t, now);
    negotiate_options(t, seg, now);
    // RFC 3168 §6.1.1: an ECN-setup SYN carries ECE and CWR; unless ECN is
    // off, the SYN-ACK answers with ECE alone (send_syn) and ECN is on.
    t.ecn_ok = config_.ecn != EcnMode::off && seg.has(tcp_flag::ece) && seg.has(tcp_flag::cwr);
    // RFC 7323 §2.2: the window in a SYN is never scaled.
    t.snd_wnd = seg.window;
    t.max_snd_wnd = t.snd_wnd;
    t.snd_wl1 = seg.seq;
    t.snd_wl2 = t.iss;
    set_state(t, State::syn_received);
    counters_.inc(Mib::passive_opens);
    // Data carried on the SYN is not acknowledged; the peer retransmits it
    // after the handshake (RFC 9293 §3.10.7.2 allows queueing, not requires).
    send_syn(t, now);
}

// Options a SYN can negotiate (RFC 9293 §3.7.1, RFC 7323 §2-3, RFC 2018).
void Engine::negotiate_options(Tcb& t, const InSegment& seg, Instant now) {
    const TcpOptions& o = seg.options;
    // MUST-15: assume 536 when the peer sends no MSS option.
    const std::uint16_t peer_mss = o.has_mss ? o.mss : 536;
    // RFC 7323 §2.2: scaling only when both SYNs carry the option.
    t.ws_ok = o.has_wscale && t.ws_offer;
    if (t.ws_ok) {
        // RFC 7323 §2.3: a shift above 14 is used as 14.
        t.snd_wscale = std::min<std::uint8_t>(o.wscale, 14);
        // Active opens already offered their shift in the SYN.
        t.rcv_wscale = t.state == State::syn_sent ? t.rcv_wscale : our_wscale(t.rcv_limit);
    } else {
        t.snd_wscale = 0;
        t.rcv_wscale = 0;
    }
    // RFC 2018 §2, RFC 7323 §3.2: only what both SYNs carried.
    t.sack_ok = t.sack_offer && o.sack_permitted;
    t.ts_ok = t.ts_offer && o.has_timestamps;
    if (t.ts_ok) {
        t.ts_recent = o.ts_val;
        t.ts_recent_age_h = static_cast<std::uint16_t>(tick(now) / 3'600'000);
    }
    // MUST-15/SHLD-6: the payload per segment is the smaller MSS less the
    // options every segment will carry (12 bytes of NOP,NOP,TS).
    std::uint16_t mss = std::min({peer_mss, t.rcv_mss, path_mss_limit(t.tuple.remote_ip)});
    if (t.ts_ok) mss = static_cast<std::uint16_t>(mss > 12 + 64 ? mss - 12 : 64);
    t.snd_mss = std::max<std::uint16_t>(mss, 64);
    if (config_.mtu_probing == MtuProbing::on) plpmtud_begin(t);  // RFC 4821 §7.2
    // RFC 6928 / RFC 5681 §3.1: initial window.
    t.cwnd = initial_window(t.snd_mss);
}

// The shift we offer: the configured one, but never so coarse that a
// quarter of the receive buffer is less than one unit — otherwise a small
// buffer could only ever advertise a zero window (RFC 7323 §2.3 leaves the
// choice to the receiver; Linux derives it from the buffer size too).
std::uint8_t Engine::our_wscale(std::uint32_t rcv_limit) const {
    std::uint8_t shift = config_.wscale;
    while (shift > 0 && (rcv_limit >> 2) < (1u << shift)) --shift;
    return shift;
}

// RFC 6928 §2: IW = min(N*MSS, max(2*MSS, 14600)) with N = 10 by default;
// a configured N below 10 is used as given (N*MSS).
std::uint32_t Engine::initial_window(std::uint16_t mss) const {
    const std::uint32_t n = std::max<std::uint32_t>(config_.initial_window, 1);
    if (n < 10) return n * mss;
    return std::min<std::uint32_t>(n * mss, std::max<std::uint32_t>(2u * mss, 14600u * n / 10));
}

// RFC 9293 §3.10.7.3: SYN-SENT.
void Engine::on_syn_sent(Tcb& t, const InSegment& seg, Instant now) {
    // first: the ACK must cover our SYN and nothing more.
    const bool has_ack = seg.has(tcp_flag::ack);
    if (has_ack && (seg.ack <= t.iss || seg.ack > t.snd_max)) {
        counters_.drop(Drop::syn_sent_bad_ack);
        if (!seg.has(tcp_flag::rst)) send_rst_reply(seg);
        return;
    }
    // second: RST is accepted only with an acceptable ACK (RFC 5961 §3.2 keeps
    // the same rule for SYN-SENT).
    if (seg.has(tcp_flag::rst)) {
        if (!has_ack) {
            counters_.drop(Drop::syn_sent_rst_ignored);
            return;
        }
        counters_.inc(Mib::in_rsts);
        counters_.inc(Mib::attempt_fails);
        finish(t, EventKind::reset, ECONNREFUSED);
        return;
    }
    // fourth: SYN.
    if (!seg.has(tcp_flag::syn)) {
        counters_.drop(Drop::syn_sent_no_syn);
        return;
    }
    t.irs = seg.seq;
    t.rcv_nxt = seg.seq + 1;
    t.rcv_adv = t.rcv_nxt;
    negotiate_options(t, seg, now);
    t.snd_wnd = seg.window;  // RFC 7323 §2.2: unscaled in a SYN
    t.max_snd_wnd = t.snd_wnd;
    t.snd_wl1 = seg.seq;
    // RFC 3168 §6.1.1: our ECN-setup SYN is accepted by a SYN-ACK with ECE
    // and without CWR (both set is a reflection by a non-ECN peer). In a
    // simultaneous open, as Linux: the peer's SYN must have asked too.
    if (t.ecn_ok) {
        t.ecn_ok = has_ack ? seg.has(tcp_flag::ece) && !seg.has(tcp_flag::cwr)
                           : seg.has(tcp_flag::ece) && seg.has(tcp_flag::cwr);
    }
    if (has_ack) {
        t.snd_wl2 = seg.ack;
        on_data_acked(t, seg.ack, seg, now);
        enter_established(t, now);
        owe_ack(t, now);  // <SEQ=SND.NXT><ACK=RCV.NXT><CTL=ACK>
        output_data(t, now);
        rearm(t);
        return;
    }
    // Simultaneous open (RFC 9293 §3.5, Figure 8): SYN-RECEIVED, and our
    // SYN goes again with an ACK.
    t.snd_wl2 = t.iss;
    set_state(t, State::syn_received);
    send_syn(t, now);
}

// TIME_WAIT, held as a compact record (RFC 9293 §3.10.7.4 for the rules,
// RFC 1337 against assassination, RFC 6191 for reuse by a new SYN).
void Engine::on_time_wait(std::uint32_t twi, const InSegment& seg, Instant now) {
    TimeWaitRecord& tw = time_waits_.at(twi);
    if (seg.has(tcp_flag::rst)) {  // RFC 1337: ignore RST in TIME_WAIT
        counters_.drop(Drop::rst_time_wait);
        return;
    }
    const bool seg_ts = seg.options.has_timestamps;
    if (seg.has(tcp_flag::syn) && !seg.has(tcp_flag::ack)) {
        // RFC 6191 §2: with timestamps on both sides a SYN whose TSval is
        // newer than TS.Recent may reopen; otherwise (RFC 9293 §3.10.7.4,
        // RFC 1122 §4.2.2.13) its sequence number must lie beyond RCV.NXT.
        const bool newer = (tw.ts_ok && seg_ts)
                               ? static_cast<std::int32_t>(seg.options.ts_val - tw.ts_recent) > 0
                               : seg.seq > tw.rcv_nxt;
        auto li = listen_table_.lookup(seg.tuple.local_ip, seg.tuple.local_port);
        if (newer && li) {
            counters_.inc(Mib::timewait_reused);
            delete_time_wait(twi);
            on_listen(tcbs_.at(listeners_.at(*li).tcb), seg, now);
            return;
        }
        // RFC 5961 §4: a SYN that cannot reopen draws a challenge ACK.
        counters_.drop(Drop::syn_challenged);
        if (!challenge_ack_allowed(now)) return;
        counters_.inc(Mib::challenge_acks_sent);
    } else if (tw.ts_ok && seg_ts &&
               static_cast<std::int32_t>(seg.options.ts_val - tw.ts_recent) < 0) {
        counters_.drop(Drop::paws);  // RFC 7323 §5.3: old duplicate; ACK it
    } else if (seg.has(tcp_flag::fin) && seg.seq + seg.seg_len() == tw.rcv_nxt) {
        // The only thing expected here: the peer's FIN again. ACK it and
        // restart the 2 MSL timeout.
        counters_.inc(Mib::timewait_fin_reacked);
        if (seg_ts && tw.ts_ok) tw.ts_recent = seg.options.ts_val;
        restart_time_wait(tw, now);
    } else if (seg.seg_len() == 0 && seg.seq == tw.rcv_nxt) {
        counters_.drop(Drop::time_wait_segment);  // a late ACK needs no answer
        return;
    } else {
        counters_.drop(Drop::out_of_window);  // RFC 9293 §3.10.7.4 first check: ACK it
        counters_.inc(Mib::dup_acks_sent);
    }
    OutSegment* out = push_segment();
    if (out == nullptr) return;
    out->tuple = tw.tuple;
    out->seq = tw.snd_nxt;
    out->ack = tw.rcv_nxt;
    out->flags = tcp_flag::ack;
    out->window = tw.window;
    out->options = TcpOptions{};
    if (tw.ts_ok) {
        out->options.has_timestamps = true;
        out->options.ts_val = ts_now(tw.ts_offset);
        out->options.ts_ecr = tw.ts_recent;
    }
    counters_.inc(Mib::out_segs);
}

}  // namespace tcpfp::tcp

namespace tcpfp::tcp {

using namespace wire;

// RFC 4987 §3.6: answer a SYN with a cookie ISN and keep nothing. Window
// scale and SACK survive only inside the timestamp, so they are offered only
// when the peer offered timestamps.
void Engine::send_cookie_syn_ack(Tcb& lt, const InSegment& seg, Instant now) {
    OutSegment* s = push_segment();
    if (s == nullptr) return;
    const TcpOptions& in = seg.options;
    s->tuple = seg.tuple;
    s->ttl = lt.ttl;
    s->tos = lt.tos;
    s->seq = cookies_.make(seg.tuple, seg.seq, in.has_mss ? in.mss : 536, now);
    s->ack = seg.seq + 1;
    s->flags = tcp_flag::syn | tcp_flag::ack;
    s->window = static_cast<std::uint16_t>(std::min<std::uint32_t>(lt.rcv_limit, 65535));
    s->options.has_mss = true;
    s->options.mss = lt.rcv_mss;
    if (config_.timestamps && in.has_timestamps) {
        CookieOptions co;
        co.has_wscale = in.has_wscale;
        co.wscale = std::min<std::uint8_t>(in.wscale, 14);
        co.sack = config_.sack && in.sack_permitted;
        s->options.has_timestamps = true;
        s->options.ts_val = SynCookies::encode_ts(ts_now(cookies_.ts_offset(seg.tuple)), co);
        s->options.ts_ecr = in.ts_val;
        s->options.has_wscale = in.has_wscale;
        s->options.wscale = our_wscale(lt.rcv_limit);
        s->options.sack_permitted = co.sack;
    }
    counters_.inc(Mib::syncookies_sent);
    counters_.inc(Mib::out_segs);
}

// The final ACK of a cookie handshake: rebuild the connection in
// ESTABLISHED from the cookie (RFC 4987 §3.6) and queue it for accept().
bool Engine::open_from_cookie(Tcb& lt, const InSegment& seg, Instant now) {
    if (seg.has(tcp_flag::rst)) return false;
    const SeqNum irs = seg.seq - 1;
    const SeqNum iss = seg.ack - 1;
    const auto mss = cookies_.check(seg.tuple, irs, iss, now);
    if (!mss) return false;
    const std::uint32_t li = lt.accept_next;
    if (listeners_.at(li).accept_count >= listeners_.at(li).backlog) {
        counters_.drop(Drop::accept_queue_full);
        return true;  // valid but no room: the peer will retransmit its ACK
    }
    const std::uint32_t index = new_passive_tcb(lt, seg, now);
    if (index == kNoIndex) {
        // Counted as table_full. The peer believes it is connected: with
        // table_full = rst it learns at once (RST at SEG.ACK, its RCV.NXT);
        // with drop, at its first data or keepalive.
        if (config_.rst_on_table_full) {
            counters_.inc(Mib::table_full_rsts);
            send_rst_reply(seg);
        }
        return true;
    }
    Tcb& t = tcbs_.at(index);
    t.irs = irs;
    t.rcv_nxt = seg.seq;
    t.rcv_adv = t.rcv_nxt + std::min<std::uint32_t>(lt.rcv_limit, 65535);
    t.iss = iss;
    t.snd_una = t.snd_nxt = t.snd_max = seg.ack;
    if (config_.timestamps && seg.options.has_timestamps) {
        CookieOptions co;
        SynCookies::decode_ts(seg.options.ts_ecr, co);
        t.ts_ok = true;
        t.ts_recent = seg.options.ts_val;
        t.ts_recent_age_h = static_cast<std::uint16_t>(tick(now) / 3'600'000);
        t.ts_offset = cookies_.ts_offset(seg.tuple);
        t.ws_ok = co.has_wscale;
        t.snd_wscale = co.has_wscale ? co.wscale : 0;
        t.rcv_wscale = co.has_wscale ? our_wscale(lt.rcv_limit) : 0;
        t.sack_ok = co.sack;
    }
    std::uint16_t m = std::min({*mss, t.rcv_mss, path_mss_limit(t.tuple.remote_ip)});
    if (t.ts_ok) m = static_cast<std::uint16_t>(m > 12 + 64 ? m - 12 : 64);
    t.snd_mss = m;
    if (config_.mtu_probing == MtuProbing::on) plpmtud_begin(t);  // RFC 4821 §7.2
    t.cwnd = initial_window(t.snd_mss);
    t.snd_wnd = static_cast<std::uint32_t>(seg.window) << t.snd_wscale;
    t.max_snd_wnd = t.snd_wnd;
    t.snd_wl1 = seg.seq;
    t.snd_wl2 = seg.ack;
    t.last_ack_sent = t.rcv_nxt;
    set_state(t, State::established);
    counters_.inc(Mib::passive_opens);
    counters_.inc(Mib::syncookies_ok);
    enqueue_accept(t);
    // Data (or a FIN) riding on the ACK goes through the normal steps.
    if (!seg.payload.empty() || seg.has(tcp_flag::fin)) on_synchronized(t, seg, now);
    return true;
}

}  // namespace tcpfp::tcp
