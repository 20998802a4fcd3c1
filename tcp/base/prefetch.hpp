// A cache-line prefetch that the optimizer cannot delete.
#pragma once

namespace tcpfp {

// Starts loading the cache line holding `p`; changes nothing observable.
//
// `__builtin_prefetch` alone has no side effect in GCC's eyes: a function
// that only prefetches (Worker::prefetch_burst: peek at each frame, hash,
// prefetch) is found const by LTO's interprocedural analysis, and its call
// is deleted as dead code; the RX burst's bucket prefetch was gone from the
// binary until tests/dpdk_app/prefetch_kept_test.py looked for it. The empty
// volatile asm that takes the address is such a side effect, and costs no
// instruction.
inline void prefetch_line(const void* p) {
#if defined(__GNUC__)
    __builtin_prefetch(p);
    asm volatile("" : : "r"(p));
#else
    (void)p;
#endif
}

}  // namespace tcpfp
