// Fixed-capacity object pool with generation-checked handles.
//
// `capacity` slots are allocated once, in the constructor, from the given
// memory resource; acquire() and release() never allocate. T is constructed
// in a slot on acquire() and destroyed on release(). Free slots form an
// intrusive LIFO list: a free slot's first 4 bytes hold the index of the
// next free slot, so the most recently freed (cache-warm) slot is reused
// first. The constructor threads that list through every slot, which also
// touches (faults in) all the storage up front rather than on the fast path.
//
// Layout: the slot array starts on a cache line; objects of 64 bytes or more
// are padded to whole lines, so each starts on a line of its own; smaller
// ones are packed at sizeof(T).
//
// Generations: each slot has a 32-bit counter that is odd while the slot is
// live and even while it is free; acquire() and release() each add 1. A
// Handle records (index, generation), so a handle kept after its object was
// released no longer matches (get() returns nullptr, release() returns
// false): use-after-free becomes a checked miss. The counter wraps at 2^32,
// i.e. a slot has 2^31 distinct live generations; a stale handle could match
// again only if its slot were reused exactly a multiple of 2^31 times while
// the handle was kept and it was checked during that very incarnation: at a
// million reuses per second of one slot, the first chance is 36 minutes out.
// Index-based access (at(), is_live()) is for owners that hold an index from
// a table whose entries are erased together with the object.
#pragma once

#include <algorithm>
#include <cassert>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <memory_resource>
#include <new>
#include <stdexcept>
#include <utility>

namespace tcpfp::tcp {

struct PoolHandle {
    std::uint32_t index = 0xffffffffu;
    std::uint32_t generation = 0;  // even: never matches a live slot

    static constexpr PoolHandle invalid() { return PoolHandle{}; }
    constexpr bool is_invalid() const { return *this == invalid(); }
    friend constexpr bool operator==(PoolHandle, PoolHandle) = default;
};

template <class T>
class Pool {
public:
    using Handle = PoolHandle;
    // Indices stay below 0xffffffff, which ends the free list, is the invalid
    // handle's index and is ConnTable::kNoValue.
    static constexpr std::size_t kMaxCapacity = 0xffffffffu;
    static constexpr std::size_t kAlign = std::max<std::size_t>(64, alignof(T));
    // Bytes between consecutive slots (the free-list link needs 4).
    static constexpr std::size_t kStride =
        sizeof(T) >= 64 ? (sizeof(T) + 63) / 64 * 64 : std::max<std::size_t>(sizeof(T), 4);

    // Throws std::length_error above kMaxCapacity, and whatever `mr` throws.
    explicit Pool(std::size_t capacity,
                  std::pmr::memory_resource* mr = std::pmr::get_default_resource())
        : mr_(mr), capacity_(static_cast<std::uint32_t>(capacity)) {
        if (mr_ == nullptr) throw std::invalid_argument("Pool: null memory resource");
        if (capacity > kMaxCapacity) throw std::length_error("Pool: capacity above 2^32 - 1");
        if (capacity_ == 0) return;
        // One block: the slots, then the generation counters on their own lines.
        storage_ = static_cast<std::byte*>(mr_->allocate(block_bytes(), kAlign));
        gens_ = reinterpret_cast<std::uint32_t*>(storage_ + gens_offset());
        std::uninitialized_fill_n(gens_, capacity_, 0u);
        for (std::uint32_t i = 0; i < capacity_; ++i) {
            set_link(i, i + 1 < capacity_ ? i + 1 : kEnd);
        }
        free_head_ = 0;
    }

    ~Pool() {
        if (capacity_ == 0) return;
        for (std::uint32_t i = 0; i < capacity_; ++i) {
            if (gens_[i] & 1u) ptr(i)->~T();
        }
        mr_->deallocate(storage_, block_bytes(), kAlign);
    }

    Pool(const Pool&) = delete;
    Pool& operator=(const Pool&) = delete;

    // Constructs T(args...) in a free slot; Handle::invalid() when full. If
    // the constructor throws, the slot stays free and the exception propagates.
    template <class... Args>
    [[nodiscard]] Handle acquire(Args&&... args) {
        const std::uint32_t i = free_head_;
        if (i == kEnd) return Handle::invalid();
        void* p = slot(i);
        const std::uint32_t next = link(i);
#if defined(__cpp_exceptions)
        try {
            ::new (p) T(std::forward<Args>(args)...);
        } catch (...) {
            set_link(i, next);  // the constructor may have overwritten it
            throw;
        }
#else
        ::new (p) T(std::forward<Args>(args)...);
#endif
        free_head_ = next;
        ++live_;
        if (i >= used_) used_ = i + 1;
        return Handle{i, ++gens_[i]};
    }

    // Back to the state the constructor left: live objects destroyed, every
    // generation 0, the free list 0, 1, 2, ... again, so the same sequence of
    // calls hands out the same handles as on a new pool (a reused engine must
    // behave exactly like a new one). O(slots ever acquired), not
    // O(capacity): acquire() takes the free list's head, so the slots never
    // handed out are a tail [used_, capacity) still as the constructor made it.
    void clear() {
        for (std::uint32_t i = 0; i < used_; ++i) {
            if (gens_[i] & 1u) ptr(i)->~T();
            gens_[i] = 0;
            set_link(i, i + 1 < capacity_ ? i + 1 : kEnd);
        }
        free_head_ = capacity_ == 0 ? kEnd : 0;
        live_ = 0;
        used_ = 0;
    }

    // Destroys the object and frees its slot; false (and nothing done) for a
    // stale or invalid handle.
    bool release(Handle h) {
        if (get(h) == nullptr) return false;
        ++gens_[h.index];  // first, so a re-entrant release from ~T() is a no-op
        ptr(h.index)->~T();
        set_link(h.index, free_head_);
        free_head_ = h.index;
        --live_;
        return true;
    }

    // The object, or nullptr when the handle is stale or invalid.
    T* get(Handle h) {
        return live_match(h) ? ptr(h.index) : nullptr;
    }
    const T* get(Handle h) const {
        return live_match(h) ? ptr(h.index) : nullptr;
    }

    // Unchecked (asserted in debug builds): the slot must be live.
    T& at(std::uint32_t index) {
        assert(is_live(index));
        return *ptr(index);
    }
    const T& at(std::uint32_t index) const {
        assert(is_live(index));
        return *ptr(index);
    }

    bool is_live(std::uint32_t index) const {
        return index < capacity_ && (gens_[index] & 1u);
    }

    // The current handle of a live slot, Handle::invalid() otherwise.
    Handle handle_of(std::uint32_t index) const {
        return is_live(index) ? Handle{index, gens_[index]} : Handle::invalid();
    }
    // Index of an object that lives in this pool.
    std::uint32_t index_of(const T& obj) const {
        const auto offset =
            static_cast<std::size_t>(reinterpret_cast<const std::byte*>(&obj) - storage_);
        assert(offset % kStride == 0 && offset / kStride < capacity_);
        return static_cast<std::uint32_t>(offset / kStride);
    }

    std::size_t size() const {
        return live_;
    }
    std::size_t capacity() const {
        return capacity_;
    }
    bool empty() const {
        return live_ == 0;
    }
    bool full() const {
        return free_head_ == kEnd;
    }

    // f(Handle, T&) for every live object, in index order. O(capacity()).
    // f may release the object it is given; objects it acquires may or may
    // not be visited.
    template <class F>
    void for_each(F&& f) {
        for (std::uint32_t i = 0; i < capacity_; ++i) {
            const std::uint32_t g = gens_[i];
            if (g & 1u) f(Handle{i, g}, *ptr(i));
        }
    }
    template <class F>
    void for_each(F&& f) const {
        for (std::uint32_t i = 0; i < capacity_; ++i) {
            const std::uint32_t g = gens_[i];
            if (g & 1u) f(Handle{i, g}, static_cast<const T&>(*ptr(i)));
        }
    }

private:
    static constexpr std::uint32_t kEnd = 0xffffffffu;

    std::size_t gens_offset() const {
        return (std::size_t{capacity_} * kStride + kAlign - 1) / kAlign * kAlign;
    }
    std::size_t block_bytes() const {
        return gens_offset() + std::size_t{capacity_} * sizeof(std::uint32_t);
    }

    bool live_match(Handle h) const {
        return h.index < capacity_ && (h.generation & 1u) && gens_[h.index] == h.generation;
    }

    std::byte* slot(std::uint32_t i) const {
        return storage_ + std::size_t{i} * kStride;
    }
    T* ptr(std::uint32_t i) const {
        return std::launder(reinterpret_cast<T*>(slot(i)));
    }

    std::uint32_t link(std::uint32_t i) const {
        std::uint32_t next;
        std::memcpy(&next, slot(i), sizeof next);
        return next;
    }
    void set_link(std::uint32_t i, std::uint32_t next) {
        std::memcpy(slot(i), &next, sizeof next);
    }

    std::pmr::memory_resource* mr_;
    std::byte* storage_ = nullptr;
    std::uint32_t* gens_ = nullptr;
    std::uint32_t capacity_;
    std::uint32_t free_head_ = kEnd;
    std::size_t live_ = 0;
    std::uint32_t used_ = 0;  // 1 + the highest index acquired since construction or clear()
};

}  // namespace tcpfp::tcp
