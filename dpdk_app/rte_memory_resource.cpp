#include "dpdk_app/rte_memory_resource.hpp"

#include <numa.h>
#include <rte_malloc.h>
#include <sys/mman.h>

#include <cstdint>
#include <new>

namespace tcpfp::app {

namespace {

constexpr std::size_t kHugePage = RteMemoryResource::kLargeBytes;

std::size_t round_up(std::size_t n, std::size_t to) { return (n + to - 1) & ~(to - 1); }

}  // namespace

RteMemoryResource::RteMemoryResource(int socket, LargePages large) : socket_(socket), large_(large) {}

void* RteMemoryResource::do_allocate(std::size_t bytes, std::size_t align) {
    void* p = nullptr;
    if (mapped_alone(bytes, align)) {
        p = map_transparent(bytes);
        transparent_ += bytes;
    } else {
        // rte_malloc wants a power of two; 0 means "cache line".
        p = rte_malloc_socket("tcpfp", bytes, static_cast<unsigned>(align), socket_);
        if (p == nullptr) throw std::bad_alloc();
    }
    in_use_ += bytes;
    return p;
}

// Maps one huge page more than needed and trims the ends, so the block
// starts on a 2 MiB boundary: only an aligned 2 MiB range can be one huge
// page. The hint and the node binding precede the first touch, which then
// faults in whole huge pages where the kernel has them (4 KiB pages where
// it has not). Pages are faulted in as first used, as DPDK's own memory is
// without hugepages: RSS grows with the chunks in use, not the pool's size.
void* RteMemoryResource::map_transparent(std::size_t bytes) {
    const std::size_t len = round_up(bytes, kHugePage);
    void* raw = mmap(nullptr, len + kHugePage, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (raw == MAP_FAILED) throw std::bad_alloc();
    const auto start = reinterpret_cast<std::uintptr_t>(raw);
    const std::uintptr_t aligned = round_up(start, kHugePage);
    if (aligned > start) munmap(raw, aligned - start);
    const std::size_t tail = start + len + kHugePage - (aligned + len);
    if (tail > 0) munmap(reinterpret_cast<void*>(aligned + len), tail);
    auto* p = reinterpret_cast<std::uint8_t*>(aligned);
    (void)madvise(p, len, MADV_HUGEPAGE);  // EINVAL without THP: 4 KiB pages, as DPDK's
    if (socket_ >= 0 && numa_available() >= 0) numa_tonode_memory(p, len, socket_);
    return p;
}

void RteMemoryResource::do_deallocate(void* p, std::size_t bytes, std::size_t align) {
    if (mapped_alone(bytes, align)) {
        munmap(p, round_up(bytes, kHugePage));
        transparent_ -= bytes;
    } else {
        rte_free(p);
    }
    in_use_ -= bytes;
}

}  // namespace tcpfp::app
