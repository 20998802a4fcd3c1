// A workaround for a race in DPDK 22.11's net_memif (still on DPDK main in
// December 2026): when the peer goes, the EAL interrupt thread runs
// memif_disconnect(), which clears the "connected" flag and then munmap()s
// the shared rings at once, while a worker may be inside rte_eth_rx_burst or
// rte_eth_tx_burst reading them. The worker then faults (seen in
// tests/e2e/memif_link_test.py: the survivor died with SIGSEGV in round 8).
//
// tcpfp defines munmap() itself, exported so the PMD plugin binds to it
// (meson: --export-dynamic-symbol=munmap). Called from any thread that is
// not a worker, it first waits until every active worker has started a new
// loop iteration, so no burst that began before the PMD's flag change is
// still running, and only then unmaps. glibc's own unmapping (malloc, thread
// stacks) calls its internal alias and never comes here.
//
// The epochs are the one piece of process-wide mutable state in dpdk_app/
// besides the signal flag: munmap() has no argument to carry a context.
#pragma once

#include <cstdint>

namespace tcpfp::app::unmap_guard {

// The calling thread is worker `index` from now on: it bumps its epoch
// every loop iteration and never waits on itself.
void enter_worker(unsigned index);
// The worker stops polling: munmap no longer waits for it.
void leave_worker(unsigned index);
// Top of each loop iteration, before any burst.
void quiescent(unsigned index);
// How many munmap calls waited for the workers (for the final statistics).
std::uint64_t waits();
// Whether the workers' side runs without a barrier of its own (membarrier(2)
// registered at start-up) or with a locked add per loop iteration.
bool asymmetric();

}  // namespace tcpfp::app::unmap_guard
