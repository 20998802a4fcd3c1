#include "dpdk_app/unmap_guard.hpp"

#include <linux/membarrier.h>
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

// An asymmetric barrier (membarrier(2), Linux 4.14): the rare side, a
// munmap, makes every running thread of the process execute a full memory
// barrier, so the workers' side of the handshake needs none. Registered
// once before main(), so both sides agree on the mode before any worker or
// PMD runs; constant afterwards. Without it (an older kernel, a seccomp
// filter) each iteration pays a locked add, as before.
bool register_membarrier() {
    const long cmds = syscall(SYS_membarrier, MEMBARRIER_CMD_QUERY, 0, 0);
    return cmds > 0 && (cmds & MEMBARRIER_CMD_PRIVATE_EXPEDITED) != 0 &&
           syscall(SYS_membarrier, MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED, 0, 0) == 0;
}
const bool g_asymmetric = register_membarrier();

// Waits until each worker active now has passed the top of its loop once
// more. A full barrier on both sides (here a fence or membarrier, in the
// worker a locked add or membarrier's): either the worker's next read of
// the PMD's flag sees the disconnect, or this thread sees the worker's new
// epoch.
void wait_for_workers() {
    std::atomic_thread_fence(std::memory_order_seq_cst);
    if (g_asymmetric) (void)syscall(SYS_membarrier, MEMBARRIER_CMD_PRIVATE_EXPEDITED, 0, 0);
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
    std::atomic<std::uint64_t>& epoch = g_slots[index].epoch;
    if (g_asymmetric) {
        // Only this thread writes its epoch. The full barrier that keeps the
        // burst's read of the PMD's state from passing this store is the one
        // membarrier() runs on this CPU when a munmap waits; here the
        // compiler must only keep the order. A locked add was ~8 % of a
        // saturated RPS worker (a store-buffer drain every iteration).
        epoch.store(epoch.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
        std::atomic_signal_fence(std::memory_order_seq_cst);
        return;
    }
    // An exchange, not a plain store: a full barrier before the burst reads
    // the PMD's state (x86 would otherwise let that read pass this store).
    (void)epoch.fetch_add(1, std::memory_order_seq_cst);
}

bool asymmetric() { return g_asymmetric; }

std::uint64_t waits() { return g_waits.load(std::memory_order_relaxed); }

}  // namespace tcpfp::app::unmap_guard

// The PMD's munmap (see unmap_guard.hpp). Same contract as munmap(2).
extern "C" int munmap(void* addr, size_t length) noexcept {
    if (!tcpfp::app::unmap_guard::t_is_worker) tcpfp::app::unmap_guard::wait_for_workers();
    return static_cast<int>(syscall(SYS_munmap, addr, length));
}
