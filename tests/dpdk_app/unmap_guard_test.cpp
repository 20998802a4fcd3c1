// dpdk_app/unmap_guard: a munmap from a thread that is not a worker waits
// until every active worker has started a new loop iteration (the memif
// PMD's race, dpdk_app/README.md), and does not wait when no worker runs.
// The memory-ordering half (membarrier or a locked add) is not observable
// here; the handshake is. Needs no EAL.
#include <gtest/gtest.h>
#include <sys/mman.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <thread>

#include "dpdk_app/unmap_guard.hpp"

namespace tcpfp::app {
namespace {

using Clock = std::chrono::steady_clock;

void* map_page() {
    void* p = mmap(nullptr, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    EXPECT_NE(p, MAP_FAILED);
    return p;
}

TEST(UnmapGuard, NoActiveWorkerNoWait) {
    std::printf("workers' barrier: %s\n", unmap_guard::asymmetric() ? "membarrier" : "locked add");
    const std::uint64_t before = unmap_guard::waits();
    EXPECT_EQ(munmap(map_page(), 4096), 0);
    EXPECT_EQ(unmap_guard::waits(), before);
}

// The worker is "inside a burst" (it passed the top of its loop and has not
// come back): the munmap must not return before the worker's next
// quiescent(). The worker only takes that step once the munmap is counted
// as waiting, so the order is fixed however busy the machine is; only the
// guard's 1 s give-up could end the wait first, and then the elapsed time
// says so.
TEST(UnmapGuard, MunmapWaitsForTheWorkersNextIteration) {
    std::atomic<bool> quiesced{false};
    std::atomic<bool> leave{false};
    std::atomic<bool> in_burst{false};
    const std::uint64_t before = unmap_guard::waits();
    std::thread worker([&] {
        unmap_guard::enter_worker(3);
        unmap_guard::quiescent(3);  // top of the loop; the "burst" runs now
        in_burst = true;
        while (unmap_guard::waits() == before) std::this_thread::yield();
        quiesced = true;
        unmap_guard::quiescent(3);  // the next iteration
        while (!leave) std::this_thread::yield();
        unmap_guard::leave_worker(3);
    });
    while (!in_burst) std::this_thread::yield();
    void* page = map_page();
    const auto start = Clock::now();
    EXPECT_EQ(munmap(page, 4096), 0);
    const auto waited = Clock::now() - start;
    const bool saw_quiescent = quiesced;
    leave = true;
    worker.join();
    EXPECT_EQ(unmap_guard::waits(), before + 1);
    EXPECT_TRUE(saw_quiescent || waited >= std::chrono::seconds(1))
        << "munmap returned while the worker was still in its burst, after "
        << std::chrono::duration<double>(waited).count() << " s";
    // After leave_worker() nobody is waited for.
    const std::uint64_t after = unmap_guard::waits();
    EXPECT_EQ(munmap(map_page(), 4096), 0);
    EXPECT_EQ(unmap_guard::waits(), after);
}

}  // namespace
}  // namespace tcpfp::app
