// tcpfp-iofwd: the packet-I/O limit of a link, with no TCP work at all, for
// scripts/bench.sh. Two processes on the same net_memif pair and the same
// lcores as tcpfp's benchmark pair:
//
//   tcpfp-iofwd [EAL: --vdev=net_memif0,role=server,...] -- --role reflect
//   tcpfp-iofwd [EAL: --vdev=net_memif0,role=client,...] -- --role gen --size 130 --duration 3
//
// gen allocates frames of --size bytes (an Ethernet + IPv4 header, like the
// frames tcpfp sends), keeps at most --window of them in flight and frees
// what comes back; reflect sends every received frame straight back. gen
// prints one JSON line with the packets per second it sent and received;
// reflect runs until SIGINT/SIGTERM and prints its own counts.
#include <rte_eal.h>
#include <rte_ethdev.h>
#include <rte_launch.h>
#include <rte_lcore.h>
#include <rte_mbuf.h>

#include <atomic>
#include <csignal>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <string_view>
#include <unistd.h>

#include <rte_cycles.h>

#include "dpdk_app/unmap_guard.hpp"

namespace {

namespace unmap_guard = tcpfp::app::unmap_guard;

constexpr std::uint16_t kPort = 0;
constexpr unsigned kBurst = 32;

volatile std::sig_atomic_t g_stop = 0;
void on_signal(int) { g_stop = 1; }

struct Options {
    std::string role;
    std::uint16_t size = 130;   // frame bytes without the FCS
    double duration = 3.0;      // seconds measured, after a warm-up
    unsigned window = 1024;     // frames in flight (gen)
};

struct Counts {
    std::uint64_t tx = 0;
    std::uint64_t rx = 0;
    std::uint64_t tx_full = 0;  // frames the TX ring refused (freed and counted, never lost silently)
    double seconds = 0;
};

struct Ctx {
    Options opt;
    rte_mempool* pool = nullptr;
    Counts counts;
    std::atomic<bool> done{false};  // set by the worker; the main lcore sleeps until then
};

// An Ethernet + IPv4 header the size of tcpfp's frames; the payload is
// whatever the mbuf holds: memif copies every byte either way.
void fill_frame(rte_mbuf* m, std::uint16_t size) {
    static const std::uint8_t kHeader[34] = {
        0x02, 0, 0, 0, 0, 0x02, 0x02, 0, 0, 0, 0, 0x01, 0x08, 0x00,      // Ethernet, IPv4
        0x45, 0, 0, 0x74, 0, 0, 0x40, 0, 0x40, 0x06, 0, 0,               // IPv4 header
        172, 16, 48, 13, 172, 16, 48, 1};
    std::memcpy(rte_pktmbuf_mtod(m, void*), kHeader, sizeof kHeader);
    m->data_len = size;
    m->pkt_len = size;
}

void send_all(rte_mbuf** pkts, std::uint16_t n, Counts& c) {
    const std::uint16_t sent = rte_eth_tx_burst(kPort, 0, pkts, n);
    c.tx += sent;
    if (sent < n) {
        c.tx_full += n - sent;
        rte_pktmbuf_free_bulk(pkts + sent, n - sent);
    }
}

int gen_loop(Ctx& ctx) {
    Counts& c = ctx.counts;
    rte_mbuf* pkts[kBurst];
    const std::uint64_t hz = rte_get_tsc_hz();
    const std::uint64_t start = rte_rdtsc();
    const std::uint64_t measure_from = start + hz / 2;  // warm-up: rings fill, caches settle
    const auto measure_until = measure_from + static_cast<std::uint64_t>(ctx.opt.duration * static_cast<double>(hz));
    std::uint64_t inflight = 0;
    Counts at_start{};
    bool measuring = false;
    for (std::uint64_t now = start; now < measure_until && !g_stop; now = rte_rdtsc()) {
        unmap_guard::quiescent(0);  // no burst of ours spans a munmap of the rings
        if (!measuring && now >= measure_from) {
            at_start = c;
            measuring = true;
        }
        const std::uint16_t got = rte_eth_rx_burst(kPort, 0, pkts, kBurst);
        if (got > 0) {
            c.rx += got;
            inflight -= got < inflight ? got : inflight;
            rte_pktmbuf_free_bulk(pkts, got);
        }
        if (inflight + kBurst > ctx.opt.window) continue;
        if (rte_pktmbuf_alloc_bulk(ctx.pool, pkts, kBurst) != 0) continue;
        for (unsigned i = 0; i < kBurst; ++i) fill_frame(pkts[i], ctx.opt.size);
        const std::uint64_t before = c.tx;
        send_all(pkts, kBurst, c);
        inflight += c.tx - before;
    }
    c.tx -= at_start.tx;
    c.rx -= at_start.rx;
    c.seconds = ctx.opt.duration;
    return 0;
}

int reflect_loop(Ctx& ctx) {
    Counts& c = ctx.counts;
    rte_mbuf* pkts[kBurst];
    while (!g_stop) {
        unmap_guard::quiescent(0);
        const std::uint16_t got = rte_eth_rx_burst(kPort, 0, pkts, kBurst);
        if (got == 0) continue;
        c.rx += got;
        send_all(pkts, got, c);
    }
    return 0;
}

int worker_main(void* arg) {
    auto& ctx = *static_cast<Ctx*>(arg);
    unmap_guard::enter_worker(0);
    const int rc = ctx.opt.role == "gen" ? gen_loop(ctx) : reflect_loop(ctx);
    unmap_guard::leave_worker(0);
    ctx.done.store(true, std::memory_order_release);
    return rc;
}

bool parse_args(int argc, char** argv, Options& o) {
    for (int i = 1; i < argc; ++i) {
        const std::string_view a = argv[i];
        if (i + 1 >= argc) return false;
        const char* v = argv[++i];
        if (a == "--role") o.role = v;
        else if (a == "--size") o.size = static_cast<std::uint16_t>(std::atoi(v));
        else if (a == "--duration") o.duration = std::atof(v);
        else if (a == "--window") o.window = static_cast<unsigned>(std::atoi(v));
        else return false;
    }
    return (o.role == "gen" || o.role == "reflect") && o.size >= 60 && o.size <= 1514 &&
           o.duration > 0 && o.window >= kBurst;
}

bool setup_port(Ctx& ctx) {
    ctx.pool = rte_pktmbuf_pool_create("iofwd", 16383, 256, 0, RTE_MBUF_DEFAULT_BUF_SIZE,
                                       rte_socket_id());
    if (ctx.pool == nullptr || rte_eth_dev_count_avail() == 0) return false;
    rte_eth_conf conf{};
    if (rte_eth_dev_configure(kPort, 1, 1, &conf) != 0) return false;
    if (rte_eth_rx_queue_setup(kPort, 0, 1024, rte_eth_dev_socket_id(kPort), nullptr, ctx.pool) != 0) return false;
    if (rte_eth_tx_queue_setup(kPort, 0, 1024, rte_eth_dev_socket_id(kPort), nullptr) != 0) return false;
    return rte_eth_dev_start(kPort) == 0;
}

// memif's link comes up once the other process has connected.
bool wait_link_up(double seconds) {
    for (int i = 0; i < static_cast<int>(seconds * 100) && !g_stop; ++i) {
        rte_eth_link link{};
        if (rte_eth_link_get_nowait(kPort, &link) == 0 && link.link_status == RTE_ETH_LINK_UP) return true;
        usleep(10000);
    }
    return false;
}

}  // namespace

int main(int argc, char** argv) {
    const int used = rte_eal_init(argc, argv);
    if (used < 0) {
        std::fprintf(stderr, "tcpfp-iofwd: EAL initialisation failed\n");
        return 1;
    }
    Ctx ctx;
    if (!parse_args(argc - used, argv + used, ctx.opt)) {
        std::fprintf(stderr, "usage: tcpfp-iofwd [EAL args] -- --role gen|reflect [--size B] "
                             "[--duration S] [--window N]\n");
        return 2;
    }
    std::signal(SIGINT, on_signal);
    std::signal(SIGTERM, on_signal);
    if (!setup_port(ctx)) {
        std::fprintf(stderr, "tcpfp-iofwd: port 0 setup failed (pass --vdev=net_memif0,...)\n");
        return 1;
    }
    if (!wait_link_up(30)) {
        std::fprintf(stderr, "tcpfp-iofwd: link did not come up\n");
        return 1;
    }
    const unsigned worker = rte_get_next_lcore(static_cast<unsigned>(-1), 1, 0);
    if (worker >= RTE_MAX_LCORE) {
        std::fprintf(stderr, "tcpfp-iofwd: needs a worker lcore (--lcores=0@(0-1),1@N)\n");
        return 1;
    }
    std::printf("tcpfp-iofwd: %s on lcore %u, link up\n", ctx.opt.role.c_str(), worker);
    std::fflush(stdout);
    rte_eal_remote_launch(worker_main, &ctx, worker);
    // rte_eal_wait_lcore spins: the main lcore would take CPU time from the
    // workers on a two-CPU machine, so it sleeps until the worker is done.
    while (!ctx.done.load(std::memory_order_acquire)) usleep(10000);
    rte_eal_wait_lcore(worker);
    const Counts& c = ctx.counts;
    if (ctx.opt.role == "gen") {
        std::printf("{\"role\":\"gen\",\"size\":%u,\"seconds\":%.3f,\"tx\":%llu,\"rx\":%llu,\"tx_full\":%llu,"
                    "\"tx_pps\":%.0f,\"rx_pps\":%.0f,\"pps\":%.0f}\n",
                    ctx.opt.size, c.seconds, static_cast<unsigned long long>(c.tx),
                    static_cast<unsigned long long>(c.rx), static_cast<unsigned long long>(c.tx_full),
                    static_cast<double>(c.tx) / c.seconds, static_cast<double>(c.rx) / c.seconds,
                    static_cast<double>(c.tx + c.rx) / c.seconds);
    } else {
        std::printf("tcpfp-iofwd: reflect rx %llu tx %llu tx_full %llu\n", static_cast<unsigned long long>(c.rx),
                    static_cast<unsigned long long>(c.tx), static_cast<unsigned long long>(c.tx_full));
    }
    std::fflush(stdout);
    rte_eth_dev_stop(kPort);
    rte_eth_dev_close(kPort);
    rte_eal_cleanup();
    return 0;
}
