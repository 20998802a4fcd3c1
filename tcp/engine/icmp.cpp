// ICMP errors about our own segments: RFC 9293 §3.9.2.2 (MUST-54..56,
// SHLD-25/26), RFC 1122 §4.2.3.9, RFC 5927 §4.1 (validation), RFC 5461
// (soft errors in synchronized states), RFC 1191 (path MTU discovery).
//
// Choices: destination unreachable codes 2 and 3 (protocol, port) abort a
// connection in SYN-SENT or SYN-RECEIVED with ECONNREFUSED; in synchronized
// states they are soft errors, as RFC 5461 §4 recommends and Linux does.
// Every other error is soft: remembered, reported as an event, never fatal.
#include <cerrno>

#include "tcp/engine/engine.hpp"
#include "tcp/wire/bytes.hpp"

namespace tcpfp::tcp {

namespace {

using namespace wire;

constexpr std::uint16_t kMinPathMtu = 576;  // RFC 1191 §3 / RFC 791: every IPv4 host takes it

// Linux's errno for each destination-unreachable code (icmp_err_convert).
int unreachable_errno(std::uint8_t code) {
    switch (code) {
        case icmp_unreach::net: return ENETUNREACH;
        case icmp_unreach::protocol:
        case icmp_unreach::port: return ECONNREFUSED;
        case icmp_unreach::frag_needed: return EMSGSIZE;
        case icmp_unreach::source_route_failed: return EOPNOTSUPP;
        case 6: case 9: case 11: return ENETUNREACH;  // net unknown, prohibited, for TOS
        case 7: return EHOSTDOWN;                      // host unknown
        case 8: return ENONET;                         // source host isolated
        default: return EHOSTUNREACH;                  // host: unreachable, prohibited, filtered
    }
}

bool is_hard(const IcmpError& e) {
    return e.type == icmp_type::dest_unreachable &&
           (e.code == icmp_unreach::protocol || e.code == icmp_unreach::port);
}

// RFC 1191 §5: a router that leaves the next-hop MTU at 0 predates the
// RFC; the plateau below the quoted datagram's length stands in for it.
std::uint16_t plateau_below(std::uint16_t len) {
    constexpr std::uint16_t kPlateaus[] = {32000, 17914, 8166, 4352, 2002, 1492, 1006, 508, 296, 68};
    for (std::uint16_t p : kPlateaus) {
        if (p < len) return p;
    }
    return 68;
}

}  // namespace

void Engine::input_icmp(std::span<const std::uint8_t> packet, Instant now) {
    now_ = now;
    auto ip = parse_ipv4_checked(packet);
    if (!ip || ip->protocol() != ipproto::icmp || ip->is_fragment()) {
        counters_.drop(Drop::icmp_malformed);
        return;
    }
    auto e = parse_icmp_error(ip->payload());
    if (!e) {
        counters_.drop(Drop::icmp_malformed);
        return;
    }
    // MUST-55: source quench is silently discarded.
    if (e->type == icmp_type::source_quench) {
        counters_.drop(Drop::icmp_source_quench);
        return;
    }
    Tcb* t = icmp_connection(*e);
    if (t == nullptr) return;
    if (!icmp_quote_in_window(*t, *e)) {
        counters_.drop(Drop::icmp_out_of_window);
        return;
    }
    if (e->type == icmp_type::dest_unreachable && e->code == icmp_unreach::frag_needed) {
        icmp_frag_needed(*t, *e, now);
    } else if (is_hard(*e) && (t->state == State::syn_sent || t->state == State::syn_received)) {
        icmp_hard(*t);  // SHLD-26
    } else {
        // MUST-56: never abort a connection for a soft error.
        icmp_soft(*t, e->type == icmp_type::dest_unreachable ? unreachable_errno(e->code)
                      : e->type == icmp_type::time_exceeded  ? EHOSTUNREACH
                                                             : EPROTO);
    }
}

// The connection that sent the quoted segment: we were its source.
Tcb* Engine::icmp_connection(const IcmpError& e) {
    if (e.quoted_protocol != ipproto::tcp || !is_local(e.quoted_src)) {
        counters_.drop(Drop::icmp_not_ours);
        return nullptr;
    }
    const auto q = e.quoted_payload;
    FourTuple tuple;
    tuple.local_ip = e.quoted_src;
    tuple.remote_ip = e.quoted_dst;
    tuple.local_port = load_be16(q.data());
    tuple.remote_port = load_be16(q.data() + 2);
    const auto found = table_.find(tuple);
    if (!found || (*found & kTimeWaitBit) != 0) {
        counters_.drop(Drop::icmp_no_connection);
        return nullptr;
    }
    return &tcbs_.at(*found);
}

// RFC 5927 §4.1: an error is believed only if it quotes a sequence number
// we have sent and not seen acknowledged, SND.UNA <= SEG.SEQ < SND.NXT
// (SND.MAX here: after a retransmission timeout SND.NXT went back).
bool Engine::icmp_quote_in_window(const Tcb& t, const IcmpError& e) const {
    const SeqNum seq(load_be32(e.quoted_payload.data() + 4));
    return t.snd_una <= seq && seq < t.snd_max;
}

// SHLD-25: the application hears of it (an event; ConnInfo::soft_error);
// SO_ERROR stays clear, as on Linux. In SYN-SENT it is kept for a connect()
// that later times out (on_rto reports it instead of ETIMEDOUT).
void Engine::icmp_soft(Tcb& t, int err) {
    counters_.inc(Mib::icmp_soft_errors);
    t.soft_error = static_cast<std::uint8_t>(err);
    if (t.state != State::syn_sent && t.state != State::syn_received) post(index_of(t), EventKind::soft_error);
}

void Engine::icmp_hard(Tcb& t) {
    counters_.inc(Mib::icmp_hard_aborts);
    counters_.inc(Mib::attempt_fails);
    if (t.state == State::syn_received && t.passive) {
        // Nobody has the socket yet: it goes, as a timed-out SYN-RECEIVED does.
        set_state(t, State::closed);
        release(t);
        return;
    }
    finish(t, EventKind::reset, ECONNREFUSED);
}

// RFC 1191 §3/§6.1: lower the MSS to the next hop's MTU (never below 576),
// remember it for the destination, and resend what the big segments carried
// at once: their loss is not congestion, so cwnd stays (RFC 1191 §6.5).
void Engine::icmp_frag_needed(Tcb& t, const IcmpError& e, Instant now) {
    std::uint16_t mtu = e.next_hop_mtu != 0 ? e.next_hop_mtu : plateau_below(e.quoted_total_len);
    if (mtu < kMinPathMtu) {
        counters_.inc(Mib::pmtu_clamped);
        mtu = kMinPathMtu;
    }
    const std::uint32_t options = t.ts_ok ? 12u : 0u;
    const std::uint32_t mss = mtu - 40u - options;
    // RFC 4821 §4: an ICMP error about a probe bounds the search; the MSS
    // in use is not its business.
    if (t.mtu_probe_out && mtu < e.quoted_total_len && plpmtud_probe_too_big(t, mtu, now)) {
        pmtu_.update(t.tuple.remote_ip, mtu, tick(now));
        return;
    }
    if (mss >= t.snd_mss || mtu >= e.quoted_total_len) {
        counters_.drop(Drop::icmp_mtu_not_lower);
        return;
    }
    pmtu_.update(t.tuple.remote_ip, mtu, tick(now));
    counters_.inc(Mib::pmtu_lowered);
    t.snd_mss = static_cast<std::uint16_t>(mss);
    plpmtud_clamp(t, mtu, false);
    if (is_synchronized(t.state) && t.snd_max != t.snd_una) resend_at_new_mss(t, now);
}

void Engine::resend_at_new_mss(Tcb& t, Instant now) {
    t.snd_nxt = t.snd_una;
    t.rtt_timing = false;  // Karn: the resent bytes give no sample
    if (LossState* ls = loss_state(t, false)) {
        // The send log describes segments of the old size: start it again.
        ls->sacked.clear();
        log_forget(*ls);
        ls->in_recovery = false;
        release_loss_if_idle(t);
    }
    output_data(t, now);
    arm_rtx(t, now);
}

std::uint16_t Engine::path_mtu(wire::Ipv4Addr dst) const { return pmtu_.lookup(dst, tick(now_)); }

// The MSS a new connection to `dst` may use at most: a learned path MTU's
// and EngineConfig::send_mtu's (no limit without either).
std::uint16_t Engine::path_mss_limit(wire::Ipv4Addr dst) const {
    std::uint16_t mtu = path_mtu(dst);
    if (config_.send_mtu != 0 && (mtu == 0 || config_.send_mtu < mtu)) mtu = config_.send_mtu;
    return mtu == 0 ? UINT16_MAX : static_cast<std::uint16_t>(mtu - 40);
}

}  // namespace tcpfp::tcp
