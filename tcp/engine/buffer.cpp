#include "tcp/engine/buffer.hpp"

#include <algorithm>
#include <bit>
#include <stdexcept>

namespace tcpfp::tcp {

ChunkPool::ChunkPool(std::uint32_t count, std::uint32_t size, std::pmr::memory_resource* mr)
    : mr_(mr), count_(count), size_(size), shift_(static_cast<std::uint32_t>(std::countr_zero(size))) {
    if (size < kMinChunkSize || size > kMaxChunkSize || !std::has_single_bit(size)) {
        throw std::invalid_argument("ChunkPool: chunk size not a power of two in [256, 65536]");
    }
    // Neither array is initialised: a chunk's bytes and descriptor are
    // written when it is taken, before anything reads them.
    base_ = static_cast<std::uint8_t*>(
        mr_->allocate(std::max<std::size_t>(static_cast<std::size_t>(count) * size, 1), 64));
    meta_ = static_cast<Meta*>(mr_->allocate(sizeof(Meta) * std::max<std::size_t>(count, 1), 64));
}

ChunkPool::~ChunkPool() {
    mr_->deallocate(base_, std::max<std::size_t>(static_cast<std::size_t>(count_) * size_, 1), 64);
    mr_->deallocate(meta_, sizeof(Meta) * std::max<std::size_t>(count_, 1), 64);
}

void ChunkPool::reset() {
    free_head_ = kNone;
    fresh_ = 0;
    in_use_ = 0;
    parked_head_ = parked_tail_ = kNone;
    parked_count_ = 0;
    parking_ = false;
}




void ChunkPool::unpark() {
    parking_ = false;
    if (parked_head_ == kNone) return;
    meta_[parked_tail_].next = free_head_;
    free_head_ = parked_head_;
    in_use_ -= parked_count_;
    parked_head_ = parked_tail_ = kNone;
    parked_count_ = 0;
}

// --- ChunkChain ---

// The chunk at position `index` of the chain (< chunks). From the cursor
// when it lies at or before it, else from the first chunk; the cursor then
// stays there: consecutive segments and appends find theirs in a step.
std::uint32_t ChunkChain::seek(ChunkPool& pool, std::uint32_t index) const {
    ChunkPool::Meta& h = pool.meta(head);
    if (index + 1u == h.chunks) return tail;
    std::uint32_t id = head;
    std::uint32_t at = 0;
    if (h.cursor_index <= index) {
        id = h.cursor;
        at = h.cursor_index;
    }
    for (; at < index; ++at) id = pool.meta(id).next;
    h.cursor = id;
    h.cursor_index = static_cast<std::uint16_t>(index);
    return id;
}

// Takes chunks until the chain has `target`, leaving `reserve` free in the
// pool. False when not even one could be taken.
bool ChunkChain::grow(ChunkPool& pool, std::uint32_t target, std::uint32_t reserve) {
    std::uint32_t have = chunks(pool);
    const std::uint32_t before = have;
    while (have < target && pool.free_chunks() > reserve) {
        const std::uint32_t id = pool.acquire();
        ChunkPool::Meta& m = pool.meta(id);
        m.next = ChunkPool::kNone;
        if (head == ChunkPool::kNone) {
            head = id;
            m.cursor = id;
            m.cursor_index = 0;
            m.start = 0;
        } else {
            pool.meta(tail).next = id;
        }
        tail = id;
        ++have;
    }
    if (have != before) pool.meta(head).chunks = static_cast<std::uint16_t>(have);
    return have != before;
}

std::uint32_t ChunkChain::chunks_needed(const ChunkPool& pool, std::uint32_t offset,
                                        std::uint32_t n) const {
    const std::uint64_t start = has_buffer() ? pool.meta(head).start : 0;
    const std::uint64_t want = pool.chunks_for(start + offset + n);
    const std::uint32_t have = chunks(pool);
    return want > have ? static_cast<std::uint32_t>(want - have) : 0;
}

std::uint32_t ChunkChain::write(ChunkPool& pool, ByteSpan data, std::uint32_t limit,
                                std::uint32_t reserve, bool& no_buffer) {
    no_buffer = false;
    if (len >= limit || data.empty()) return 0;
    data = data.first(std::min<std::size_t>(data.size(), limit - len));
    if (has_buffer()) {
        // An append with nothing held beyond the last readable byte's chunk
        // (no reassembly): fill the last chunk, then new ones, in one pass.
        ChunkPool::Meta& h = pool.meta(head);
        const std::uint32_t cs = pool.chunk_size();
        const std::uint64_t end = h.start + std::uint64_t{len};
        const std::uint64_t room = (std::uint64_t{h.chunks} * cs) - end;
        if (room < cs) {
            auto n = static_cast<std::uint32_t>(std::min<std::uint64_t>(room, data.size()));
            std::memcpy(pool.data(tail) + (cs - room), data.data(), n);
            while (n < data.size()) {
                if (pool.free_chunks() <= reserve || h.chunks >= ChunkPool::kMaxChainChunks) {
                    no_buffer = true;
                    break;
                }
                const std::uint32_t id = pool.acquire();
                pool.meta(id).next = ChunkPool::kNone;
                pool.meta(tail).next = id;
                tail = id;
                ++h.chunks;
                const std::uint32_t k = std::min<std::uint32_t>(cs, static_cast<std::uint32_t>(data.size()) - n);
                std::memcpy(pool.data(id), data.data() + n, k);
                n += k;
            }
            len += n;
            return n;
        }
    }
    const std::uint32_t n = write_at(pool, len, data, reserve, no_buffer);
    extend(n);
    return n;
}

std::uint32_t ChunkChain::write_at(ChunkPool& pool, std::uint32_t offset, ByteSpan data,
                                   std::uint32_t reserve, bool& no_buffer) {
    no_buffer = false;
    if (data.empty()) return 0;
    const std::uint32_t cs = pool.chunk_size();
    // The common cases first: bytes that fit in the last chunk held (an
    // append, in-order data), or in one new chunk of an empty chain (a
    // request, a response).
    if (has_buffer()) {
        const ChunkPool::Meta& h = pool.meta(head);
        const std::uint64_t at = h.start + std::uint64_t{offset};
        if (pool.chunk_index(at) + 1 == h.chunks && pool.offset_in_chunk(at) + data.size() <= cs) {
            std::memcpy(pool.data(tail) + pool.offset_in_chunk(at), data.data(), data.size());
            return static_cast<std::uint32_t>(data.size());
        }
    } else if (std::uint64_t{offset} + data.size() <= cs && pool.free_chunks() > reserve) {
        const std::uint32_t id = pool.acquire();
        ChunkPool::Meta& m = pool.meta(id);
        m = {ChunkPool::kNone, id, 0, 1, 0, 0};
        head = tail = id;
        std::memcpy(pool.data(id) + offset, data.data(), data.size());
        return static_cast<std::uint32_t>(data.size());
    }
    const std::uint64_t pos = (has_buffer() ? pool.meta(head).start : 0u) + std::uint64_t{offset};
    const std::uint64_t want =
        std::min<std::uint64_t>(pool.chunks_for(pos + data.size()), ChunkPool::kMaxChainChunks);
    const auto index = static_cast<std::uint32_t>(pool.chunk_index(pos));
    if (index >= want) return 0;  // past the longest chain: beyond any buffer limit
    const std::uint32_t had = chunks(pool);
    const std::uint32_t old_tail = tail;
    if (want > had) {
        // Only when the first byte's chunk can be had: chunks for a hole
        // and no byte stored would be held for nothing.
        const std::uint32_t first_needed = index + 1;
        const std::uint32_t missing = first_needed > chunks(pool) ? first_needed - chunks(pool) : 0;
        if (missing > 0 && pool.free_chunks() < reserve + missing) {
            no_buffer = true;
            return 0;
        }
        (void)grow(pool, static_cast<std::uint32_t>(want), reserve);
    }
    const std::uint64_t covered = static_cast<std::uint64_t>(chunks(pool)) * cs;
    const auto n = static_cast<std::uint32_t>(std::min<std::uint64_t>(data.size(), covered - pos));
    no_buffer = n < data.size();
    // An append (at or past the last chunk held before) starts from that
    // chunk and leaves the cursor where the reader or sender put it: a
    // cursor moved to the end by every send() would send each segment's
    // look-up back to the first chunk.
    std::uint32_t id;
    if (had > 0 && index + 1 >= had) {
        id = old_tail;
        for (std::uint32_t i = had - 1; i < index; ++i) id = pool.meta(id).next;
    } else if (had == 0) {
        id = head;
        for (std::uint32_t i = 0; i < index; ++i) id = pool.meta(id).next;
    } else {
        id = seek(pool, index);
    }
    std::uint32_t at = pool.offset_in_chunk(pos);
    // The next link is read only when more bytes follow: a descriptor read
    // for nothing is a cache miss in a long chain.
    for (std::uint32_t done = 0; done < n;) {
        const std::uint32_t k = std::min(n - done, cs - at);
        std::memcpy(pool.data(id) + at, data.data() + done, k);
        done += k;
        if (done == n) break;
        at = 0;
        id = pool.meta(id).next;
    }
    return n;
}

std::size_t ChunkChain::view(ChunkPool& pool, std::uint32_t offset, std::uint32_t n,
                             std::span<ByteSpan> out, std::uint32_t& bytes) const {
    bytes = 0;
    if (n == 0 || !has_buffer() || out.empty()) return 0;
    const std::uint32_t cs = pool.chunk_size();
    const std::uint64_t pos = pool.meta(head).start + std::uint64_t{offset};
    const std::uint64_t index = pool.chunk_index(pos);
    if (index >= pool.meta(head).chunks) return 0;  // beyond the bytes held
    std::uint32_t id = seek(pool, static_cast<std::uint32_t>(index));
    std::uint32_t at = pool.offset_in_chunk(pos);
    std::size_t parts = 0;
    for (;;) {
        const std::uint32_t k = std::min(n - bytes, cs - at);
        out[parts++] = {pool.data(id) + at, k};
        bytes += k;
        if (bytes == n || parts == out.size()) break;
        id = pool.meta(id).next;
        if (id == ChunkPool::kNone) break;
        at = 0;
    }
    return parts;
}

void ChunkChain::peek(ChunkPool& pool, std::uint32_t offset, std::span<std::uint8_t> out) const {
    if (out.empty() || !has_buffer()) return;
    const std::uint64_t pos = pool.meta(head).start + std::uint64_t{offset};
    const std::uint64_t index = pool.chunk_index(pos);
    if (index >= pool.meta(head).chunks) return;
    const std::uint32_t cs = pool.chunk_size();
    std::uint32_t id = seek(pool, static_cast<std::uint32_t>(index));
    std::uint32_t at = pool.offset_in_chunk(pos);
    for (std::size_t done = 0;;) {
        const std::size_t k = std::min<std::size_t>(out.size() - done, cs - at);
        std::memcpy(out.data() + done, pool.data(id) + at, k);
        done += k;
        if (done == out.size()) return;
        id = pool.meta(id).next;
        if (id == ChunkPool::kNone) return;
        at = 0;
    }
}

void ChunkChain::consume(ChunkPool& pool, std::uint32_t n, bool keep) {
    n = std::min(n, len);
    len -= n;
    if (!has_buffer()) return;
    if (len == 0 && !keep) return reset(pool);
    ChunkPool::Meta& h = pool.meta(head);
    const std::uint64_t start = h.start + std::uint64_t{n};
    const std::uint64_t emptied = pool.chunk_index(start);  // chunks wholly before the first byte
    if (emptied == 0) {
        h.start = static_cast<std::uint16_t>(start);
        return;
    }
    if (emptied >= h.chunks) return reset(pool);  // (len is 0: nothing was held beyond)
    const auto drop = static_cast<std::uint32_t>(emptied);
    // The header moves to the new first chunk.
    const ChunkPool::Meta old = h;
    std::uint32_t last = head;
    for (std::uint32_t i = 1; i < drop; ++i) last = pool.meta(last).next;
    const std::uint32_t first = pool.meta(last).next;
    pool.release(head, last, drop);
    head = first;
    ChunkPool::Meta& nh = pool.meta(head);
    nh.chunks = static_cast<std::uint16_t>(old.chunks - drop);
    nh.start = static_cast<std::uint16_t>(pool.offset_in_chunk(start));
    if (old.cursor_index >= drop) {
        nh.cursor = old.cursor;
        nh.cursor_index = static_cast<std::uint16_t>(old.cursor_index - drop);
    } else {
        nh.cursor = head;
        nh.cursor_index = 0;
    }
}

void ChunkChain::trim(ChunkPool& pool) {
    if (!has_buffer()) return;
    if (len == 0) return reset(pool);
    ChunkPool::Meta& h = pool.meta(head);
    const auto keep = static_cast<std::uint32_t>(pool.chunks_for(h.start + std::uint64_t{len}));
    if (keep >= h.chunks) return;
    const std::uint32_t last = seek(pool, keep - 1);
    pool.release(pool.meta(last).next, tail, h.chunks - keep);
    pool.meta(last).next = ChunkPool::kNone;
    tail = last;
    h.chunks = static_cast<std::uint16_t>(keep);
}

void ChunkChain::reset(ChunkPool& pool) {
    if (has_buffer()) pool.release(head, tail, pool.meta(head).chunks);
    head = tail = ChunkPool::kNone;
    len = 0;
}

}  // namespace tcpfp::tcp
