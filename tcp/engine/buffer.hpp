// Send and receive buffers: chains of fixed-size chunks taken from a
// per-engine pool as bytes are queued and given back as they are consumed,
// so a connection holds memory in proportion to what it has queued (64
// bytes queued hold one chunk), never its SO_SNDBUF/SO_RCVBUF.
//
// Choices (see also tcp/engine/README.md):
// - Chunk sizes are powers of two, so finding a byte's chunk is a shift,
//   not a division (a 64-bit div was a third of write_at's time in the
//   request/response benchmark).
// - The pool is one array of `count` chunks of `size` bytes, allocated at
//   construction; the free list is threaded through the chunks'
//   descriptors, and chunks never taken since construction or reset() are
//   handed out in index order, so reset() is O(1) and a reset engine takes
//   the same chunks as a new one.
// - A chain costs 12 bytes in the control block (first chunk, last chunk,
//   readable length). The rest of its header (offset of the first byte,
//   chunk count, a cursor) lives in the descriptor of its first chunk, as
//   BSD keeps a packet header in the first mbuf of a chain.
// - The cursor remembers the chunk of the last offset looked up, so the
//   sender's walk through its buffer (segment after segment) and the
//   receiver's appends are O(1); an offset behind the cursor is found from
//   the first chunk (retransmissions, which are near it).
// - Out-of-order data (write_at beyond len) takes the chunks of the hole
//   too: bounded by the window, counted like any chunk, and the in-order
//   bytes that fill the hole then land in place without a copy.
// - A pool running low shrinks the windows offered (window_allowance())
//   before anything is dropped, and send() stops short of a reserve kept
//   for data arriving in windows already offered.
#pragma once

#include <cstdint>
#include <algorithm>
#include <cstring>
#include <memory_resource>
#include <span>

namespace tcpfp::tcp {

using ByteSpan = std::span<const std::uint8_t>;

class ChunkPool {
public:
    static constexpr std::uint32_t kNone = UINT32_MAX;
    static constexpr std::uint32_t kMinChunkSize = 256;
    static constexpr std::uint32_t kMaxChunkSize = 65536;  // ChunkMeta::start is 16 bits
    static constexpr std::uint32_t kMaxChainChunks = 65535;  // ChunkMeta::chunks is 16 bits

    // One per chunk. `next` links a chain (or the free list); the other
    // fields are the chain's header and mean something in its first chunk only.
    struct Meta {
        std::uint32_t next;
        std::uint32_t cursor;        // a chunk of the chain: the last one looked up
        std::uint16_t cursor_index;  // its position in the chain (0 = first)
        std::uint16_t chunks;        // chunks in the chain
        std::uint16_t start;         // offset of the first readable byte in the first chunk
        std::uint16_t unused_;
    };
    static_assert(sizeof(Meta) == 16);

    // `size` a power of two in [kMinChunkSize, kMaxChunkSize]; throws
    // std::invalid_argument otherwise.
    ChunkPool(std::uint32_t count, std::uint32_t size, std::pmr::memory_resource* mr);
    ~ChunkPool();
    ChunkPool(const ChunkPool&) = delete;
    ChunkPool& operator=(const ChunkPool&) = delete;

    // Every chunk free again, as after construction. O(1).
    void reset();

    std::uint32_t chunk_size() const { return size_; }
    // The chunk of a chain holding byte `pos` (counted from the first
    // chunk's start), the byte's offset in it, and the chunks `bytes` fill.
    std::uint64_t chunk_index(std::uint64_t pos) const { return pos >> shift_; }
    std::uint32_t offset_in_chunk(std::uint64_t pos) const { return static_cast<std::uint32_t>(pos) & (size_ - 1); }
    std::uint64_t chunks_for(std::uint64_t bytes) const { return (bytes + size_ - 1) >> shift_; }
    std::uint32_t capacity() const { return count_; }
    std::uint32_t in_use() const { return in_use_; }
    std::uint32_t free_chunks() const { return count_ - in_use_; }
    // Chunks send() leaves free, for data arriving in windows already
    // offered (1/32 of the pool).
    std::uint32_t send_reserve() const { return count_ / 32; }
    // The new receive window the pool can back for one of `connections`
    // connections: the bytes free above the send reserve while at least 1/8
    // of the pool is free, then an even share of them; 0 at the reserve.
    std::uint32_t window_allowance(std::size_t connections) const {
        const std::uint32_t free = free_chunks();
        const std::uint32_t reserve = send_reserve();
        if (free <= reserve) return 0;
        // No one window beyond what the pool holds now (the reserve absorbs the
        // rounding of bytes to chunks): a lone receiver never outruns it.
        std::uint64_t bytes = static_cast<std::uint64_t>(free - reserve) * size_;
        // Running low, shared evenly: the windows offered from here on add up
        // to no more than the pool holds above the reserve.
        if (free < count_ / 8) bytes /= std::max<std::size_t>(connections, 1);
        return static_cast<std::uint32_t>(std::min<std::uint64_t>(bytes, UINT32_MAX - 1));
    }

    // kNone when exhausted.
    std::uint32_t acquire() {
        std::uint32_t id;
        if (free_head_ != kNone) {
            id = free_head_;
            free_head_ = meta_[id].next;
        } else if (fresh_ < count_) {
            id = fresh_++;
        } else {
            return kNone;
        }
        ++in_use_;
        return id;
    }
    // Gives back a chain of `n` chunks linked from `first` to `last`. O(1).
    void release(std::uint32_t first, std::uint32_t last, std::uint32_t n) {
        if (parking_) {
            // Still counted in use: the bytes may be on their way out.
            meta_[last].next = parked_head_;
            if (parked_head_ == kNone) parked_tail_ = last;
            parked_head_ = first;
            parked_count_ += n;
            return;
        }
        meta_[last].next = free_head_;
        free_head_ = first;
        in_use_ -= n;
    }
    // Output segments point into send buffers until the caller drains them
    // (Engine::clear_output()). Until then released chunks are parked, not
    // reused: another connection could take them and write its own bytes
    // there, to be sent under the first connection's sequence numbers.
    void park_releases() { parking_ = true; }
    // Parked chunks back on the free list (one splice); parking ends.
    void unpark();
    std::uint8_t* data(std::uint32_t id) { return base_ + static_cast<std::size_t>(id) * size_; }
    Meta& meta(std::uint32_t id) { return meta_[id]; }
    const Meta& meta(std::uint32_t id) const { return meta_[id]; }

private:
    std::pmr::memory_resource* mr_;
    std::uint32_t count_;
    std::uint32_t size_;
    std::uint32_t shift_;  // size_ == 1 << shift_
    std::uint8_t* base_;
    Meta* meta_;
    std::uint32_t free_head_ = kNone;  // chunks given back, linked through Meta::next
    std::uint32_t fresh_ = 0;          // chunks [fresh_, count_) never taken since the last reset
    std::uint32_t in_use_ = 0;         // taken or parked
    // Released while parking_: a list through Meta::next, spliced onto the
    // free list by unpark().
    std::uint32_t parked_head_ = kNone;
    std::uint32_t parked_tail_ = kNone;
    std::uint32_t parked_count_ = 0;
    bool parking_ = false;
};

// A byte stream in a chain of pool chunks. 12 bytes, embedded in the
// control block; chunks are taken as bytes are written and given back as
// they are consumed (all of them when the chain empties).
struct ChunkChain {
    std::uint32_t head = ChunkPool::kNone;  // first chunk
    std::uint32_t tail = ChunkPool::kNone;  // last chunk
    std::uint32_t len = 0;                  // readable bytes from the first one

    bool has_buffer() const { return head != ChunkPool::kNone; }
    std::uint32_t chunks(const ChunkPool& pool) const {
        return has_buffer() ? pool.meta(head).chunks : 0;
    }
    // The chunks its readable bytes occupy: chunks() unless bytes beyond
    // len are held for reassembly (the memory-per-byte invariant).
    std::uint32_t chunks_for_len(const ChunkPool& pool) const {
        if (len == 0) return 0;
        const std::uint64_t start = has_buffer() ? pool.meta(head).start : 0;
        return static_cast<std::uint32_t>(pool.chunks_for(start + len));
    }

    // Appends up to `limit - len` bytes, leaving `reserve` chunks free in the
    // pool; returns how many were taken. `no_buffer` is set when the pool
    // (down to the reserve) cut the write short.
    std::uint32_t write(ChunkPool& pool, ByteSpan data, std::uint32_t limit, std::uint32_t reserve,
                        bool& no_buffer);
    // Writes `data` at `offset` bytes after the first readable one, beyond
    // len (out-of-order data held for reassembly) or at it; len is
    // unchanged. Takes the chunks up to the end of the data, those of a
    // hole included. Returns the bytes stored (a prefix of `data`), with
    // `no_buffer` set when the pool cut it short.
    std::uint32_t write_at(ChunkPool& pool, std::uint32_t offset, ByteSpan data,
                           std::uint32_t reserve, bool& no_buffer);
    // Chunks write_at(offset, n bytes) would take from the pool.
    std::uint32_t chunks_needed(const ChunkPool& pool, std::uint32_t offset, std::uint32_t n) const;
    // Makes n more bytes (already written by write_at) readable.
    void extend(std::uint32_t n) { len += n; }
    // The bytes [offset, offset+n) as contiguous pieces, in order, at most
    // out.size() of them: returns how many pieces were filled; `bytes` is
    // what they cover (n unless out.size() pieces could not hold them all).
    std::size_t view(ChunkPool& pool, std::uint32_t offset, std::uint32_t n, std::span<ByteSpan> out,
                     std::uint32_t& bytes) const;
    // Copies out `out.size()` bytes starting `offset` bytes after the first.
    void peek(ChunkPool& pool, std::uint32_t offset, std::span<std::uint8_t> out) const;
    // Drops n bytes from the front, giving back the chunks they emptied;
    // gives back every chunk when the chain empties, unless `keep` (bytes
    // beyond len are held for reassembly).
    void consume(ChunkPool& pool, std::uint32_t n, bool keep = false);
    // Gives back the chunks beyond the last readable byte (reassembly over).
    void trim(ChunkPool& pool);
    void reset(ChunkPool& pool);

private:
    std::uint32_t seek(ChunkPool& pool, std::uint32_t index) const;
    bool grow(ChunkPool& pool, std::uint32_t chunks, std::uint32_t reserve);
};

}  // namespace tcpfp::tcp
