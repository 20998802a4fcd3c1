// Send and receive buffers: fixed-size byte rings taken from a per-engine
// pool only while a connection has bytes queued, so idle connections hold
// no buffer memory.
#pragma once

#include <cstdint>
#include <cstring>
#include <memory_resource>
#include <span>

namespace tcpfp::tcp {

class BufferPool {
public:
    static constexpr std::uint32_t kNone = UINT32_MAX;

    BufferPool(std::uint32_t count, std::uint32_t size, std::pmr::memory_resource* mr);
    ~BufferPool();
    BufferPool(const BufferPool&) = delete;
    BufferPool& operator=(const BufferPool&) = delete;

    // Every buffer free again, in the constructor's order, now `size` bytes
    // each (at most the size constructed with: the memory stays). O(buffers
    // ever taken since construction or the last reset).
    void reset(std::uint32_t size);
    std::uint32_t max_size() const { return max_size_; }

    std::uint32_t acquire();  // kNone when exhausted
    void release(std::uint32_t id);
    // Output segments point into send buffers until the caller drains them
    // (Engine::clear_output()). Until then a released buffer is parked, not
    // reused: another connection could take it and write its own bytes
    // there, to be sent under the first connection's sequence numbers.
    void park_releases() { parking_ = true; }
    void unpark();  // parked buffers back on the free stack; parking ends
    std::uint8_t* data(std::uint32_t id) { return base_ + static_cast<std::size_t>(id) * size_; }
    std::uint32_t size() const { return size_; }
    std::uint32_t in_use() const { return count_ - free_top_; }
    std::uint32_t capacity() const { return count_; }

private:
    std::pmr::memory_resource* mr_;
    std::uint32_t count_;
    std::uint32_t size_;
    std::uint32_t max_size_;  // bytes per buffer allocated: size_ may be reset lower
    std::uint8_t* base_;
    std::uint32_t* free_;  // stack of free ids
    std::uint32_t free_top_;
    std::uint32_t low_top_;  // lowest free_top_ since the last reset: free_[low_top_..] was written
    std::uint32_t* parked_;  // released while parking_, not yet free
    std::uint32_t parked_len_ = 0;
    bool parking_ = false;
};

// A ring of bytes in one pool buffer. 12 bytes, embedded in the control
// block; the buffer is taken on first write and returned when empty.
struct ByteRing {
    std::uint32_t id = BufferPool::kNone;
    std::uint32_t head = 0;  // offset of the first byte
    std::uint32_t len = 0;

    bool has_buffer() const { return id != BufferPool::kNone; }

    // Appends up to `limit - len` bytes; returns how many were taken, or 0
    // with `no_buffer` set when the pool is exhausted.
    std::uint32_t write(BufferPool& pool, std::span<const std::uint8_t> data, std::uint32_t limit,
                        bool& no_buffer);
    // Copies out `out.size()` bytes starting `offset` bytes after head.
    void peek(BufferPool& pool, std::uint32_t offset, std::span<std::uint8_t> out) const;
    // The bytes [offset, offset+n) as up to two contiguous spans.
    void view(BufferPool& pool, std::uint32_t offset, std::uint32_t n,
              std::span<const std::uint8_t>& first, std::span<const std::uint8_t>& second) const;
    // Writes `data` at `offset` bytes after head, beyond the readable length
    // (out-of-order data held for reassembly); len is unchanged. Returns the
    // bytes stored: up to the buffer's end, or 0 with `no_buffer` set.
    std::uint32_t write_at(BufferPool& pool, std::uint32_t offset, std::span<const std::uint8_t> data,
                           bool& no_buffer);
    // Makes n more bytes (already written by write_at) readable.
    void extend(std::uint32_t n) { len += n; }
    // Drops n bytes from the head; returns the buffer to the pool when empty
    // unless `keep` (bytes beyond len are still held).
    void consume(BufferPool& pool, std::uint32_t n, bool keep = false);
    void reset(BufferPool& pool);
};

}  // namespace tcpfp::tcp
