// TCP options (RFC 9293 §3.2, RFC 7323, RFC 2018): a checked reader over the
// raw option bytes, a decoded struct for the engine, and a writer.
#pragma once

#include <array>
#include <cstdint>
#include <span>

#include "tcp/wire/errors.hpp"
#include "tcp/wire/seq.hpp"

namespace tcpfp::wire {

inline constexpr std::size_t kMaxTcpOptionsLen = 40;  // (15 - 5) * 4
inline constexpr std::size_t kMaxSackBlocks = 4;      // RFC 2018 §3: 4 fit in 40 bytes

namespace tcp_opt {
inline constexpr std::uint8_t eol = 0;
inline constexpr std::uint8_t nop = 1;
inline constexpr std::uint8_t mss = 2;             // length 4
inline constexpr std::uint8_t wscale = 3;          // length 3, RFC 7323 §2
inline constexpr std::uint8_t sack_permitted = 4;  // length 2, RFC 2018 §2
inline constexpr std::uint8_t sack = 5;            // length 2 + 8n, RFC 2018 §3
inline constexpr std::uint8_t timestamps = 8;      // length 10, RFC 7323 §3
}  // namespace tcp_opt

struct SackBlock {
    SeqNum left;
    SeqNum right;
    friend constexpr bool operator==(SackBlock, SackBlock) = default;
};

// One option as it appears on the wire. `body` excludes kind and length.
struct RawOption {
    std::uint8_t kind = tcp_opt::eol;
    std::span<const std::uint8_t> body;
};

// Walks option bytes one option at a time. EOL and NOP are reported (EOL
// once, then done()); unknown kinds are skipped by their length (RFC 9293
// §3.1, MUST-6/MUST-7: be prepared to handle any option and a missing EOL).
// A malformed option yields an error and stops the walk. It never reads
// past the given span.
class TcpOptionReader {
public:
    explicit TcpOptionReader(std::span<const std::uint8_t> bytes) : bytes_(bytes) {}
    bool done() const { return pos_ >= bytes_.size(); }
    Result<RawOption> next();

private:
    std::span<const std::uint8_t> bytes_;
    std::size_t pos_ = 0;
};

// The options the engine understands, decoded. A repeated option keeps its
// last occurrence.
struct TcpOptions {
    bool has_mss = false;
    bool has_wscale = false;
    bool sack_permitted = false;
    bool has_timestamps = false;
    std::uint8_t wscale = 0;  // as received; RFC 7323 §2.3 clamping is the engine's
    std::uint8_t sack_count = 0;
    std::uint16_t mss = 0;
    std::uint32_t ts_val = 0;
    std::uint32_t ts_ecr = 0;
    std::array<SackBlock, kMaxSackBlocks> sack{};

    std::span<const SackBlock> sack_blocks() const { return {sack.data(), sack_count}; }
    friend bool operator==(const TcpOptions&, const TcpOptions&) = default;
};

Result<TcpOptions> parse_tcp_options(std::span<const std::uint8_t> bytes);
// The same, decoded into `out`, which must be freshly constructed: the
// receive path decodes into the segment it builds, where a returned copy
// (60 bytes, stored and reloaded at other widths) stalled store forwarding.
WireError parse_tcp_options_into(std::span<const std::uint8_t> bytes, TcpOptions& out);

// Options as write_tcp_options() lays them out, as the 32-bit
// words they fill (every layout there is whole words), each word's value
// as read big-endian: MSS is 0x0204'05b4. emit_tcp() stores and sums them
// from registers. The byte writer's narrow stores, read back wide to copy
// and checksum them, stalled store forwarding on every segment (session 21).
struct TcpOptionWords {
    std::array<std::uint32_t, kMaxTcpOptionsLen / 4> w;  // the first n are set
    std::uint8_t n = 0;

    std::size_t size() const { return std::size_t{n} * 4; }
};

// Appends options to a 40-byte buffer; finish() pads with zero (EOL) bytes
// to a multiple of four. Overflowing the option space is reported by finish.
class TcpOptionWriter {
public:
    TcpOptionWriter& nop();
    TcpOptionWriter& eol();
    TcpOptionWriter& mss(std::uint16_t value);
    TcpOptionWriter& wscale(std::uint8_t shift);
    TcpOptionWriter& sack_permitted();
    TcpOptionWriter& timestamps(std::uint32_t ts_val, std::uint32_t ts_ecr);
    TcpOptionWriter& sack(std::span<const SackBlock> blocks);
    // Options already laid out as words (write_tcp_option_words).
    TcpOptionWriter& words(const TcpOptionWords& words);
    // Arbitrary kind and body, for tests and the script runner.
    TcpOptionWriter& raw(std::uint8_t kind, std::span<const std::uint8_t> body);

    Result<std::span<const std::uint8_t>> finish();

private:
    bool reserve(std::size_t n);
    std::array<std::uint8_t, kMaxTcpOptionsLen> buf_{};
    std::size_t len_ = 0;
    bool overflow_ = false;
};

// The layout below as words; tcp_opt_no_space when it does not fit in 40
// bytes or counts more SACK blocks than exist. `out` must be fresh (n == 0).
WireError write_tcp_option_words(const TcpOptions& options, bool syn, TcpOptionWords& out);

// The layout widely deployed stacks (Linux) use, so captures look familiar:
//   SYN:     mss, sackOK, TS (or nop,nop,TS / nop,nop,sackOK), nop, wscale
//   non-SYN: nop, nop, TS; then nop, nop, sack blocks
// MSS, window scale and SACK-permitted are written only when `syn` is true
// (RFC 9293 §3.2 MSS only in SYN; RFC 7323 §2.2; RFC 2018 §2).
Result<std::span<const std::uint8_t>> write_tcp_options(const TcpOptions& options, bool syn,
                                                        TcpOptionWriter& writer);

}  // namespace tcpfp::wire
