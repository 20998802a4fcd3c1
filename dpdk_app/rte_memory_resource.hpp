// std::pmr adapter for an engine's preallocated tables and buffers: DPDK
// memory on its lcore's NUMA socket, or, when the EAL runs without
// hugepages, transparent huge pages for the large ones.
#pragma once

#include <cstddef>
#include <memory_resource>

namespace tcpfp::app {

// Where allocations of kLargeBytes or more go.
enum class LargePages {
    dpdk,         // rte_malloc_socket, like the small ones
    transparent,  // anonymous memory with MADV_HUGEPAGE (for --no-huge)
};

// Small allocations always come from rte_malloc_socket. With
// LargePages::transparent a large one is mapped on its own, 2 MiB aligned,
// marked MADV_HUGEPAGE and bound to `socket`'s NUMA node.
//
// Why: without hugepages DPDK's memory is shared memory on 4 KiB pages, so
// the connection and TIME_WAIT tables (16 MiB in the pair client) cost a
// page walk on most lookups. The lookups' prefetches were 1.6 % of the
// client's samples in the pair's CPS profile (session 21). Measured over
// the pair's CPS, alternating with it off: from -0.7 % to +5 % in three
// sets of rounds, ahead in 12 of 16 (README, Performance).
class RteMemoryResource final : public std::pmr::memory_resource {
public:
    static constexpr std::size_t kLargeBytes = std::size_t{2} << 20;

    RteMemoryResource(int socket, LargePages large);
    std::size_t bytes_in_use() const { return in_use_; }
    // The part of bytes_in_use() mapped outside DPDK's heap.
    std::size_t transparent_bytes() const { return transparent_; }

private:
    void* do_allocate(std::size_t bytes, std::size_t align) override;
    void do_deallocate(void* p, std::size_t bytes, std::size_t align) override;
    bool do_is_equal(const std::pmr::memory_resource& other) const noexcept override {
        return this == &other;
    }
    bool mapped_alone(std::size_t bytes, std::size_t align) const {
        return large_ == LargePages::transparent && bytes >= kLargeBytes && align <= kLargeBytes;
    }
    void* map_transparent(std::size_t bytes);

    int socket_;
    LargePages large_;
    std::size_t in_use_ = 0;
    std::size_t transparent_ = 0;
};

}  // namespace tcpfp::app
