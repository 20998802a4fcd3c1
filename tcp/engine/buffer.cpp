#include "tcp/engine/buffer.hpp"

#include <algorithm>
#include <stdexcept>

namespace tcpfp::tcp {

BufferPool::BufferPool(std::uint32_t count, std::uint32_t size, std::pmr::memory_resource* mr)
    : mr_(mr), count_(count), size_(size), max_size_(size) {
    base_ = static_cast<std::uint8_t*>(mr_->allocate(static_cast<std::size_t>(count) * size, 64));
    free_ = static_cast<std::uint32_t*>(mr_->allocate(sizeof(std::uint32_t) * count, 64));
    parked_ = static_cast<std::uint32_t*>(mr_->allocate(sizeof(std::uint32_t) * count, 64));
    for (std::uint32_t i = 0; i < count; ++i) free_[i] = count - 1 - i;
    free_top_ = count;
    low_top_ = count;
}

BufferPool::~BufferPool() {
    mr_->deallocate(base_, static_cast<std::size_t>(count_) * max_size_, 64);
    mr_->deallocate(free_, sizeof(std::uint32_t) * count_, 64);
    mr_->deallocate(parked_, sizeof(std::uint32_t) * count_, 64);
}

void BufferPool::reset(std::uint32_t size) {
    if (size > max_size_) throw std::invalid_argument("BufferPool::reset: size above the constructed one");
    // acquire() and release() only write the stack at or above the lowest
    // top it reached; below it the constructor's order is intact.
    for (std::uint32_t i = low_top_; i < count_; ++i) free_[i] = count_ - 1 - i;
    free_top_ = count_;
    low_top_ = count_;
    parked_len_ = 0;
    parking_ = false;
    size_ = size;
}

std::uint32_t BufferPool::acquire() {
    if (free_top_ == 0) return kNone;
    if (--free_top_ < low_top_) low_top_ = free_top_;
    return free_[free_top_];
}

void BufferPool::release(std::uint32_t id) {
    if (parking_) {
        parked_[parked_len_++] = id;
        return;
    }
    free_[free_top_++] = id;
}

void BufferPool::unpark() {
    for (std::uint32_t i = 0; i < parked_len_; ++i) free_[free_top_++] = parked_[i];
    parked_len_ = 0;
    parking_ = false;
}

std::uint32_t ByteRing::write(BufferPool& pool, std::span<const std::uint8_t> data,
                              std::uint32_t limit, bool& no_buffer) {
    no_buffer = false;
    limit = std::min(limit, pool.size());
    if (len >= limit || data.empty()) return 0;
    const std::uint32_t n =
        write_at(pool, len, data.first(std::min<std::size_t>(data.size(), limit - len)), no_buffer);
    extend(n);
    return n;
}

void ByteRing::view(BufferPool& pool, std::uint32_t offset, std::uint32_t n,
                    std::span<const std::uint8_t>& first_part,
                    std::span<const std::uint8_t>& second_part) const {
    first_part = {};
    second_part = {};
    if (n == 0 || !has_buffer()) return;
    const std::uint32_t cap = pool.size();
    const std::uint32_t start = (head + offset) % cap;
    const std::uint32_t first = std::min(n, cap - start);
    const std::uint8_t* base = pool.data(id);
    first_part = {base + start, first};
    if (n > first) second_part = {base, n - first};
}

void ByteRing::peek(BufferPool& pool, std::uint32_t offset, std::span<std::uint8_t> out) const {
    std::span<const std::uint8_t> a, b;
    view(pool, offset, static_cast<std::uint32_t>(out.size()), a, b);
    if (!a.empty()) std::memcpy(out.data(), a.data(), a.size());
    if (!b.empty()) std::memcpy(out.data() + a.size(), b.data(), b.size());
}

std::uint32_t ByteRing::write_at(BufferPool& pool, std::uint32_t offset,
                                 std::span<const std::uint8_t> data, bool& no_buffer) {
    no_buffer = false;
    const std::uint32_t cap = pool.size();
    if (offset >= cap || data.empty()) return 0;
    if (!has_buffer()) {
        id = pool.acquire();
        if (!has_buffer()) {
            no_buffer = true;
            return 0;
        }
        head = 0;
    }
    const auto n = static_cast<std::uint32_t>(std::min<std::size_t>(data.size(), cap - offset));
    const std::uint32_t at = (head + offset) % cap;
    const std::uint32_t first = std::min(n, cap - at);
    std::uint8_t* base = pool.data(id);
    std::memcpy(base + at, data.data(), first);
    if (n > first) std::memcpy(base, data.data() + first, n - first);
    return n;
}

void ByteRing::consume(BufferPool& pool, std::uint32_t n, bool keep) {
    n = std::min(n, len);
    len -= n;
    if (len == 0 && !keep) {
        reset(pool);
        return;
    }
    if (has_buffer()) head = (head + n) % pool.size();
}

void ByteRing::reset(BufferPool& pool) {
    if (has_buffer()) pool.release(id);
    id = BufferPool::kNone;
    head = 0;
    len = 0;
}

}  // namespace tcpfp::tcp
