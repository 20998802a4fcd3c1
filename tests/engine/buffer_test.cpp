// The chunked send/receive buffers (tcp/engine/buffer.hpp) on their own:
// appends and reads across every chunk boundary, partial reads and writes,
// out-of-order inserts with holes, pool exhaustion and the send reserve,
// and memory in proportion to the bytes queued; then a random walk checked
// against a plain byte model.
#include <gtest/gtest.h>

#include <algorithm>
#include <deque>
#include <memory_resource>
#include <vector>

#include "tcp/crypto/random.hpp"
#include "tcp/engine/buffer.hpp"

namespace tcpfp::tcp {
namespace {

constexpr std::uint32_t kChunk = 256;  // the smallest: boundaries everywhere

std::vector<std::uint8_t> bytes(std::size_t n, std::uint32_t seed) {
    std::vector<std::uint8_t> v(n);
    for (std::size_t i = 0; i < n; ++i) v[i] = static_cast<std::uint8_t>(seed * 131 + i * 7 + i / 253);
    return v;
}

std::vector<std::uint8_t> read(ChunkPool& pool, const ChunkChain& c, std::uint32_t offset, std::uint32_t n) {
    std::vector<std::uint8_t> out(n);
    c.peek(pool, offset, out);
    return out;
}

struct Fixture : ::testing::Test {
    ChunkPool pool{64, kChunk, std::pmr::new_delete_resource()};
    ChunkChain c;
    bool no_buffer = false;
};

TEST_F(Fixture, IdleHoldsNothingAndOneByteHoldsOneChunk) {
    EXPECT_EQ(c.chunks(pool), 0u);
    EXPECT_EQ(pool.in_use(), 0u);
    const auto one = bytes(1, 1);
    EXPECT_EQ(c.write(pool, one, 1 << 20, 0, no_buffer), 1u);
    EXPECT_EQ(c.chunks(pool), 1u);
    EXPECT_EQ(pool.in_use(), 1u);
    c.consume(pool, 1);
    EXPECT_FALSE(c.has_buffer()) << "an empty chain gives its chunk back";
    EXPECT_EQ(pool.in_use(), 0u);
}

TEST_F(Fixture, EveryBoundaryOfWriteAndConsume) {
    // For each split point around a chunk boundary: write in two parts,
    // consume in two parts, and the bytes and chunk count stay exact.
    for (std::uint32_t first = 0; first <= 2 * kChunk + 1; ++first) {
        for (std::uint32_t eaten : {0u, 1u, kChunk - 1, kChunk, kChunk + 1}) {
            SCOPED_TRACE(testing::Message() << "first " << first << " eaten " << eaten);
            const auto data = bytes(3 * kChunk + 5, first);
            ASSERT_EQ(c.write(pool, std::span(data).first(first), 1 << 20, 0, no_buffer), first);
            ASSERT_EQ(c.write(pool, std::span(data).subspan(first), 1 << 20, 0, no_buffer), data.size() - first);
            ASSERT_EQ(c.len, data.size());
            EXPECT_EQ(c.chunks(pool), c.chunks_for_len(pool));
            EXPECT_EQ(read(pool, c, 0, c.len), data);
            c.consume(pool, eaten);
            EXPECT_EQ(c.chunks(pool), c.chunks_for_len(pool)) << "emptied chunks go back at once";
            EXPECT_EQ(read(pool, c, 0, c.len), std::vector(data.begin() + eaten, data.end()));
            EXPECT_EQ(read(pool, c, 3, 10), std::vector(data.begin() + eaten + 3, data.begin() + eaten + 13));
            c.consume(pool, c.len);
            ASSERT_EQ(pool.in_use(), 0u);
        }
    }
}

TEST_F(Fixture, ViewGivesOnePiecePerChunkInOrder) {
    const auto data = bytes(5 * kChunk, 2);
    ASSERT_EQ(c.write(pool, data, 1 << 20, 0, no_buffer), data.size());
    c.consume(pool, 100);  // the first piece starts inside a chunk
    ByteSpan parts[8];
    std::uint32_t covered = 0;
    const std::size_t n = c.view(pool, 10, 3 * kChunk, parts, covered);
    ASSERT_EQ(n, 4u);
    EXPECT_EQ(covered, 3 * kChunk);
    EXPECT_EQ(parts[0].size(), kChunk - 110);
    std::vector<std::uint8_t> joined;
    for (std::size_t i = 0; i < n; ++i) joined.insert(joined.end(), parts[i].begin(), parts[i].end());
    EXPECT_EQ(joined, std::vector(data.begin() + 110, data.begin() + 110 + 3 * kChunk));
    // Fewer pieces than the bytes need: the view says how much it covers.
    ByteSpan two[2];
    EXPECT_EQ(c.view(pool, 0, c.len, two, covered), 2u);
    EXPECT_EQ(covered, 2 * kChunk - 100);
}

TEST_F(Fixture, PartialWritesStopAtTheLimit) {
    const auto data = bytes(1000, 3);
    EXPECT_EQ(c.write(pool, data, 300, 0, no_buffer), 300u);
    EXPECT_FALSE(no_buffer);
    EXPECT_EQ(c.write(pool, data, 300, 0, no_buffer), 0u);
    c.consume(pool, 299);
    EXPECT_EQ(c.write(pool, std::span(data).subspan(300), 300, 0, no_buffer), 299u);
    EXPECT_EQ(c.len, 300u);
    std::vector<std::uint8_t> want(data.begin() + 299, data.begin() + 599);
    EXPECT_EQ(read(pool, c, 0, c.len), want);
    EXPECT_EQ(c.chunks(pool), c.chunks_for_len(pool));
}

TEST_F(Fixture, OutOfOrderInsertTakesTheHoleAndFillsInPlace) {
    const auto data = bytes(4 * kChunk, 4);
    // [700, 900) first: the chunks of the hole before it are taken too.
    ASSERT_EQ(c.write_at(pool, 700, std::span(data).subspan(700, 200), 0, no_buffer), 200u);
    EXPECT_EQ(c.len, 0u);
    EXPECT_EQ(c.chunks(pool), (900 + kChunk - 1) / kChunk);
    // [300, 500), then the start, in order: readable up to 500 only.
    ASSERT_EQ(c.write_at(pool, 300, std::span(data).subspan(300, 200), 0, no_buffer), 200u);
    ASSERT_EQ(c.write(pool, std::span(data).first(300), 300, 0, no_buffer), 300u);
    c.extend(200);
    EXPECT_EQ(read(pool, c, 0, 500), std::vector(data.begin(), data.begin() + 500));
    // Reading with the held bytes kept, then the rest of the hole.
    c.consume(pool, 500, /*keep=*/true);
    EXPECT_EQ(c.len, 0u);
    EXPECT_TRUE(c.has_buffer()) << "bytes beyond len are held";
    ASSERT_EQ(c.write(pool, std::span(data).subspan(500, 200), 200, 0, no_buffer), 200u);
    c.extend(200);
    EXPECT_EQ(read(pool, c, 0, 400), std::vector(data.begin() + 500, data.begin() + 900));
    EXPECT_EQ(c.chunks(pool), c.chunks_for_len(pool));
    c.consume(pool, 400);
    EXPECT_EQ(pool.in_use(), 0u);
}

TEST_F(Fixture, TrimGivesBackWhatLiesBeyondTheReadableBytes) {
    const auto data = bytes(2000, 5);
    ASSERT_EQ(c.write(pool, std::span(data).first(100), 1 << 20, 0, no_buffer), 100u);
    ASSERT_EQ(c.write_at(pool, 1500, std::span(data).subspan(1500, 500), 0, no_buffer), 500u);
    EXPECT_EQ(c.chunks(pool), (2000 + kChunk - 1) / kChunk);
    c.trim(pool);  // the out-of-order bytes were discarded
    EXPECT_EQ(c.chunks(pool), 1u);
    EXPECT_EQ(pool.in_use(), 1u);
    EXPECT_EQ(read(pool, c, 0, 100), std::vector(data.begin(), data.begin() + 100));
    // The chain still appends after its new last chunk.
    ASSERT_EQ(c.write(pool, std::span(data).subspan(100, 900), 1 << 20, 0, no_buffer), 900u);
    EXPECT_EQ(read(pool, c, 0, 1000), std::vector(data.begin(), data.begin() + 1000));
    c.reset(pool);
    EXPECT_EQ(pool.in_use(), 0u);
}

TEST(ChunkPool, ExhaustionCutsWritesShortAndTheReserveHoldsForReceive) {
    ChunkPool pool(8, kChunk, std::pmr::new_delete_resource());
    ChunkChain snd, rcv, other;
    bool no_buffer = false;
    const auto data = bytes(4000, 6);
    // A sender leaving 2 chunks: 6 chunks' worth, then ENOBUFS-like zero.
    EXPECT_EQ(snd.write(pool, data, 1 << 20, 2, no_buffer), 6 * kChunk);
    EXPECT_TRUE(no_buffer);
    EXPECT_EQ(snd.write(pool, data, 1 << 20, 2, no_buffer), 0u);
    EXPECT_TRUE(no_buffer);
    // A receiver may take the reserve.
    EXPECT_EQ(rcv.write(pool, data, 1 << 20, 0, no_buffer), 2 * kChunk);
    EXPECT_TRUE(no_buffer);
    EXPECT_EQ(pool.free_chunks(), 0u);
    EXPECT_EQ(pool.acquire(), ChunkPool::kNone);
    // Out of order with nothing free: nothing stored, nothing taken.
    EXPECT_EQ(other.write_at(pool, 1000, std::span(data).first(10), 0, no_buffer), 0u);
    EXPECT_TRUE(no_buffer);
    EXPECT_FALSE(other.has_buffer());
    // Chunks given back are taken again, and the bytes are intact.
    snd.consume(pool, 3 * kChunk + 10);
    EXPECT_EQ(pool.free_chunks(), 3u);
    EXPECT_EQ(read(pool, snd, 0, snd.len), std::vector(data.begin() + 3 * kChunk + 10, data.begin() + 6 * kChunk));
    // A hole whose first byte's chunk cannot be had takes no chunk at all.
    EXPECT_EQ(other.write_at(pool, 3 * kChunk, std::span(data).first(10), 0, no_buffer), 0u);
    EXPECT_EQ(pool.free_chunks(), 3u);
    EXPECT_EQ(other.write_at(pool, 2 * kChunk + 5, std::span(data).first(300), 0, no_buffer), kChunk - 5);
    EXPECT_TRUE(no_buffer);
    EXPECT_EQ(pool.free_chunks(), 0u);
    for (ChunkChain* ch : {&snd, &rcv, &other}) ch->reset(pool);
    EXPECT_EQ(pool.in_use(), 0u);
}

TEST(ChunkPool, WindowAllowanceShrinksAsThePoolEmpties) {
    ChunkPool pool(256, kChunk, std::pmr::new_delete_resource());
    EXPECT_EQ(pool.window_allowance(10), (256 - pool.send_reserve()) * kChunk) << "what the pool holds";
    std::vector<std::uint32_t> taken;
    while (pool.free_chunks() >= 256 / 8) taken.push_back(pool.acquire());
    const std::uint32_t low = pool.window_allowance(10);
    EXPECT_EQ(low, (pool.free_chunks() - pool.send_reserve()) * kChunk / 10);
    EXPECT_LT(pool.window_allowance(20), low) << "a share per connection";
    while (pool.free_chunks() > pool.send_reserve()) taken.push_back(pool.acquire());
    EXPECT_EQ(pool.window_allowance(1), 0u) << "no new window at the reserve";
}

TEST(ChunkPool, ResetIsAsNewAndTakesChunksInTheSameOrder) {
    ChunkPool pool(16, kChunk, std::pmr::new_delete_resource());
    std::vector<std::uint32_t> first;
    for (int i = 0; i < 5; ++i) first.push_back(pool.acquire());
    pool.release(first[1], first[1], 1);
    pool.meta(first[1]).next = ChunkPool::kNone;
    pool.reset();
    EXPECT_EQ(pool.in_use(), 0u);
    for (int i = 0; i < 5; ++i) EXPECT_EQ(pool.acquire(), first[static_cast<std::size_t>(i)]);
}

TEST(ChunkPool, RejectsChunkSizesOutsideTheRange) {
    EXPECT_THROW(ChunkPool(4, 128, std::pmr::new_delete_resource()), std::invalid_argument);
    EXPECT_THROW(ChunkPool(4, 65537, std::pmr::new_delete_resource()), std::invalid_argument);
}

// Random appends, out-of-order inserts, reads and consumes on a few chains
// sharing a small pool, each compared with a byte model after every step:
// contents, chunk counts (exactly what the readable bytes occupy unless
// bytes are held beyond them) and the pool's accounting.
TEST(ChunkChainModel, RandomWalkMatchesAByteModel) {
    for (std::uint32_t chunk : {256u, 1024u, 2048u}) {
        ChunkPool pool(24, chunk, std::pmr::new_delete_resource());  // short: writes are cut
        struct Side {
            ChunkChain chain;
            std::deque<std::uint8_t> model;  // readable bytes
        };
        Side sides[3];
        Random rng(chunk);
        const std::uint32_t limit = 8 * chunk + 77;
        for (int step = 0; step < 20000; ++step) {
            Side& s = sides[rng.next_u64() % 3];
            const auto op = rng.next_u64() % 6;
            bool no_buffer = false;
            if (op <= 1) {  // append
                const auto n = static_cast<std::uint32_t>(rng.next_u64() % (3 * chunk));
                const auto data = bytes(n, static_cast<std::uint32_t>(step));
                const std::uint32_t took = s.chain.write(pool, data, limit, 0, no_buffer);
                ASSERT_LE(took, n);
                s.model.insert(s.model.end(), data.begin(), data.begin() + took);
            } else if (op == 2 && s.chain.len < limit) {  // out of order, then fill
                const std::uint32_t room = limit - s.chain.len;
                const auto gap = static_cast<std::uint32_t>(rng.next_u64() % room);
                const auto n = static_cast<std::uint32_t>(1 + rng.next_u64() % std::min(room - gap, 3 * chunk));
                const auto data = bytes(gap + n, static_cast<std::uint32_t>(step));
                const std::uint32_t took =
                    s.chain.write_at(pool, s.chain.len + gap, std::span(data).subspan(gap, n), 0, no_buffer);
                if (took == 0) continue;
                // Fill the hole in order; on a short pool the rest is given up.
                const std::uint32_t filled = s.chain.write_at(pool, s.chain.len, std::span(data).first(gap), 0, no_buffer);
                if (filled < gap) {
                    s.chain.trim(pool);
                    continue;
                }
                s.chain.extend(gap + took);
                s.model.insert(s.model.end(), data.begin(), data.begin() + gap + took);
            } else if (op == 3 && !s.model.empty()) {  // read somewhere
                const auto off = static_cast<std::uint32_t>(rng.next_u64() % s.model.size());
                const auto n = static_cast<std::uint32_t>(rng.next_u64() % (s.model.size() - off) + 1);
                const auto got = read(pool, s.chain, off, n);
                ASSERT_TRUE(std::equal(got.begin(), got.end(), s.model.begin() + off)) << "step " << step;
            } else if (op >= 4) {  // consume
                const auto n = static_cast<std::uint32_t>(s.model.empty() ? 0 : rng.next_u64() % (s.model.size() + 1));
                s.chain.consume(pool, n);
                s.model.erase(s.model.begin(), s.model.begin() + n);
            }
            ASSERT_EQ(s.chain.len, s.model.size());
            std::uint32_t held = 0;
            for (const Side& x : sides) {
                held += x.chain.chunks(pool);
                ASSERT_EQ(x.chain.chunks(pool), x.chain.chunks_for_len(pool)) << "step " << step;
            }
            ASSERT_EQ(held, pool.in_use());
        }
        for (Side& s : sides) {
            ASSERT_EQ(read(pool, s.chain, 0, s.chain.len), std::vector(s.model.begin(), s.model.end()));
            s.chain.reset(pool);
        }
        EXPECT_EQ(pool.in_use(), 0u);
    }
}

}  // namespace
}  // namespace tcpfp::tcp
