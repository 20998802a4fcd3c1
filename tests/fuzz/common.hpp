// Shared pieces of the fuzz targets: a byte reader that never fails (it
// returns zeros once the input is used up), a check macro that aborts so
// libFuzzer records the input, and the engine invariants every target
// asserts.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <span>
#include <string_view>

#include "tcp/engine/engine.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size);

namespace tcpfp::fuzz {
// Defined by every target: a digest of what the last LLVMFuzzerTestOneInput
// call did (0 for a target that keeps nothing between inputs). The engine
// targets reuse their engines from one input to the next, and libFuzzer
// needs an input to behave the same every time: replay_main.cpp runs each
// input twice and compares.
std::uint64_t last_input_digest();

// [engine] chunk_size for an input: kChunkSizes[choice % 4], raised to the
// smallest power of two that a full-sized segment at `mtu` fits (mtu - 40
// <= 7 x chunk_size, Engine::check_chunk_limits). Index 0 is the default,
// so inputs written before the choice existed keep their meaning.
inline constexpr std::uint32_t kChunkSizes[] = {2048, 256, 512, 1024};
inline std::uint32_t chunk_size_for(unsigned choice, std::uint32_t mtu) {
    std::uint32_t cs = kChunkSizes[choice % 4];
    const std::uint32_t pieces = static_cast<std::uint32_t>(tcp::PayloadParts::kMax - 1);
    while (mtu > 40 && mtu - 40 > pieces * cs) cs *= 2;
    return cs;
}
// Index of a chunk size from chunk_size_for() (256 .. 16384): one reused
// FuzzNet per size, since Engine::reset() keeps the pool's geometry.
inline std::size_t chunk_size_slot(std::uint32_t cs) {
    std::size_t slot = 0;
    for (std::uint32_t s = 256; s < cs; s *= 2) ++slot;
    return slot;
}
inline constexpr std::size_t kChunkSizeSlots = 7;  // 256 .. 16384
}  // namespace tcpfp::fuzz

namespace tcpfp::fuzz {

[[noreturn]] inline void fail(const char* file, int line, const char* cond, const char* what) {
    std::fprintf(stderr, "\nFUZZ CHECK FAILED at %s:%d: %s\n  %s\n", file, line, cond, what);
    std::fflush(stderr);
    std::abort();
}

}  // namespace tcpfp::fuzz

// FUZZ_CHECK(cond, "printf format", args...): the message is printed only on failure.
#define FUZZ_CHECK(cond, ...)                                                        \
    do {                                                                             \
        if (!(cond)) {                                                               \
            char fuzz_msg_[512];                                                     \
            std::snprintf(fuzz_msg_, sizeof fuzz_msg_, __VA_ARGS__);                 \
            ::tcpfp::fuzz::fail(__FILE__, __LINE__, #cond, fuzz_msg_);               \
        }                                                                            \
    } while (0)

namespace tcpfp::fuzz {

class ByteReader {
public:
    ByteReader(const std::uint8_t* data, std::size_t size) : data_(data), size_(size) {}

    bool empty() const { return pos_ >= size_; }
    std::size_t remaining() const { return empty() ? 0 : size_ - pos_; }

    std::uint8_t u8() { return empty() ? 0 : data_[pos_++]; }
    std::uint16_t u16() {
        const auto hi = u8();
        return static_cast<std::uint16_t>((hi << 8) | u8());
    }
    std::uint32_t u32() {
        const std::uint32_t hi = u16();
        return (hi << 16) | u16();
    }
    bool boolean() { return (u8() & 1u) != 0; }
    // A value in [0, n), n > 0.
    std::uint32_t below(std::uint32_t n) { return n <= 256 ? u8() % n : u32() % n; }
    // Up to n bytes (fewer at the end of the input).
    std::span<const std::uint8_t> bytes(std::size_t n) {
        const std::size_t k = n < remaining() ? n : remaining();
        std::span<const std::uint8_t> out(data_ + pos_, k);
        pos_ += k;
        return out;
    }

private:
    const std::uint8_t* data_;
    std::size_t size_;
    std::size_t pos_ = 0;
};

// Structural invariants of one engine, checked after every action.
inline void check_invariants(const tcp::Engine& e, const char* who) {
    using tcp::State;
    std::array<std::uint64_t, tcp::kStateCount> counted{};
    std::size_t conns = 0;
    const std::uint32_t bufsize = e.config().buffer_size;
    e.for_each_connection([&](tcp::ConnId id, const tcp::Tcb& t) {
        ++conns;
        ++counted[static_cast<std::size_t>(t.state)];
        FUZZ_CHECK(t.snd_una <= t.snd_nxt && t.snd_nxt <= t.snd_max,
                   "%s conn %u/%u state %s: snd_una %u snd_nxt %u snd_max %u", who, id.index,
                   id.generation, tcp::to_string(t.state), t.snd_una.raw(), t.snd_nxt.raw(),
                   t.snd_max.raw());
        FUZZ_CHECK(t.rcv_buf.len <= bufsize, "%s conn %u state %s: rcv_buf.len %u > buffer %u", who,
                   id.index, tcp::to_string(t.state), t.rcv_buf.len, bufsize);
        FUZZ_CHECK(t.snd_buf.len <= bufsize, "%s conn %u state %s: snd_buf.len %u > buffer %u", who,
                   id.index, tcp::to_string(t.state), t.snd_buf.len, bufsize);
    });
    FUZZ_CHECK(conns == e.connection_count(), "%s: %zu control blocks walked, count says %zu", who,
               conns, e.connection_count());
    counted[static_cast<std::size_t>(State::time_wait)] += e.time_wait_count();
    std::uint64_t sum = 0;
    for (std::size_t s = 0; s < tcp::kStateCount; ++s) {
        sum += e.counters().by_state[s];
        FUZZ_CHECK(counted[s] == e.counters().by_state[s],
                   "%s: by_state[%s] = %llu but %llu found", who,
                   tcp::to_string(static_cast<State>(s)),
                   static_cast<unsigned long long>(e.counters().by_state[s]),
                   static_cast<unsigned long long>(counted[s]));
    }
    FUZZ_CHECK(sum == e.connection_count() + e.time_wait_count(),
               "%s: by_state sums to %llu, connections %zu + time-wait %zu", who,
               static_cast<unsigned long long>(sum), e.connection_count(), e.time_wait_count());
    FUZZ_CHECK(e.armed_timers() <= e.connection_count() + e.time_wait_count(),
               "%s: %zu timers armed for %zu connections and %zu time-wait records", who,
               e.armed_timers(), e.connection_count(), e.time_wait_count());
    // Buffer memory follows the bytes queued: every chunk in use belongs to
    // a connection, a send buffer holds just the chunks its bytes occupy,
    // and so does a receive buffer unless it holds out-of-order data.
    const tcp::ChunkPool& pool = e.buffer_pool();
    std::uint64_t chunks = 0;
    std::uint32_t orphans = 0;
    e.for_each_connection([&](tcp::ConnId id, const tcp::Tcb& t) {
        orphans += t.orphan ? 1 : 0;
        chunks += t.snd_buf.chunks(pool) + t.rcv_buf.chunks(pool);
        FUZZ_CHECK(t.snd_buf.chunks(pool) == t.snd_buf.chunks_for_len(pool),
                   "%s conn %u: send buffer of %u bytes holds %u chunks", who, id.index, t.snd_buf.len,
                   t.snd_buf.chunks(pool));
        FUZZ_CHECK(t.loss != tcp::kNoIndex || t.rcv_buf.chunks(pool) == t.rcv_buf.chunks_for_len(pool),
                   "%s conn %u: receive buffer of %u bytes holds %u chunks", who, id.index,
                   t.rcv_buf.len, t.rcv_buf.chunks(pool));
    });
    FUZZ_CHECK(orphans == e.orphan_count(), "%s: %u orphans counted, %u control blocks orphaned", who,
               e.orphan_count(), orphans);
    FUZZ_CHECK(chunks == e.buffers_in_use(), "%s: %u chunks in use, %llu held by connections", who,
               e.buffers_in_use(), static_cast<unsigned long long>(chunks));
    FUZZ_CHECK(e.loss_states_in_use() <= e.connection_count(),
               "%s: %zu loss states for %zu connections", who, e.loss_states_in_use(),
               e.connection_count());
}

// Nothing left once every socket is closed and every timeout has passed.
inline void check_drained(const tcp::Engine& e, const char* who) {
    std::string_view first_state = "-";
    e.for_each_connection([&](tcp::ConnId, const tcp::Tcb& t) {
        if (first_state == "-") first_state = tcp::to_string(t.state);
    });
    FUZZ_CHECK(e.connection_count() == 0, "%s: %zu connections left (first in %s)", who,
               e.connection_count(), first_state.data());
    FUZZ_CHECK(e.time_wait_count() == 0, "%s: %zu time-wait records left", who,
               e.time_wait_count());
    FUZZ_CHECK(e.armed_timers() == 0, "%s: %zu timers armed", who, e.armed_timers());
    FUZZ_CHECK(e.buffers_in_use() == 0, "%s: %u buffers in use", who, e.buffers_in_use());
    FUZZ_CHECK(e.loss_states_in_use() == 0, "%s: %zu loss states in use", who,
               e.loss_states_in_use());
}

}  // namespace tcpfp::fuzz
