// No allocation after construction: every byte comes from the memory resource
// in the constructors, and neither the resource nor the global heap is asked
// for more while the structures are filled, overfilled, churned and emptied.
#include <gtest/gtest.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <memory_resource>
#include <new>

#include "fixtures/global_new.hpp"
#include "tcp/table/conn_table.hpp"
#include "tcp/table/listener_table.hpp"
#include "tcp/table/pool.hpp"

// Global heap counter: this executable replaces the global operator new
// (fixtures/global_new.cpp).
namespace {
std::size_t g_heap_allocs = 0;
}  // namespace

void tcpfp::test::note_global_new() { ++g_heap_allocs; }

namespace tcpfp::tcp {
namespace {

class CountingResource : public std::pmr::memory_resource {
public:
    std::size_t allocs = 0;
    std::size_t deallocs = 0;
    std::size_t outstanding = 0;

private:
    void* do_allocate(std::size_t bytes, std::size_t align) override {
        ++allocs;
        outstanding += bytes;
        return std::pmr::new_delete_resource()->allocate(bytes, align);
    }
    void do_deallocate(void* p, std::size_t bytes, std::size_t align) override {
        ++deallocs;
        outstanding -= bytes;
        std::pmr::new_delete_resource()->deallocate(p, bytes, align);
    }
    bool do_is_equal(const memory_resource& o) const noexcept override { return this == &o; }
};

struct Tcb {
    std::uint64_t snd_una = 0;
    std::uint64_t rcv_nxt = 0;
    std::uint32_t state = 0;
    std::uint8_t pad[200]{};
};

TEST(TableAlloc, NoAllocationAfterConstruction) {
    CountingResource res;
    {
        Pool<Tcb> pool(1000, &res);
        ConnTable conns(1000, 0x5eed, &res);
        ListenerTable listeners(64, &res);
        EXPECT_EQ(res.allocs, 3u);  // one block each
        const std::size_t res_before = res.allocs;
        const std::size_t heap_before = g_heap_allocs;

        // Nothing below may allocate; results are checked after the window
        // (gtest's assertion machinery could allocate itself).
        std::size_t failures = 0;
        PoolHandle handles[1000];
        for (std::uint32_t round = 0; round < 20; ++round) {
            for (std::uint32_t i = 0; i < 1000; ++i) {
                handles[i] = pool.acquire();
                const FourTuple k{wire::Ipv4Addr{round}, wire::Ipv4Addr{i}, 80,
                                  static_cast<std::uint16_t>(i)};
                if (conns.insert(k, handles[i].index) != InsertResult::inserted) ++failures;
            }
            if (!pool.acquire().is_invalid()) ++failures;
            if (conns.insert(FourTuple{}, 1) != InsertResult::full) ++failures;
            std::size_t visited = 0;
            pool.for_each([&](PoolHandle, Tcb&) { ++visited; });
            conns.for_each([&](const FourTuple&, std::uint32_t) { ++visited; });
            if (visited != 2000) ++failures;
            if (conns.max_probe_length() == 0 || conns.mean_probe_length() < 1.0) ++failures;
            for (std::uint32_t i = 0; i < 1000; ++i) {
                const FourTuple k{wire::Ipv4Addr{round}, wire::Ipv4Addr{i}, 80,
                                  static_cast<std::uint16_t>(i)};
                const auto v = conns.find(k);
                if (!v || pool.get(pool.handle_of(*v)) == nullptr) ++failures;
                if (!conns.update(k, *v)) ++failures;
                if (!conns.erase(k) || !pool.release(handles[i])) ++failures;
                if (pool.release(handles[i])) ++failures;  // stale
            }
            conns.clear();

            for (std::uint16_t p = 0; p < 64; ++p) {
                const wire::Ipv4Addr a{p % 2 ? 0u : 0x0a000001u};
                if (listeners.insert(a, p, p) != InsertResult::inserted) ++failures;
            }
            if (listeners.insert(wire::Ipv4Addr{}, 999, 1) != InsertResult::full) ++failures;
            if (listeners.insert(wire::Ipv4Addr{}, 1, 1) != InsertResult::exists) ++failures;
            for (std::uint16_t p = 0; p < 64; ++p) {
                if (listeners.lookup(wire::Ipv4Addr{0x0a000001u}, p) != p) ++failures;
            }
            listeners.for_each([&](wire::Ipv4Addr, std::uint16_t, std::uint32_t) {});
            for (std::uint16_t p = 0; p < 32; ++p) {
                if (!listeners.erase(wire::Ipv4Addr{p % 2 ? 0u : 0x0a000001u}, p)) ++failures;
            }
            listeners.clear();
        }

        const std::size_t res_after = res.allocs;
        const std::size_t heap_after = g_heap_allocs;
        EXPECT_EQ(failures, 0u);
        EXPECT_EQ(res_after, res_before);
        EXPECT_EQ(heap_after, heap_before);
    }
    EXPECT_EQ(res.deallocs, 3u);
    EXPECT_EQ(res.outstanding, 0u);
}

// The default resource is used when none is given, and is the only source.
TEST(TableAlloc, DefaultResourceIsUsed) {
    CountingResource res;
    std::pmr::memory_resource* old = std::pmr::set_default_resource(&res);
    {
        Pool<int> pool(10);
        ConnTable conns(10, 1);
        ListenerTable listeners(10);
        EXPECT_EQ(res.allocs, 3u);
    }
    std::pmr::set_default_resource(old);
    EXPECT_EQ(res.outstanding, 0u);
}

// Sanity check of the counter itself, so a zero delta above means something.
TEST(TableAlloc, HeapCounterCounts) {
    static void* volatile sink = nullptr;
    const std::size_t before = g_heap_allocs;
    sink = ::operator new(16);  // a direct call: not elidable like a new-expression
    ::operator delete(sink);
    EXPECT_EQ(g_heap_allocs, before + 1);
}

}  // namespace
}  // namespace tcpfp::tcp
