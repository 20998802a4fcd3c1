// The engine allocates only at construction, and only from the memory
// resource it is given: a DPDK worker hands it hugepage-backed memory and
// must never reach the global heap on the packet path. This binary replaces
// the global operator new (hence its own executable) to count heap
// allocations made from inside engine calls; the harness brackets its calls
// into the engines, and the test brackets its own.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <new>
#include <vector>

#include "fixtures/counting_resource.hpp"
#include "fixtures/global_new.hpp"
#include "util.hpp"

namespace {

// Counted only while watching and inside an engine call: the harness and
// gtest allocate freely around the engines.
bool g_watching = false;
int g_engine_depth = 0;
std::size_t g_engine_heap_allocations = 0;
std::size_t g_other_heap_allocations = 0;

void note_heap_allocation() {
    if (!g_watching) return;
    if (g_engine_depth > 0) {
        ++g_engine_heap_allocations;
    } else {
        ++g_other_heap_allocations;
    }
}

// The engines' resource takes its memory straight from malloc, so its own
// allocations never count as heap use by the engine.
void* aligned_malloc(std::size_t size, std::size_t alignment) {
    const std::size_t a = std::max(alignment, alignof(std::max_align_t));
    // aligned_alloc wants a size that is a multiple of the alignment.
    const std::size_t rounded = (size + a - 1) / a * a;
    if (void* p = std::aligned_alloc(a, rounded == 0 ? a : rounded)) return p;
    throw std::bad_alloc();
}

}  // namespace

// Every global operator new of this executable comes here (fixtures/global_new.cpp).
void tcpfp::test::note_global_new() { note_heap_allocation(); }

namespace tcpfp::tcp::test {
namespace {

void enter_engine() {
    ++g_engine_depth;
}
void leave_engine() {
    --g_engine_depth;
}
constexpr EngineCallHooks kHooks{enter_engine, leave_engine};

// The upstream of the test's counting resources: std::malloc directly, so
// what an engine takes from its resource is not also seen as heap use
// (new_delete_resource would call the counted operator new).
class MallocResource : public std::pmr::memory_resource {
    void* do_allocate(std::size_t bytes, std::size_t alignment) override {
        return aligned_malloc(bytes, alignment);
    }
    void do_deallocate(void* p, std::size_t, std::size_t) override { std::free(p); }
    bool do_is_equal(const std::pmr::memory_resource& other) const noexcept override {
        return this == &other;
    }
};

// The test's own calls into an engine, counted like the harness's.
struct EngineCall {
    EngineCall() { enter_engine(); }
    ~EngineCall() { leave_engine(); }
    EngineCall(const EngineCall&) = delete;
    EngineCall& operator=(const EngineCall&) = delete;
};

// A measured phase: the heap counters start at zero and count until the end
// of the scope.
struct HeapWatch {
    HeapWatch() {
        g_engine_heap_allocations = 0;
        g_other_heap_allocations = 0;
        g_watching = true;
    }
    ~HeapWatch() { g_watching = false; }
    HeapWatch(const HeapWatch&) = delete;
    HeapWatch& operator=(const HeapWatch&) = delete;
};

std::vector<std::uint8_t> pattern(std::size_t n, std::uint32_t seed) {
    std::vector<std::uint8_t> v(n);
    std::uint32_t x = seed;
    for (auto& b : v) {
        x = x * 1664525u + 1013904223u;
        b = static_cast<std::uint8_t>(x >> 24);
    }
    return v;
}

// Reads an engine value inside an engine call; the caller asserts on it
// outside, where a failing assertion may allocate its message.
template <class F>
auto read_engine(F&& f) {
    const EngineCall call;
    return f();
}

// Construction is where the engine allocates, all of it from its resource
// (none from the heap or the default resource); destruction gives all of it
// back.
TEST(EngineHeap, ConstructionAllocatesOnlyFromItsResource) {
    const EngineConfig config = test_config();
    MallocResource upstream;
    CountingResource mr(&upstream);
    CountingResource default_mr(&upstream);
    std::size_t bytes_while_alive = 0;
    {
        const ScopedDefaultResource scope(&default_mr);
        const HeapWatch watch;
        {
            const EngineCall call;
            const Engine engine(config, Instant::from_micros(1'000'000), &mr);
            bytes_while_alive = mr.bytes_outstanding();
        }
        EXPECT_GT(bytes_while_alive, 0u);
        EXPECT_EQ(g_engine_heap_allocations, 0u) << "global operator new during construction";
        EXPECT_EQ(default_mr.allocations(), 0u) << "the default resource during construction";
    }
    EXPECT_EQ(mr.bytes_outstanding(), 0u) << "not all freed at destruction";
}

// reset() reuses the memory it has: nothing from the heap, the default
// resource or even its own resource (the fuzz targets reset per input).
TEST(EngineHeap, ResetAllocatesNothing) {
    const EngineConfig config = test_config();
    MallocResource upstream;
    CountingResource mr(&upstream);
    CountingResource default_mr(&upstream);
    {
        const EngineCall call;
        Engine engine(config, Instant::from_micros(1'000'000), &mr);
        ConnId l, c;
        ASSERT_TRUE(engine.add_address(kHostA));
        ASSERT_EQ(engine.listen(kHostA, 80, 4, l), 0);
        ASSERT_EQ(engine.connect({kHostB, 80, kHostA, 0, {}}, Instant::from_micros(1'000'000), c), 0);
        const std::size_t allocations = mr.allocations();
        {
            const ScopedDefaultResource scope(&default_mr);
            const HeapWatch watch;
            EngineConfig other = config;
            other.seed = 77;
            other.buffer_size = config.buffer_size / 2;
            engine.reset(other, Instant::from_micros(9'000'000));
            engine.reset(config, Instant::from_micros(1'000'000));
            EXPECT_EQ(g_engine_heap_allocations, 0u) << "global operator new during reset";
        }
        EXPECT_EQ(default_mr.allocations(), 0u) << "the default resource during reset";
        EXPECT_EQ(mr.allocations(), allocations) << "its own resource during reset";
        EXPECT_EQ(engine.connection_count(), 0u);
    }
    EXPECT_EQ(mr.bytes_outstanding(), 0u) << "not all freed at destruction";
}

// One direction's progress through the transfer; the receive buffer is
// sized up front so the test itself never grows anything.
struct Stream {
    std::vector<std::uint8_t> data;
    std::size_t sent = 0;
    std::vector<std::uint8_t> received;
    std::size_t got = 0;
    explicit Stream(std::vector<std::uint8_t> d) : data(std::move(d)), received(data.size()) {}
    bool done() const { return got == data.size(); }
};

void pump(Net& net, Engine& from, ConnId src, Engine& to, ConnId dst, Stream& s) {
    const EngineCall call;
    if (s.sent < s.data.size()) {
        const auto n = from.send(src, std::span(s.data).subspan(s.sent), net.now());
        if (n > 0) s.sent += static_cast<std::size_t>(n);
    }
    for (;;) {
        const auto n = to.recv(dst, std::span(s.received).subspan(s.got), net.now());
        if (n <= 0) break;
        s.got += static_cast<std::size_t>(n);
    }
}

// Connects A to B, then moves both streams to completion under the link's
// impairment; false if it stalls.
bool connect_and_transfer(Net& net, ConnId& listener, ConnId& a, ConnId& b, Stream& up,
                          Stream& down) {
    const bool opened = read_engine([&] {
        return net.b().listen(kHostB, 5002, 16, listener) == 0 &&
               net.a().connect({kHostB, 5002, kHostA, 0, {}}, net.now(), a) == 0;
    });
    if (!opened) return false;
    const bool accepted =
        net.run_until([&] { return read_engine([&] { return net.b().accept(listener, b) == 0; }); },
                      Duration::seconds(5));
    if (!accepted) return false;
    net.impair().drop = 0.02;
    net.impair().reorder = 0.05;
    net.impair().duplicate = 0.02;
    net.impair().delay = Duration::millis(1);
    const Instant start = net.now();
    while (!up.done() || !down.done()) {
        pump(net, net.a(), a, net.b(), b, up);
        pump(net, net.b(), b, net.a(), a, down);
        net.run_for(Duration::millis(5));
        if (net.now() - start > Duration::seconds(600)) return false;
    }
    return true;
}

// Connect, 1 MB each way under loss, reordering and duplication with SACK
// and timestamps, close on both sides and wait out TIME_WAIT: after
// construction, nothing of this allocates, from the engines' resource, the
// default resource, or the global heap.
TEST(EngineHeap, ConnectTransferAndCloseAllocateNothing) {
    constexpr std::size_t kSize = 1u << 20;
    EngineConfig config = test_config();
    config.sack = true;
    config.timestamps = true;
    MallocResource upstream;
    CountingResource engine_mr(&upstream);
    CountingResource default_mr(&upstream);
    Net net(config, config, /*seed=*/14, &engine_mr);
    net.set_engine_call_hooks(kHooks);
    Stream up(pattern(kSize, 1)), down(pattern(kSize, 2));
    ConnId listener{}, a{}, b{};
    engine_mr.reset_counts();
    {
        const ScopedDefaultResource scope(&default_mr);
        const HeapWatch watch;
        ASSERT_TRUE(connect_and_transfer(net, listener, a, b, up, down))
            << up.got << " " << down.got;
        ConnInfo info;
        ASSERT_EQ(read_engine([&] { return net.a().info(a, info); }), 0);
        EXPECT_TRUE(info.sack_ok);
        EXPECT_TRUE(info.ts_ok);
        EXPECT_GT(read_engine([&] {
                      return net.a().counters().get(Mib::retrans_segs) +
                             net.b().counters().get(Mib::retrans_segs);
                  }),
                  0u)
            << "no loss to recover from";
        ASSERT_TRUE(read_engine([&] {
            return net.a().close(a, net.now()) == 0 && net.b().close(b, net.now()) == 0 &&
                   net.b().close(listener, net.now()) == 0;
        }));
        net.impair() = Impairment{};
        net.run_for(Duration::seconds(70));  // past TIME_WAIT (2 * 30 s MSL)
        EXPECT_EQ(
            read_engine([&] { return net.a().connection_count() + net.b().connection_count(); }),
            0u);
        EXPECT_EQ(
            read_engine([&] { return net.a().time_wait_count() + net.b().time_wait_count(); }), 0u);
        EXPECT_GT(read_engine([&] {
                      return net.a().counters().get(Mib::timewait_expired) +
                             net.b().counters().get(Mib::timewait_expired);
                  }),
                  0u)
            << "no TIME_WAIT expired";
        EXPECT_EQ(engine_mr.allocations(), 0u) << "the engines' resource after construction";
        EXPECT_EQ(default_mr.allocations(), 0u) << "the default resource";
        EXPECT_EQ(g_engine_heap_allocations, 0u) << "global operator new inside engine calls";
    }
    EXPECT_TRUE(up.received == up.data);
    EXPECT_TRUE(down.received == down.data);
}

}  // namespace
}  // namespace tcpfp::tcp::test
