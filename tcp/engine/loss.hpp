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

struct LossState {
    // Receiver: out-of-order ranges held in the receive ring beyond its
    // readable length (RFC 9293 §3.10.7.4 "segments ... held for later").
    RangeSet ooo;
    SackBlock recent{};        // the block that holds the latest arrival (RFC 2018 §4)
    bool ooo_fin = false;      // a FIN arrived beyond a hole
    SeqNum ooo_fin_seq;
    // Sender: what the peer has SACKed above SND.UNA (RFC 6675 scoreboard).
    RangeSet sacked;
    bool in_recovery = false;  // RFC 6582 / RFC 6675 fast recovery
    bool recover_valid = false;
    SeqNum recover;            // RFC 6582 "recover": SND.MAX when recovery began
    SeqNum high_rxt;           // RFC 6675 HighRxt: highest retransmitted
};

}  // namespace tcpfp::tcp
