// Packetization-layer path MTU discovery, RFC 4821 §7 for TCP, as Linux's
// net.ipv4.tcp_mtu_probing does it ([engine] mtu_probing):
// - A black hole (§7.7, full-stop timeout): at R1 consecutive timeouts of a
//   segment larger than the base size, the MSS drops to the base MTU (1024,
//   §7.2), then to 576; the search below starts from there.
// - The search (§7.3-7.6): a probe is one new-data segment of the size to
//   try, sent only with data behind it (§7.4) so that its loss shows as a
//   hole SACK and RACK find rather than as a timeout. The first probe of a
//   search tries the ceiling itself (a path that merely stalled is back at
//   full size after one probe); later ones halve the range.
//   - acknowledged (§7.6.1): search_low rises, the MSS with it;
//   - lost alone (§7.6.2): search_high falls below it, and its bytes are
//     resent at the current size without a congestion response, since a
//     size limit is not congestion;
//   - hidden by a timeout or other losses (§7.6.3): inconclusive, the range
//     stays and the usual recovery runs.
// - A finished search starts again after 10 minutes, from the ceiling.
// Probing needs SACK: without it a lost probe cannot be told apart from
// congestion (so `on` starts only SACK connections at the base size).
#include "tcp/engine/engine.hpp"

namespace tcpfp::tcp {

namespace {
constexpr std::uint16_t kHeaders = 40;  // IPv4 + TCP without options
}  // namespace

std::uint16_t Engine::mss_for_mtu(const Tcb& t, std::uint16_t mtu) const {
    return static_cast<std::uint16_t>(mtu - kHeaders - (t.ts_ok ? 12 : 0));
}

// The packet size full segments take now.
std::uint16_t Engine::mtu_for_mss(const Tcb& t) const {
    return static_cast<std::uint16_t>(t.snd_mss + kHeaders + (t.ts_ok ? 12 : 0));
}

// mtu_probing = on: a SACK connection starts at the base size and searches
// up to what the handshake allowed (RFC 4821 §7.2). Called once snd_mss is
// negotiated, before the initial window is sized from it.
void Engine::plpmtud_begin(Tcb& t) {
    const std::uint16_t ceiling = mtu_for_mss(t);
    if (!t.sack_ok || ceiling <= plpmtud::kBaseMtu) return;
    PlpmtudState& p = plpmtud_[index_of(t)];
    p = PlpmtudState{};
    p.max_mtu = ceiling;
    p.search_low = plpmtud::kBaseMtu;
    p.search_high = ceiling;
    t.snd_mss = mss_for_mtu(t, plpmtud::kBaseMtu);
    t.plpmtud = true;
}

// RFC 4821 §7.7 at the R1'th consecutive timeout (and each one after): if
// what is outstanding is larger than the next size down, the path may drop
// large packets without a word; the MSS steps down and the search (if SACK
// allows one) starts again above it. Returns whether the MSS fell.
bool Engine::plpmtud_black_hole(Tcb& t, Instant now) {
    // Without SACK no probe could climb back (see plpmtud_probe_payload),
    // and a path that merely loses much looks the same: a step down would
    // last for the connection's life (found by fuzz_two_engine: MSS 524 on
    // a lossy path, the transfer unfinished after 3 h). Linux differs here.
    if (!t.sack_ok) return false;
    const std::uint16_t mtu = mtu_for_mss(t);
    const std::uint16_t lower = mtu > plpmtud::kBaseMtu ? plpmtud::kBaseMtu
                                                        : std::max<std::uint16_t>(mtu / 2, plpmtud::kFloorMtu);
    if (lower >= mtu || mss_for_mtu(t, lower) < 64) return false;
    const std::uint16_t lower_mss = mss_for_mtu(t, lower);
    if (static_cast<std::uint32_t>(t.snd_max - t.snd_una) <= lower_mss) return false;  // nothing a hole could eat
    PlpmtudState& p = plpmtud_[index_of(t)];
    if (t.mtu_probe_out) plpmtud_abandon(t);
    if (!t.plpmtud) {
        p = PlpmtudState{};
        p.max_mtu = mtu;
        p.search_high = mtu;
        t.plpmtud = true;
    }
    p.search_low = lower;
    p.top_tried = false;
    p.reprobe_at = tick(now);
    t.snd_mss = lower_mss;
    counters_.inc(Mib::plpmtud_black_holes);
    return true;
}

// The payload of the next new-data segment: a probe's when one is due and
// the windows and the queue allow it (RFC 4821 §7.4/§7.5), else `mss`.
std::uint32_t Engine::plpmtud_probe_payload(Tcb& t, std::uint32_t mss, std::uint32_t unsent,
                                            std::uint32_t usable, Instant now) {
    // §7.4: no probes without SACK, since a lost probe could not be told
    // from a lost window.
    if (!t.sack_ok) return mss;
    PlpmtudState& p = plpmtud_[index_of(t)];
    if (p.search_high < p.search_low + plpmtud::kProbeThreshold) {
        if (tick(now) < p.reprobe_at) return mss;
        p.search_high = p.max_mtu;  // §7.7: raise the estimate now and then
        p.top_tried = false;
        if (p.search_high < p.search_low + plpmtud::kProbeThreshold) {
            p.reprobe_at = tick(now) + plpmtud::kReprobeMs;
            return mss;
        }
    }
    if (t.backoff != 0) return mss;
    if (t.loss != kNoIndex) {
        const LossState& ls = losses_.at(t.loss);
        if (ls.in_recovery || ls.lost_bytes > 0) return mss;
    }
    const std::uint16_t size = p.top_tried ? static_cast<std::uint16_t>((p.search_low + p.search_high + 1) / 2)
                                           : p.search_high;
    if (mss_for_mtu(t, size) <= t.snd_mss) return mss;
    // payload_mss() took the SACK blocks off; the probe carries them too.
    const std::uint32_t payload = mss + (mss_for_mtu(t, size) - t.snd_mss);
    // §7.4: data behind the probe, so that its loss shows as a hole.
    if (unsent < payload + 2 * mss || usable < payload + 2 * mss) return mss;
    p.probe_mtu = size;
    return payload;
}

void Engine::plpmtud_probe_sent(Tcb& t, SeqNum seq, std::uint32_t len) {
    PlpmtudState& p = plpmtud_[index_of(t)];
    p.probe_start = seq;
    p.probe_end = seq + len;
    p.top_tried = true;
    t.mtu_probe_out = true;
    counters_.inc(Mib::plpmtud_probes);
}

// §7.6.1: the probe arrived; the path carries its size.
void Engine::plpmtud_probe_acked(Tcb& t, SeqNum ack, Instant now) {
    PlpmtudState& p = plpmtud_[index_of(t)];
    if (ack < p.probe_end) return;
    t.mtu_probe_out = false;
    counters_.inc(Mib::plpmtud_probes_acked);
    p.search_low = p.probe_mtu;
    t.snd_mss = mss_for_mtu(t, p.probe_mtu);
    if (p.search_high < p.search_low + plpmtud::kProbeThreshold) p.reprobe_at = tick(now) + plpmtud::kReprobeMs;
}

// RACK found losses outside recovery while a probe is out. If the probe is
// the only loss and the oldest data (§7.6.2), its size does not pass: the
// ceiling falls, and returning true tells the caller to resend it without
// a congestion response. Otherwise the losses are congestion and the probe
// tells nothing (§7.6.3).
bool Engine::plpmtud_probe_lost(Tcb& t, const LossState& ls, Instant now) {
    PlpmtudState& p = plpmtud_[index_of(t)];
    const SendLog& g = ls.log;
    const bool alone = g.n > 0 && t.snd_una == p.probe_start && g.left(0) == p.probe_start &&
                       g.right(0) == p.probe_end && (g.flags[g.slot(0)] & SendLog::kLost) != 0 &&
                       ls.lost_bytes == static_cast<std::uint32_t>(p.probe_end - p.probe_start);
    if (!alone) {
        plpmtud_abandon(t);
        return false;
    }
    t.mtu_probe_out = false;
    counters_.inc(Mib::plpmtud_probes_lost);
    p.search_high = static_cast<std::uint16_t>(p.probe_mtu - 1);
    if (p.search_high < p.search_low + plpmtud::kProbeThreshold) p.reprobe_at = tick(now) + plpmtud::kReprobeMs;
    return true;
}

// A fragmentation-needed error for a probe larger than the MSS in use (RFC
// 4821 §4: ICMP may narrow the search): the probe failed, the ceiling is
// the next hop's MTU, and the probe's bytes go again at the size in use
// at once. Returns false when the error is not about the probe's size.
bool Engine::plpmtud_probe_too_big(Tcb& t, std::uint16_t mtu, Instant now) {
    PlpmtudState& p = plpmtud_[index_of(t)];
    if (mss_for_mtu(t, mtu) < t.snd_mss || mtu >= p.probe_mtu) return false;
    t.mtu_probe_out = false;
    counters_.inc(Mib::plpmtud_probes_lost);
    p.search_high = mtu;
    if (p.search_high < p.search_low + plpmtud::kProbeThreshold) p.reprobe_at = tick(now) + plpmtud::kReprobeMs;
    if (t.snd_una <= p.probe_start) retransmit_range(t, p.probe_start, p.probe_end, false, now);
    return true;
}

// §7.6.3: a timeout or a congestion loss hid the probe's fate; the range
// stays and a later probe tries the same size.
void Engine::plpmtud_abandon(Tcb& t) {
    t.mtu_probe_out = false;
    counters_.inc(Mib::plpmtud_probes_inconclusive);
}

// A lower limit learned elsewhere (an ICMP fragmentation-needed, RFC 1191;
// or TCP_MAXSEG, `lasting`): the search stays below it.
void Engine::plpmtud_clamp(Tcb& t, std::uint16_t mtu, bool lasting) {
    if (!t.plpmtud) return;
    PlpmtudState& p = plpmtud_[index_of(t)];
    if (t.mtu_probe_out) plpmtud_abandon(t);
    p.search_high = std::min(p.search_high, mtu);
    p.search_low = std::min(p.search_low, mtu);
    if (lasting) p.max_mtu = std::min(p.max_mtu, mtu);
    // RFC 1191 §6.3: a learned limit holds for 10 minutes before a search
    // tries above it again.
    if (p.search_high < p.search_low + plpmtud::kProbeThreshold) p.reprobe_at = tick(now_) + plpmtud::kReprobeMs;
}

}  // namespace tcpfp::tcp
