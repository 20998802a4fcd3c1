// Segments as the engine sees them: an arriving segment, parsed and
// validated, and an outgoing one, described for the caller to serialise.
#pragma once

#include <cstdint>
#include <span>

#include "tcp/base/four_tuple.hpp"
#include "tcp/wire/ipv4.hpp"
#include "tcp/wire/seq.hpp"
#include "tcp/wire/tcp.hpp"
#include "tcp/wire/tcp_options.hpp"

namespace tcpfp::tcp {

struct InSegment {
    FourTuple tuple;  // local = destination of the segment
    wire::SeqNum seq;
    wire::SeqNum ack;
    std::uint8_t flags = 0;
    std::uint16_t window = 0;  // unscaled, as on the wire
    std::uint16_t urgent_ptr = 0;
    std::uint8_t ecn = 0;  // the IPv4 header's ECN field (RFC 3168 §5): wire::ecn::ce marks congestion
    wire::TcpOptions options;
    std::span<const std::uint8_t> payload;

    bool has(std::uint8_t f) const { return (flags & f) != 0; }
    // SEG.LEN: payload plus one for each of SYN and FIN (RFC 9293 §3.4).
    std::uint32_t seg_len() const {
        return static_cast<std::uint32_t>(payload.size()) + (has(wire::tcp_flag::syn) ? 1u : 0u) +
               (has(wire::tcp_flag::fin) ? 1u : 0u);
    }
};

// A segment's payload as contiguous pieces, in order: one per send-buffer
// chunk it crosses (buffer.hpp). A payload of at most 7 chunks' bytes fits
// whatever its alignment, which the engine's configuration guarantees
// (mtu - 40 <= 7 x chunk_size).
struct PayloadParts {
    static constexpr std::size_t kMax = 8;
    std::span<const std::uint8_t> part[kMax];
    std::uint8_t count = 0;
    std::uint32_t bytes = 0;

    PayloadParts() = default;
    // One piece (tests and hand-built segments).
    PayloadParts(std::span<const std::uint8_t> data) { *this = data; }  // NOLINT: implicit on purpose
    PayloadParts& operator=(std::span<const std::uint8_t> data) {
        count = data.empty() ? 0 : 1;
        part[0] = data;
        bytes = static_cast<std::uint32_t>(data.size());
        return *this;
    }
    std::span<const std::span<const std::uint8_t>> parts() const { return {part, count}; }
    std::size_t size() const { return bytes; }
    bool empty() const { return bytes == 0; }
    // Copies the bytes to `out` (at least size() bytes).
    void copy_to(std::uint8_t* out) const;
    // The same, returning the bytes' running checksum sum as it goes
    // (wire::checksum::accumulate over the whole, pieces of any length).
    std::uint64_t copy_and_sum_to(std::uint8_t* out) const;
};

// One segment for the caller to put on the wire (from tuple.local_ip to
// tuple.remote_ip). The payload points into the connection's send buffer,
// in as many pieces as the chunks it spans; it stays valid until the next
// call into the engine.
// Engine::push_segment() sets every field but payload.part (the pieces
// payload.count says are in use): a field added here is set there too.
struct OutSegment {
    FourTuple tuple;
    wire::SeqNum seq;
    wire::SeqNum ack;
    std::uint8_t flags = 0;
    std::uint16_t window = 0;
    std::uint16_t urgent_ptr = 0;
    std::uint8_t ttl = 64;  // the IPv4 header's: the connection's IP_TTL
    std::uint8_t tos = 0;   // and IP_TOS, with ECT(0) on new data of an ECN connection (RFC 3168 §6.1.2)
    wire::TcpOptions options;
    PayloadParts payload;

    std::size_t payload_len() const { return payload.size(); }
    bool has(std::uint8_t f) const { return (flags & f) != 0; }
};

// Writes the segment as an IPv4 packet (20-byte header + TCP) into `out`;
// returns the packet length. `ip_id` fills the IPv4 identification field.
wire::Result<std::size_t> serialize(const OutSegment& seg, std::span<std::uint8_t> out,
                                    std::uint16_t ip_id = 0,
                                    wire::ChecksumMode mode = wire::ChecksumMode::full);

// TCP segmentation offload (DPDK's RTE_MBUF_F_TX_TCP_SEG, Linux's GSO):
// the port cuts one super-segment into segments of `tso_segsz` payload
// bytes, each with the first one's header but its own SEQ (and IPv4 length
// and ID), PSH and FIN on the last only. The engine still makes one
// OutSegment per segment (one RACK record, one SACK unit each); the caller
// hands runs of them that such a cut reproduces to the port as one frame.
struct TsoLimits {
    // Payload per super-segment: the IPv4 total length field, less the
    // largest IPv4 + TCP header (as Linux's GSO_MAX_SIZE of 64 KiB).
    std::uint32_t max_bytes = 0xffff - 20 - 60;
    std::uint32_t max_segments = 64;  // net_tap's GSO makes at most 64
    // The smallest cut size: NICs refuse a tso_segsz under their floor
    // (256 for i40e, iavf and hns3 in DPDK 22.11, I40E_MIN_TSO_MSS and
    // alike). A refused super-segment is not sent, and a PMD may leave the
    // rest of its burst behind it.
    std::uint32_t min_cut = 256;
    // Only an even cut size: net_tap checksums each piece in software, one
    // mbuf's bytes at a time as if each began at an even offset, so a piece
    // that crosses mbufs at an odd offset gets a wrong checksum (DPDK 22.11
    // drivers/net/tap, tap_tx_l4_add_rcksum). Path MTU probes and odd MSSes
    // make odd cuts.
    bool even_cut = false;
};

// How many segments of `out`, from the first, make one super-segment (1 when
// the first cannot lead one). They must follow each other in sequence on
// one connection with identical headers but SEQ, PSH and a FIN on the last;
// every one but the last carries as much payload as the first (the cut
// size) and the last no more; none carries SYN, RST, URG or CWR (RFC 3168
// §6.1.2: CWR goes on one segment, and a port may copy it to every piece).
// An interior PSH is folded into the last segment's, as the port would:
// PSH only asks the receiver to deliver what came before (RFC 9293 §3.9.1).
std::size_t tso_run(std::span<const OutSegment> out, const TsoLimits& limits);

// The super-segment header's flags for a run tso_run() found: the first
// segment's, PSH if any segment had it, and the last one's FIN.
std::uint8_t tso_flags(std::span<const OutSegment> run);

// The IPv4 and TCP headers of a super-segment led by `first` and carrying
// `payload_len` bytes with `flags`: IPv4 total length for the whole, both
// checksums left to the port (ChecksumMode::segmentation). Returns the
// header length; the payload goes right behind it.
wire::Result<std::size_t> serialize_tso_header(const OutSegment& first, std::uint8_t flags,
                                               std::uint32_t payload_len, std::span<std::uint8_t> out,
                                               std::uint16_t ip_id);

}  // namespace tcpfp::tcp
