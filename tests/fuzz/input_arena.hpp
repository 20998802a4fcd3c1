// The memory a fuzz input's own objects allocate from (the engine targets'
// per-input state: socket lists, receive space; the engines themselves are
// kept for the process, see FuzzNet::reset): one block kept for the whole
// process and handed out again, from its start, for every input.
//
// Why: from the heap, every such block was an ASan allocation per input,
// through the quarantine onto fresh pages; here the pages stay mapped.
//
// ASan still sees the engine's memory as separate blocks: every allocation
// is unpoisoned when handed out and followed by a poisoned red zone, and all
// of it is poisoned again on reset, so an overflow from one pool into the
// next, or a use after the input ended, is reported as on the heap.
//
// Inputs stay independent: nothing of the previous input is reachable (its
// objects are gone), and the harness initialises what it reads. Bytes it
// allocated but never wrote (a buffer's unused tail) hold the previous
// input's data instead of the heap's; reading those would be a bug MSan
// finds, not something this harness relies on.
#pragma once

#include <algorithm>
#include <cstddef>
#include <memory_resource>
#include <new>

#if defined(__SANITIZE_ADDRESS__)
#define TCPFP_FUZZ_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define TCPFP_FUZZ_ASAN 1
#endif
#endif
#ifdef TCPFP_FUZZ_ASAN
#include <sanitizer/asan_interface.h>
#endif

namespace tcpfp::fuzz {

// Marks memory unusable / usable for ASan (no-ops in other builds).
inline void asan_poison([[maybe_unused]] const void* p, [[maybe_unused]] std::size_t n) {
#ifdef TCPFP_FUZZ_ASAN
    ASAN_POISON_MEMORY_REGION(p, n);
#endif
}
inline void asan_unpoison([[maybe_unused]] const void* p, [[maybe_unused]] std::size_t n) {
#ifdef TCPFP_FUZZ_ASAN
    ASAN_UNPOISON_MEMORY_REGION(p, n);
#endif
}

class InputArena final : public std::pmr::memory_resource {
public:
    explicit InputArena(std::size_t capacity)
        : capacity_(capacity),
          base_(static_cast<std::byte*>(::operator new(capacity, std::align_val_t{kRedZone}))) {
        poison(base_, capacity_);
    }
    ~InputArena() override {
        unpoison(base_, capacity_);
        ::operator delete(base_, std::align_val_t{kRedZone});
    }
    InputArena(const InputArena&) = delete;
    InputArena& operator=(const InputArena&) = delete;

    // Everything handed out since the last reset is free again. Call it only
    // once nothing allocated from the arena is alive.
    void reset() {
        poison(base_, used_);
        used_ = 0;
    }
    std::size_t used() const { return used_; }

private:
    // Also the alignment of the block: the engine's pools align to cache lines.
    static constexpr std::size_t kRedZone = 64;

    static void poison(void* p, std::size_t n) { asan_poison(p, n); }
    static void unpoison(void* p, std::size_t n) { asan_unpoison(p, n); }
    bool owns(const void* p) const {
        const auto* b = static_cast<const std::byte*>(p);
        return b >= base_ && b < base_ + capacity_;
    }

    void* do_allocate(std::size_t bytes, std::size_t align) override {
        const std::size_t a = std::max(align, kRedZone);
        const std::size_t start = (used_ + kRedZone + a - 1) / a * a;
        if (start + bytes > capacity_) {
            // A configuration larger than the arena still works, at heap speed.
            return std::pmr::new_delete_resource()->allocate(bytes, align);
        }
        used_ = start + bytes;
        unpoison(base_ + start, bytes);
        return base_ + start;
    }
    void do_deallocate(void* p, std::size_t bytes, std::size_t align) override {
        if (!owns(p)) {
            std::pmr::new_delete_resource()->deallocate(p, bytes, align);
            return;
        }
        poison(p, bytes);  // the space returns at reset(); until then a use is an error
    }
    bool do_is_equal(const std::pmr::memory_resource& other) const noexcept override {
        return this == &other;
    }

    std::size_t capacity_;
    std::byte* base_;
    std::size_t used_ = 0;
};

// The one arena of this process. libFuzzer calls LLVMFuzzerTestOneInput with
// nothing but the input, so state kept between inputs has to be global: this
// is the only such state, and it holds no data from one input to the next.
inline InputArena& input_arena() {
    static InputArena arena(16u << 20);
    return arena;
}

// Scope of one input: the arena is reset when it ends.
class ArenaScope {
public:
    ArenaScope() = default;
    ~ArenaScope() { input_arena().reset(); }
    ArenaScope(const ArenaScope&) = delete;
    ArenaScope& operator=(const ArenaScope&) = delete;
    std::pmr::memory_resource* resource() { return &input_arena(); }
};

}  // namespace tcpfp::fuzz
