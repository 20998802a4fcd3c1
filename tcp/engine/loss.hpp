// Per-connection loss-recovery state, taken from a pool only while a
// connection has out-of-order data or a SACK scoreboard (most never do), so
// the control block stays small.
#pragma once

#include <array>
#include <cstdint>

#include "tcp/wire/seq.hpp"
#include "tcp/wire/tcp_options.hpp"

namespace tcpfp::tcp {

using wire::SackBlock;
using wire::SeqNum;

// A small sorted set of disjoint [left, right) sequence ranges.
struct RangeSet {
    static constexpr std::size_t kMax = 8;
    std::array<SackBlock, kMax> r{};
    std::uint8_t n = 0;

    bool empty() const { return n == 0; }
    // Adds [left, right), merging neighbours. False when a new range does
    // not fit (the set is unchanged then).
    bool add(SeqNum left, SeqNum right);
    // Drops everything below `seq` (cumulatively acknowledged).
    void trim_below(SeqNum seq);
    bool contains(SeqNum seq) const;
    std::uint32_t bytes() const;
    void clear() { n = 0; }
};

// Sender: what was sent and when, one record per segment from SND.UNA to
// SND.MAX, in sequence order (RFC 8985 §5.2 "per-segment" state: the
// transmit time, whether it was retransmitted, SACKed or deemed lost).
// Fixed capacity; when full, two neighbours with the same flags merge and
// keep the later time (RACK then waits longer, never shorter, for them).
struct SendLog {
    static constexpr std::uint16_t kMax = 128;
    static constexpr std::uint8_t kSacked = 1;   // selectively acknowledged
    static constexpr std::uint8_t kLost = 2;     // deemed lost, not resent since
    static constexpr std::uint8_t kRetrans = 4;  // resent at least once
    static constexpr std::uint8_t kFin = 8;      // the record ends with our FIN

    // Right edges, written before they are read (records [0, n) only).
    // Slots that start no object: SeqNum's own constructor would zero all
    // 512 bytes each time a connection takes a LossState (a loop of stores
    // that was a third of Engine::loss_state in the lifecycle benchmark).
    struct Edges {
        union Slot {
            SeqNum seq;
            Slot() noexcept {}  // left uninitialised on purpose
        };
        std::array<Slot, kMax> slot;
        SeqNum& operator[](std::size_t i) { return slot[i].seq; }
        const SeqNum& operator[](std::size_t i) const { return slot[i].seq; }
    };

    // The header first: every use reads it, and LossState puts it on the
    // cache line of its own hot fields.
    SeqNum start;            // left edge of the first record (= SND.UNA)
    std::uint16_t head = 0;  // index of the first record
    std::uint16_t n = 0;     // records in use
    Edges end;                           // right edge of each record
    std::array<std::uint32_t, kMax> xmit_us;  // last transmit time (us, mod 2^32)
    std::array<std::uint8_t, kMax> flags;

    std::uint16_t slot(std::uint16_t i) const {
        return static_cast<std::uint16_t>((head + i) % kMax);
    }
    SeqNum left(std::uint16_t i) const { return i == 0 ? start : end[slot(static_cast<std::uint16_t>(i - 1))]; }
    SeqNum right(std::uint16_t i) const { return end[slot(i)]; }
    SeqNum stop() const { return n == 0 ? start : end[slot(static_cast<std::uint16_t>(n - 1))]; }
    // The first record whose right edge lies beyond `s` (the one holding s
    // when start <= s < stop()), or n: a binary search, since the right
    // edges rise with the index.
    std::uint16_t first_after(SeqNum s) const {
        std::uint16_t lo = 0;
        std::uint16_t hi = n;
        while (lo < hi) {
            const auto mid = static_cast<std::uint16_t>((lo + hi) / 2);
            if (s < right(mid)) {
                hi = mid;
            } else {
                lo = static_cast<std::uint16_t>(mid + 1);
            }
        }
        return lo;
    }
};

// Which deadline LossState::timer_at is (RFC 8985 §6.3 and §7.2).
enum class LossTimer : std::uint8_t { none, reorder, probe };

struct LossState {
    // The send log is large and needs no zeroing: a user-provided
    // constructor keeps value-initialisation from clearing it.
    LossState() noexcept {}

    // The order is for the cache: a sender's every ACK reads the scalars
    // below and the send log's header, which follow each other on the first
    // lines; the receiver's out-of-order ranges and the SACK-less
    // scoreboard, rarely used, come last. (With the ranges first, an ACK
    // touched two lines more: a tenth of on_data_acked's samples in the
    // pair client's CPS profile sat on the first of them, session 21.)
    bool in_recovery = false;  // RFC 6582 / RFC 6675 fast recovery
    bool recover_valid = false;
    SeqNum recover;            // RFC 6582 "recover": SND.MAX when recovery began
    SeqNum high_rxt;           // RFC 6675 HighRxt: highest retransmitted

    // --- send log and its totals (SACK connections) ---
    bool log_on = false;       // the log covers [SND.UNA, SND.MAX)
    std::uint32_t sacked_bytes = 0;  // in records flagged kSacked
    std::uint32_t lost_bytes = 0;    // in records flagged kLost
    std::uint32_t sacked_segs = 0;   // RACK.segs_sacked (RFC 8985 §6.2)
    std::uint32_t ack_delivered = 0; // bytes newly delivered by the ACK being processed
    bool ack_dsack = false;          // that ACK carried a D-SACK (RFC 2883)

    // --- RACK (RFC 8985 §6) ---
    bool rack_valid = false;     // RACK.xmit_ts/end_seq hold a delivered segment
    bool rack_advanced = false;  // a newer delivery since the last detection
    bool reord = false;          // RACK.reord: reordering seen
    std::uint8_t reo_wnd_mult = 1;     // RACK.reo_wnd_mult (DSACK-adapted)
    std::uint8_t reo_wnd_persist = 0;  // recoveries left before the multiplier resets
    std::uint32_t rack_xmit_us = 0;    // RACK.xmit_ts
    SeqNum rack_end;                   // RACK.end_seq
    std::uint32_t rack_rtt_us = 0;     // RACK.rtt
    std::uint32_t min_rtt_us = 0;      // RACK.min_RTT (0: none yet)
    std::uint32_t last_xmit_us = 0;    // the latest transmit time given out
    SeqNum fack;                       // RACK.fack: highest delivered end
    SeqNum dsack_round;                // SND.MAX when reo_wnd_mult last grew

    // --- TLP (RFC 8985 §7) ---
    bool tlp_active = false;     // TLP.end_seq is set (one probe per episode)
    bool tlp_is_retrans = false; // TLP.is_retrans
    SeqNum tlp_end;              // TLP.end_seq

    // --- PRR (RFC 6937) ---
    std::uint32_t prr_delivered = 0;
    std::uint32_t prr_out = 0;
    std::uint32_t recover_fs = 0;  // RecoverFS
    std::uint32_t reno_dupacks = 0;  // non-SACK: duplicate ACKs in this recovery (segments)

    // --- the RACK reorder timer or the TLP probe timer ---
    LossTimer timer = LossTimer::none;
    std::uint64_t timer_at = UINT64_MAX;  // ms tick

    SendLog log;

    // Receiver: out-of-order ranges held in the receive ring beyond its
    // readable length (RFC 9293 §3.10.7.4 "segments ... held for later").
    RangeSet ooo;
    SackBlock recent{};        // the block that holds the latest arrival (RFC 2018 §4)
    bool ooo_fin = false;      // a FIN arrived beyond a hole
    SeqNum ooo_fin_seq;
    // Sender without a send log (no SACK): RFC 6582 state. With a log, the
    // scoreboard is the log's flags.
    RangeSet sacked;
};

}  // namespace tcpfp::tcp
