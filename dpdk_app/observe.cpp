#include "dpdk_app/observe.hpp"

#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_pdump.h>
#include <rte_telemetry.h>
#include <rte_version.h>
#include <unistd.h>

#include <array>
#include <cctype>
#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <string>
#include <thread>

#include "dpdk_app/log.hpp"

namespace tcpfp::app {

namespace {

using U64 = std::uint64_t;
constexpr std::size_t kMibs = static_cast<std::size_t>(tcp::Mib::count_);
constexpr std::size_t kTcpDrops = static_cast<std::size_t>(tcp::Drop::count_);
constexpr std::size_t kAppDrops = static_cast<std::size_t>(AppDrop::count_);

// Telemetry builds each reply in a 16 KiB buffer and silently leaves out
// what does not fit. A full counter block is about 2 KiB, so /tcpfp/stats
// gives every worker's full block only up to this many workers (and their
// basic counters beyond; /tcpfp/stats,<worker> has the rest).
constexpr unsigned kFullBlocksMax = 4;
// A worker answers a snapshot request at its next millisecond tick.
constexpr auto kAnswerTimeout = std::chrono::milliseconds(250);

// What the callbacks read. Telemetry serves each client on its own thread,
// so requests take the mutex (never held by a worker).
struct Context {
    const AppConfig* cfg = nullptr;
    const Port* port = nullptr;
    Shared* shared = nullptr;
    bool pdump = false;
};
std::mutex g_mutex;
Context g_ctx;
bool g_live = false;

// ---- /tcpfp/stats ----

#define TCPFP_X(name, desc) #name,
constexpr const char* kBasicNames[] = {TCPFP_LCORE_STATS(TCPFP_X)};
#undef TCPFP_X
#define TCPFP_X(name, desc) &LcoreStats::name,
constexpr std::atomic<U64> LcoreStats::*kBasicFields[] = {TCPFP_LCORE_STATS(TCPFP_X)};
#undef TCPFP_X
constexpr std::size_t kBasic = std::size(kBasicFields);

// One worker's published values, read once (each whole, not as a set).
struct Block {
    std::array<U64, kBasic> basic{};
    std::array<U64, kMibs> mib{};
    std::array<U64, kTcpDrops> tcp_drops{};
    std::array<U64, tcp::kStateCount> by_state{};
    std::array<U64, kAppDrops> app_drops{};

    template <std::size_t N>
    static void add(std::array<U64, N>& to, const std::array<U64, N>& from) {
        for (std::size_t i = 0; i < N; ++i) to[i] += from[i];
    }
    void add(const Block& b) {
        add(basic, b.basic);
        add(mib, b.mib);
        add(tcp_drops, b.tcp_drops);
        add(by_state, b.by_state);
        add(app_drops, b.app_drops);
    }
};

template <std::size_t N>
void load_all(std::array<U64, N>& to, const std::atomic<U64> (&from)[N]) {
    for (std::size_t i = 0; i < N; ++i) to[i] = from[i].load(std::memory_order_relaxed);
}

Block read_block(const LcoreStats& s) {
    Block b;
    for (std::size_t i = 0; i < kBasic; ++i) {
        b.basic[i] = (s.*kBasicFields[i]).load(std::memory_order_relaxed);
    }
    load_all(b.mib, s.mib);
    load_all(b.tcp_drops, s.tcp_drops);
    load_all(b.by_state, s.by_state);
    load_all(b.app_drops, s.app_drops);
    return b;
}

bool put(rte_tel_data* d, const std::string& key, U64 v) {
    return rte_tel_data_add_dict_u64(d, key.c_str(), v) == 0;
}

// Keys (telemetry allows only [A-Za-z0-9_/-]): the basic counters by name
// (as `show lcores`), "mib_<name>" and
// "state_<STATE>" always, "drop_<reason>" (engine) and "app_drop_<reason>"
// (before the engine) when not zero.
bool fill_block(rte_tel_data* d, const Block& b, int lcore, bool full) {
    bool ok = lcore < 0 || rte_tel_data_add_dict_int(d, "lcore", lcore) == 0;
    for (std::size_t i = 0; i < kBasic; ++i) ok &= put(d, kBasicNames[i], b.basic[i]);
    if (!full) return ok;
    for (std::size_t i = 0; i < kMibs; ++i) {
        ok &= put(d, std::string("mib_") + tcp::name(static_cast<tcp::Mib>(i)), b.mib[i]);
    }
    for (std::size_t i = 0; i < tcp::kStateCount; ++i) {
        ok &= put(d, std::string("state_") + tcp::to_string(static_cast<tcp::State>(i)),
                  b.by_state[i]);
    }
    for (std::size_t i = 0; i < kTcpDrops; ++i) {
        if (b.tcp_drops[i] == 0) continue;
        ok &= put(d, std::string("drop_") + tcp::name(static_cast<tcp::Drop>(i)), b.tcp_drops[i]);
    }
    for (std::size_t i = 0; i < kAppDrops; ++i) {
        if (b.app_drops[i] == 0) continue;
        ok &= put(d, std::string("app_drop_") + name(static_cast<AppDrop>(i)), b.app_drops[i]);
    }
    return ok;
}

bool add_block(rte_tel_data* d, const std::string& key, const Block& b, int lcore, bool full) {
    rte_tel_data* c = rte_tel_data_alloc();
    if (c == nullptr) return false;
    rte_tel_data_start_dict(c);
    if (!fill_block(c, b, lcore, full) || rte_tel_data_add_dict_container(d, key.c_str(), c, 0) != 0) {
        rte_tel_data_free(c);
        return false;
    }
    return true;
}

// /tcpfp/stats            {"workers":N, "total":{...}, "worker_0":{...}, ...}
// /tcpfp/stats,total      only the total
// /tcpfp/stats,<worker>   only that worker's block
int cmd_stats(const char*, const char* params, rte_tel_data* d) {
    std::lock_guard lock(g_mutex);
    if (!g_live) return -EAGAIN;
    const Shared& sh = *g_ctx.shared;
    const std::string p = params != nullptr ? params : "";
    int only = -1;  // a worker index, or -1: all
    if (!p.empty() && p != "total") {
        char* end = nullptr;
        const long w = std::strtol(p.c_str(), &end, 10);
        if (*end != '\0' || w < 0 || w >= static_cast<long>(sh.workers)) return -EINVAL;
        only = static_cast<int>(w);
    }
    Block total;
    Block blocks[kMaxWorkers];
    for (unsigned w = 0; w < sh.workers; ++w) {
        blocks[w] = read_block(sh.stats[w]);
        total.add(blocks[w]);
    }
    rte_tel_data_start_dict(d);
    rte_tel_data_add_dict_u64(d, "workers", sh.workers);
    if (only >= 0) {
        const auto w = static_cast<unsigned>(only);
        const int lcore = static_cast<int>(sh.stats[w].lcore.load(std::memory_order_relaxed));
        return add_block(d, "worker_" + std::to_string(w), blocks[w], lcore, true) ? 0 : -E2BIG;
    }
    if (!add_block(d, "total", total, -1, true)) return -E2BIG;
    if (p == "total") return 0;
    const bool full = sh.workers <= kFullBlocksMax;
    for (unsigned w = 0; w < sh.workers; ++w) {
        const int lcore = static_cast<int>(sh.stats[w].lcore.load(std::memory_order_relaxed));
        if (!add_block(d, "worker_" + std::to_string(w), blocks[w], lcore, full)) return -E2BIG;
    }
    return 0;
}

// ---- /tcpfp/conns ----

std::string endpoint(wire::Ipv4Addr a, std::uint16_t port) {
    return (a.is_unspecified() ? std::string("*") : a.to_string()) + ":" +
           (port == 0 ? std::string("*") : std::to_string(port));
}

// "ESTABLISHED", "established", "time-wait" ... -> the state's index.
int parse_state(const std::string& s) {
    std::string norm;
    for (char c : s) norm += c == '-' ? '_' : static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    for (std::size_t i = 0; i < tcp::kStateCount; ++i) {
        if (norm == tcp::to_string(static_cast<tcp::State>(i))) return static_cast<int>(i);
    }
    return -2;
}

// Asks every worker for a snapshot; returns a bit per worker that answered.
unsigned request_snapshots(Shared& sh, int filter) {
    std::uint64_t seq[kMaxWorkers] = {};
    for (unsigned w = 0; w < sh.workers; ++w) {
        ConnSnapshot& s = sh.snapshots[w];
        s.filter.store(filter, std::memory_order_relaxed);
        seq[w] = s.requested.load(std::memory_order_relaxed) + 1;
        s.requested.store(seq[w], std::memory_order_release);
    }
    const auto deadline = std::chrono::steady_clock::now() + kAnswerTimeout;
    unsigned answered = 0;
    const unsigned all = (1u << sh.workers) - 1;
    while (answered != all && std::chrono::steady_clock::now() < deadline) {
        for (unsigned w = 0; w < sh.workers; ++w) {
            if (sh.snapshots[w].answered.load(std::memory_order_acquire) == seq[w]) answered |= 1u << w;
        }
        if (answered != all) std::this_thread::sleep_for(std::chrono::microseconds(200));
    }
    return answered;
}

rte_tel_data* row_dict(const SnapshotRow& r, unsigned worker, unsigned lcore) {
    rte_tel_data* d = rte_tel_data_alloc();
    if (d == nullptr) return nullptr;
    rte_tel_data_start_dict(d);
    rte_tel_data_add_dict_string(d, "state", tcp::to_string(r.state));
    rte_tel_data_add_dict_string(d, "local", endpoint(r.tuple.local_ip, r.tuple.local_port).c_str());
    rte_tel_data_add_dict_string(d, "peer", endpoint(r.tuple.remote_ip, r.tuple.remote_port).c_str());
    rte_tel_data_add_dict_u64(d, "worker", worker);
    rte_tel_data_add_dict_u64(d, "lcore", lcore);
    rte_tel_data_add_dict_u64(d, "recv_q", r.recv_q);
    rte_tel_data_add_dict_u64(d, "send_q", r.send_q);
    rte_tel_data_add_dict_u64(d, "orphan", r.orphan ? 1 : 0);
    return d;
}

// /tcpfp/conns[,STATE]: {"control_blocks":..,"time_wait":..,"filter":..,
// "matched":..,"shown":..,"unanswered":..,"0":{row},"1":{row},...}; rows as
// `show conn` (Recv-Q of a listener is its accept queue), at most
// ConnSnapshot::kRows in all.
int cmd_conns(const char*, const char* params, rte_tel_data* d) {
    std::lock_guard lock(g_mutex);
    if (!g_live) return -EAGAIN;
    Shared& sh = *g_ctx.shared;
    const std::string p = params != nullptr ? params : "";
    const int filter = p.empty() ? ConnSnapshot::kAllStates : parse_state(p);
    if (filter == -2) return -EINVAL;
    const unsigned answered = request_snapshots(sh, filter);
    U64 cbs = 0, tws = 0, matched = 0;
    unsigned missing = 0;
    for (unsigned w = 0; w < sh.workers; ++w) {
        cbs += sh.stats[w].connections.load(std::memory_order_relaxed);
        tws += sh.stats[w].time_wait.load(std::memory_order_relaxed);
        if (answered & (1u << w)) {
            matched += sh.snapshots[w].matched;
        } else {
            ++missing;
        }
    }
    rte_tel_data_start_dict(d);
    rte_tel_data_add_dict_u64(d, "control_blocks", cbs);
    rte_tel_data_add_dict_u64(d, "time_wait", tws);
    rte_tel_data_add_dict_string(d, "filter", p.empty() ? "all" : tcp::to_string(static_cast<tcp::State>(filter)));
    rte_tel_data_add_dict_u64(d, "matched", matched);
    rte_tel_data_add_dict_u64(d, "unanswered", missing);  // workers stopped or stuck
    std::size_t shown = 0;
    for (unsigned w = 0; w < sh.workers; ++w) {
        if (!(answered & (1u << w))) continue;
        const ConnSnapshot& s = sh.snapshots[w];
        const unsigned lcore = sh.stats[w].lcore.load(std::memory_order_relaxed);
        for (std::uint32_t i = 0; i < s.count && shown < ConnSnapshot::kRows; ++i) {
            rte_tel_data* row = row_dict(s.rows[i], w, lcore);
            if (row == nullptr) return -ENOMEM;
            if (rte_tel_data_add_dict_container(d, std::to_string(shown++).c_str(), row, 0) != 0) {
                rte_tel_data_free(row);
                return -E2BIG;
            }
        }
    }
    rte_tel_data_add_dict_u64(d, "shown", shown);
    return 0;
}

// ---- /tcpfp/info ----

rte_tel_data* string_array() {
    rte_tel_data* a = rte_tel_data_alloc();
    if (a != nullptr) rte_tel_data_start_array(a, RTE_TEL_STRING_VAL);
    return a;
}

int cmd_info(const char*, const char*, rte_tel_data* d) {
    std::lock_guard lock(g_mutex);
    if (!g_live) return -EAGAIN;
    const AppConfig& cfg = *g_ctx.cfg;
    const Port& port = *g_ctx.port;
    const Shared& sh = *g_ctx.shared;
    rte_tel_data_start_dict(d);
    rte_tel_data_add_dict_string(d, "version", TCPFP_VERSION);
    rte_tel_data_add_dict_string(d, "dpdk", rte_version());
    rte_tel_data_add_dict_u64(d, "pid", static_cast<U64>(getpid()));
    rte_tel_data_add_dict_string(d, "config", cfg.path.c_str());
    rte_tel_data_add_dict_u64(d, "port", port.id);
    rte_tel_data_add_dict_string(d, "driver", port.driver.c_str());
    rte_tel_data_add_dict_string(d, "mac", port.mac.to_string().c_str());
    rte_tel_data_add_dict_u64(d, "mtu", cfg.port.mtu);
    rte_tel_data_add_dict_u64(d, "queues", port.queues);
    rte_tel_data_add_dict_string(d, "rx_checksum", port.rx_checksum ? "offload" : "software");
    rte_tel_data_add_dict_string(d, "tx_checksum", port.tx_checksum ? "offload" : "software");
    rte_tel_data_add_dict_string(d, "tso", port.tso ? "on" : "off");
    rte_tel_data_add_dict_string(d, "steering", to_string(sh.steering.mode()));
    rte_tel_data_add_dict_string(d, "link", sh.link.up.load(std::memory_order_relaxed) ? "up" : "down");
    rte_tel_data_add_dict_u64(d, "link_speed_mbps", sh.link.speed_mbps.load(std::memory_order_relaxed));
    rte_tel_data_add_dict_u64(d, "link_ups", sh.link.ups.load(std::memory_order_relaxed));
    rte_tel_data_add_dict_u64(d, "link_downs", sh.link.downs.load(std::memory_order_relaxed));
    rte_tel_data_add_dict_u64(d, "link_restarts", sh.link.restarts.load(std::memory_order_relaxed));
    rte_tel_data_add_dict_u64(d, "workers", sh.workers);
    rte_tel_data_add_dict_string(d, "pdump", g_ctx.pdump ? "on" : "off");
    if (rte_tel_data* lcores = rte_tel_data_alloc(); lcores != nullptr) {
        rte_tel_data_start_array(lcores, RTE_TEL_U64_VAL);
        for (unsigned w = 0; w < sh.workers; ++w) {
            rte_tel_data_add_array_u64(lcores, sh.stats[w].lcore.load(std::memory_order_relaxed));
        }
        rte_tel_data_add_dict_container(d, "lcores", lcores, 0);
    }
    if (rte_tel_data* addrs = string_array(); addrs != nullptr) {
        for (const auto& a : cfg.port.addresses) {
            rte_tel_data_add_array_string(addrs, (a.addr.to_string() + "/" + std::to_string(a.prefix)).c_str());
        }
        rte_tel_data_add_dict_container(d, "addresses", addrs, 0);
    }
    if (rte_tel_data* svc = string_array(); svc != nullptr) {
        const ServicesConfig& s = cfg.services;
        if (s.echo) rte_tel_data_add_array_string(svc, "echo:7");
        if (s.discard) rte_tel_data_add_array_string(svc, "discard:9");
        if (s.chargen) rte_tel_data_add_array_string(svc, "chargen:19");
        if (s.http) rte_tel_data_add_array_string(svc, "http:80");
        if (s.rr) rte_tel_data_add_array_string(svc, ("rr:" + std::to_string(s.rr_port)).c_str());
        if (s.hold_port != 0) rte_tel_data_add_array_string(svc, ("hold:" + std::to_string(s.hold_port)).c_str());
        if (s.seed_client) rte_tel_data_add_array_string(svc, "seed_client");
        rte_tel_data_add_dict_container(d, "services", svc, 0);
    }
    return 0;
}

void register_commands() {
    static bool registered = false;  // telemetry has no unregister
    if (registered) return;
    registered = true;
    rte_telemetry_register_cmd("/tcpfp/info", cmd_info,
                               "tcpfp version, port, steering, workers and addresses. No parameters");
    rte_telemetry_register_cmd("/tcpfp/stats", cmd_stats,
                               "Per-worker and total counters: MIB, drop reasons, connections by "
                               "state. Parameter: none, 'total' or a worker index");
    rte_telemetry_register_cmd("/tcpfp/conns", cmd_conns,
                               "Connections (at most 80): state, local, peer, worker, lcore, "
                               "queues. Parameter: optional state filter, e.g. ESTABLISHED");
}

}  // namespace

void start_observability(const AppConfig& cfg, const Port& port, Shared& shared) {
    std::lock_guard lock(g_mutex);
    g_ctx = Context{&cfg, &port, &shared, false};
    // Secondary processes (dpdk-dumpcap, dpdk-pdump) ask the primary to copy
    // the port's frames into their ring through this multi-process channel.
    if (rte_pdump_init() == 0) {
        g_ctx.pdump = true;
    } else {
        TLOG(WARNING, app, "rte_pdump_init failed (%s): dpdk-dumpcap cannot capture",
             rte_strerror(rte_errno));
    }
    register_commands();
    g_live = true;
    TLOG(INFO, app, "telemetry: /tcpfp/info, /tcpfp/stats, /tcpfp/conns on %s/dpdk_telemetry.v2%s",
         rte_eal_get_runtime_dir(), g_ctx.pdump ? "; pdump ready for dpdk-dumpcap" : "");
}

void stop_observability() {
    std::lock_guard lock(g_mutex);
    if (!g_live) return;
    g_live = false;
    if (g_ctx.pdump) (void)rte_pdump_uninit();
    g_ctx = Context{};
}

}  // namespace tcpfp::app
