// The engine's memory resource (dpdk_app/rte_memory_resource.hpp): which
// allocations leave DPDK's heap for transparent huge pages, their alignment,
// the MADV_HUGEPAGE hint, the NUMA binding, and the accounting.
#include <gtest/gtest.h>
#include <numa.h>
#include <numaif.h>
#include <rte_memory.h>

#include <cstdint>
#include <cstring>
#include <fstream>
#include <sstream>
#include <string>

#include "dpdk_app/rte_memory_resource.hpp"

namespace tcpfp::app {
namespace {

constexpr std::size_t kMiB = std::size_t{1} << 20;

bool in_dpdk_memory(const void* p) { return rte_mem_virt2memseg_list(p) != nullptr; }

// The VmFlags line of the mapping holding `p` in /proc/self/smaps
// ("hg": MADV_HUGEPAGE was given for it), or "" when no mapping holds it.
std::string vm_flags_of(const void* p) {
    const auto addr = reinterpret_cast<std::uintptr_t>(p);
    std::ifstream smaps("/proc/self/smaps");
    std::string line;
    bool inside = false;
    while (std::getline(smaps, line)) {
        std::uintptr_t lo = 0, hi = 0;
        char dash = 0;
        std::istringstream head(line);
        if (head >> std::hex >> lo >> dash >> hi && dash == '-') {
            inside = lo <= addr && addr < hi;
        } else if (inside && line.rfind("VmFlags:", 0) == 0) {
            return line;
        }
    }
    return "";
}

TEST(MemoryResource, TransparentPutsLargeBlocksOnAlignedHugePageMappings) {
    RteMemoryResource mr(SOCKET_ID_ANY, LargePages::transparent);
    const std::size_t bytes = 5 * kMiB + 123;  // not a multiple of the huge page
    void* p = mr.allocate(bytes, 64);
    EXPECT_EQ(reinterpret_cast<std::uintptr_t>(p) % RteMemoryResource::kLargeBytes, 0u);
    EXPECT_FALSE(in_dpdk_memory(p));
    EXPECT_NE(vm_flags_of(p).find(" hg"), std::string::npos) << vm_flags_of(p);
    EXPECT_EQ(mr.bytes_in_use(), bytes);
    EXPECT_EQ(mr.transparent_bytes(), bytes);
    // Zeroed as any fresh mapping, and writable to its last byte.
    auto* b = static_cast<std::uint8_t*>(p);
    EXPECT_EQ(b[0], 0);
    EXPECT_EQ(b[bytes - 1], 0);
    std::memset(b, 0xa5, bytes);
    EXPECT_EQ(b[bytes - 1], 0xa5);
    mr.deallocate(p, bytes, 64);
    EXPECT_EQ(mr.bytes_in_use(), 0u);
    EXPECT_EQ(mr.transparent_bytes(), 0u);
    EXPECT_EQ(vm_flags_of(p), "") << "unmapped whole";
}

TEST(MemoryResource, TransparentKeepsSmallBlocksInDpdkHeap) {
    RteMemoryResource mr(SOCKET_ID_ANY, LargePages::transparent);
    const std::size_t bytes = RteMemoryResource::kLargeBytes - 1;
    void* p = mr.allocate(bytes, 64);
    EXPECT_TRUE(in_dpdk_memory(p));
    EXPECT_EQ(mr.bytes_in_use(), bytes);
    EXPECT_EQ(mr.transparent_bytes(), 0u);
    mr.deallocate(p, bytes, 64);
    EXPECT_EQ(mr.bytes_in_use(), 0u);
}

TEST(MemoryResource, DpdkModeKeepsEverythingInDpdkHeap) {
    RteMemoryResource mr(SOCKET_ID_ANY, LargePages::dpdk);
    void* p = mr.allocate(4 * kMiB, 64);
    EXPECT_TRUE(in_dpdk_memory(p));
    EXPECT_EQ(mr.transparent_bytes(), 0u);
    mr.deallocate(p, 4 * kMiB, 64);
    EXPECT_EQ(mr.bytes_in_use(), 0u);
}

// Bound to the socket's node (node 0: every machine has it) before the
// first touch, as rte_malloc_socket would place it.
TEST(MemoryResource, TransparentBindsToTheSocketsNode) {
    ASSERT_GE(numa_available(), 0) << "libnuma finds no NUMA support in this kernel";
    RteMemoryResource mr(0, LargePages::transparent);
    void* p = mr.allocate(2 * kMiB, 64);
    int mode = -1;
    unsigned long nodes = 0;
    ASSERT_EQ(get_mempolicy(&mode, &nodes, sizeof nodes * 8, p, MPOL_F_ADDR), 0);
    EXPECT_EQ(mode, MPOL_BIND);
    EXPECT_EQ(nodes, 1ul) << "node 0 only";
    mr.deallocate(p, 2 * kMiB, 64);
    EXPECT_EQ(mr.transparent_bytes(), 0u);
}

// No node to bind to (SOCKET_ID_ANY): the default policy, as rte_malloc's.
TEST(MemoryResource, TransparentLeavesAnySocketUnbound) {
    RteMemoryResource mr(SOCKET_ID_ANY, LargePages::transparent);
    void* p = mr.allocate(2 * kMiB, 64);
    int mode = -1;
    unsigned long nodes = 0;
    ASSERT_EQ(get_mempolicy(&mode, &nodes, sizeof nodes * 8, p, MPOL_F_ADDR), 0);
    EXPECT_EQ(mode, MPOL_DEFAULT);
    mr.deallocate(p, 2 * kMiB, 64);
}

}  // namespace
}  // namespace tcpfp::app
