#include "dpdk_app/unmap_guard.hpp"

#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <thread>

#include "dpdk_app/app_config.hpp"

namespace tcpfp::app::unmap_guard {

namespace {
struct alignas(64) Slot {
    std::atomic<std::uint64_t> epoch{0};
    std::atomic<bool> active{false};
};
Slot g_slots[kMaxWorkers];
std::atomic<std::uint64_t> g_waits{0};
thread_local bool t_is_worker = false;

constexpr auto kGiveUp = std::chrono::seconds(1);  // a worker stuck that long is not in a burst

// Waits until each worker active now has passed the top of its loop once
// more. seq_cst on both sides: either the worker's next read of the PMD's
// flag sees the disconnect, or this thread sees the worker's new epoch.
void wait_for_workers() {
    std::atomic_thread_fence(std::memory_order_seq_cst);
    std::uint64_t seen[kMaxWorkers];
    bool pending = false;
    for (unsigned w = 0; w < kMaxWorkers; ++w) {
        seen[w] = g_slots[w].epoch.load(std::memory_order_seq_cst);
        pending |= g_slots[w].active.load(std::memory_order_seq_cst);
    }
    if (!pending) return;
    g_waits.fetch_add(1, std::memory_order_relaxed);
    const auto deadline = std::chrono::steady_clock::now() + kGiveUp;
    for (unsigned w = 0; w < kMaxWorkers; ++w) {
        while (g_slots[w].active.load(std::memory_order_seq_cst) &&
               g_slots[w].epoch.load(std::memory_order_seq_cst) == seen[w] &&
               std::chrono::steady_clock::now() < deadline) {
            std::this_thread::yield();
        }
    }
}
}  // namespace

void enter_worker(unsigned index) {
    t_is_worker = true;
    g_slots[index].active.store(true, std::memory_order_seq_cst);
}

void leave_worker(unsigned index) { g_slots[index].active.store(false, std::memory_order_seq_cst); }

void quiescent(unsigned index) {
    // An exchange, not a plain store: a full barrier before the burst reads
    // the PMD's state (x86 would otherwise let that read pass this store).
    (void)g_slots[index].epoch.fetch_add(1, std::memory_order_seq_cst);
}

std::uint64_t waits() { return g_waits.load(std::memory_order_relaxed); }

}  // namespace tcpfp::app::unmap_guard

// The PMD's munmap (see unmap_guard.hpp). Same contract as munmap(2).
extern "C" int munmap(void* addr, size_t length) noexcept {
    if (!tcpfp::app::unmap_guard::t_is_worker) tcpfp::app::unmap_guard::wait_for_workers();
    return static_cast<int>(syscall(SYS_munmap, addr, length));
}
