// tcpfp: EAL arguments, then "--", then application arguments (as testpmd).
// Order matters: arguments and configuration are validated completely
// before rte_eal_init, so a mistake never touches a port.
#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_lcore.h>
#include <rte_version.h>

#include <atomic>
#include <cerrno>
#include <cinttypes>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <new>
#include <optional>
#include <string>
#include <sys/random.h>
#include <unistd.h>
#include <vector>

#include "dpdk_app/app_config.hpp"
#include "dpdk_app/cli/cli.hpp"
#include "dpdk_app/link.hpp"
#include "dpdk_app/log.hpp"
#include "dpdk_app/observe.hpp"
#include "dpdk_app/port.hpp"
#include "dpdk_app/shared.hpp"
#include "dpdk_app/tap_signal.hpp"
#include "dpdk_app/unmap_guard.hpp"
#include "dpdk_app/worker.hpp"

namespace {

using namespace tcpfp::app;

std::atomic<int> g_signals{0};

void on_signal(int sig) {
    // The second signal means "now": skip the orderly close.
    if (g_signals.fetch_add(1) >= 1) std::_Exit(128 + sig);
}

void print_usage(const char* prog) {
    std::printf(
        "Usage: %s [EAL options] -- [--config FILE] [-i] [--cmdline-file FILE] [--help]\n"
        "\n"
        "tcpfp %s, a DPDK fast-path TCP/IPv4 stack, built against %s.\n"
        "\n"
        "Application options:\n"
        "  --config FILE        INI configuration (default config/tap.ini; keys in config/README.md)\n"
        "  -i                   interactive tcpfp> prompt (commands: dpdk_app/README.md, 'help')\n"
        "  --cmdline-file FILE  run a command script at start; without -i, exit when it ends\n"
        "                       (status 0 only if every command and expect succeeded)\n"
        "  --check-config       validate the configuration, print FILE: ok, and exit\n"
        "  --help               this text\n"
        "\n"
        "Example (private namespace, no hugepages; scripts/run.sh does all of this):\n"
        "  unshare -n %s -l 0-1 --no-huge -m 1024 --no-pci \\\n"
        "      --vdev=net_tap0,iface=tcpfp0 --file-prefix=tcpfp -- --config config/tap.ini\n"
        "\n"
        "SIGINT/SIGTERM close connections and print statistics; a second one exits at once.\n",
        prog, TCPFP_VERSION, rte_version(), prog);
}

struct AppArgs {
    std::string config = "config/tap.ini";
    bool check_only = false;
    bool interactive = false;
    std::string cmdline_file;
};

// Returns -1 to continue, otherwise the exit status.
int parse_app_args(int argc, char** argv, const char* prog, AppArgs& out) {
    for (int i = 0; i < argc; ++i) {
        const std::string a = argv[i];
        auto value = [&](std::string& dst) {
            if (i + 1 >= argc) {
                std::fprintf(stderr, "tcpfp: %s needs a value (see --help)\n", a.c_str());
                return false;
            }
            dst = argv[++i];
            return true;
        };
        if (a == "--help" || a == "-h") {
            print_usage(prog);
            return 0;
        } else if (a == "--config") {
            if (!value(out.config)) return 2;
        } else if (a == "--check-config") {
            out.check_only = true;
        } else if (a == "-i" || a == "--interactive") {
            out.interactive = true;
        } else if (a == "--cmdline-file") {
            if (!value(out.cmdline_file)) return 2;
        } else {
            std::fprintf(stderr, "tcpfp: unknown option '%s' (see --help)\n", a.c_str());
            return 2;
        }
    }
    return -1;
}

int worker_main(void* arg) { return static_cast<Worker*>(arg)->run(); }

// One single-producer/single-consumer ring per ordered pair of workers.
bool make_rings(Shared& shared, std::string& error) {
    constexpr unsigned kRingSize = 4096;  // a few bursts of a busy peer
    for (unsigned from = 0; from < shared.workers; ++from) {
        for (unsigned to = 0; to < shared.workers; ++to) {
            if (from == to) continue;
            const std::string name = "tcpfp_ho_" + std::to_string(from) + "_" + std::to_string(to);
            shared.rings[from][to] = rte_ring_create(name.c_str(), kRingSize, SOCKET_ID_ANY,
                                                     RING_F_SP_ENQ | RING_F_SC_DEQ);
            if (shared.rings[from][to] == nullptr) {
                error = "hand-off ring " + name + ": " + rte_strerror(rte_errno);
                return false;
            }
        }
    }
    return true;
}

// rte_eal_cleanup() ends EAL's own threads with pthread_cancel(), whose
// signal (SIGCANCEL, a real-time one) the kernel does not queue once the
// user's pending signals reach RLIMIT_SIGPENDING; the join then waits for
// good (seen with another process of the same user flooding its tap). Past
// 5 s the process exits without it: the statistics are out, the ports closed.
void cleanup_eal_within(int rc, unsigned seconds) {
    struct Deadline {
        int rc;
        unsigned seconds;
        static void* run(void* p) {
            const auto* d = static_cast<const Deadline*>(p);
            sleep(d->seconds);
            std::fprintf(stderr, "tcpfp: EAL cleanup still waiting after %u s (real-time signals not "
                         "queued?): exiting without it\n", d->seconds);
            std::fflush(nullptr);
            _exit(d->rc);
        }
    };
    // Not freed: the thread may still read it while main() returns.
    auto* deadline = new Deadline{rc, seconds};
    pthread_t t;
    if (pthread_create(&t, nullptr, Deadline::run, deadline) == 0) pthread_detach(t);
    rte_eal_cleanup();
}

void free_rings(Shared& shared) {
    for (auto& row : shared.rings) {
        for (auto*& r : row) {
            rte_ring_free(r);
            r = nullptr;
        }
    }
}

// Splits argv at "--" and reads our part. Returns -1 to continue,
// otherwise the exit status.
int read_args(int argc, char** argv, int& split, AppArgs& args) {
    // Split at "--": EAL gets the left part (with argv[0]), we parse the right.
    split = argc;
    for (int i = 1; i < argc; ++i) {
        if (std::strcmp(argv[i], "--") == 0) {
            split = i;
            break;
        }
        if (std::strcmp(argv[i], "--help") == 0 || std::strcmp(argv[i], "-h") == 0) {
            print_usage(argv[0]);  // answered without EAL, so it needs no privileges
            return 0;
        }
    }
    const int app_argc = split < argc ? argc - split - 1 : 0;
    if (int rc = parse_app_args(app_argc, argv + split + (split < argc ? 1 : 0), argv[0], args);
        rc >= 0) {
        return rc;
    }
    if (!args.cmdline_file.empty() && access(args.cmdline_file.c_str(), R_OK) != 0) {
        std::fprintf(stderr, "tcpfp: --cmdline-file %s: cannot read: %s\n",
                     args.cmdline_file.c_str(), std::strerror(errno));
        return 2;
    }
    return -1;
}

// Loads the configuration (--check-config stops there) and draws its secret
// when it sets none. Returns -1 to continue, otherwise the exit status.
int load_app_config(const AppArgs& args, std::optional<AppConfig>& cfg) {
    std::string error;
    cfg = load_config(args.config, error);
    if (!cfg) {
        std::fprintf(stderr, "%s\n", error.c_str());
        return 1;
    }
    if (args.check_only) {
        std::printf("%s: ok\n", args.config.c_str());
        return 0;
    }
    if (!cfg->secret_set) {
        // A fixed key would repeat ISNs and ephemeral ports across runs
        // (RFC 6528 §3, RFC 6056): draw one from the kernel.
        if (getrandom(&cfg->engine.seed, sizeof cfg->engine.seed, 0) !=
            static_cast<ssize_t>(sizeof cfg->engine.seed)) {
            std::fprintf(stderr, "tcpfp: getrandom failed; set [engine] secret\n");
            return 1;
        }
    }
    return -1;
}

// Starts EAL on its part of argv, with the signals set up around it; false
// (said on stderr) when EAL did not start.
bool start_eal(int eal_argc, char** eal_argv) {
    // net_tap announces each frame it queues with a real-time signal to the
    // whole process (F_SETOWN getpid()), and the kernel hands each one to any
    // thread that does not block it: the prompt, EAL's interrupt, multi-process
    // and telemetry threads, each woken from its sleep per frame. Under a SYN
    // flood of 100k+ frames/s the prompt then made no progress for 40 s.
    // Every thread EAL creates inherits this mask; worker 0 alone unblocks
    // net_tap's signal (Worker::run), on the thread that reads the frames anyway.
    block_realtime_signals();
    (void)raise_signal_queue_limit();  // net_tap's RX signals (worker 0 says where it stayed)
    remove_stale_memif_sockets(eal_argc, eal_argv);
    if (rte_eal_init(eal_argc, eal_argv) < 0) {
        std::fprintf(stderr, "tcpfp: EAL initialisation failed: %s\n", rte_strerror(rte_errno));
        return false;
    }
    register_log_types();
    std::signal(SIGINT, on_signal);
    std::signal(SIGTERM, on_signal);
    return true;
}

// Worker i runs on the i-th worker lcore; with one worker and a single
// lcore it runs on the main lcore instead.
std::vector<unsigned> worker_lcores(unsigned workers) {
    std::vector<unsigned> lcores;
    for (unsigned l = rte_get_next_lcore(static_cast<unsigned>(-1), 1, 0);
         l < RTE_MAX_LCORE && lcores.size() < workers; l = rte_get_next_lcore(l, 1, 0)) {
        lcores.push_back(l);
    }
    return lcores;
}

// A start-up step after open_port failed: the port and EAL are closed, and
// main exits with status 1.
int fail_after_port_open(Port& port) {
    close_port(port);
    rte_eal_cleanup();
    return 1;
}

using Workers = std::vector<std::unique_ptr<Worker>>;

// One Worker per [lcores] worker, its memory on the NUMA socket of the lcore
// it will run on (the main lcore when `lcores` is empty). False (said on
// stderr, `workers` emptied) when DPDK memory runs out.
bool create_workers(const AppConfig& cfg, const Port& port, Shared& shared,
                    const std::vector<unsigned>& lcores, Workers& workers) {
    const bool own_lcore = !lcores.empty();
    try {
        for (unsigned i = 0; i < cfg.workers; ++i) {
            workers.push_back(std::make_unique<Worker>(cfg, port, shared, i));
            const unsigned l = own_lcore ? lcores[i] : rte_lcore_id();
            workers.back()->init(static_cast<int>(rte_lcore_to_socket_id(l)));
        }
    } catch (const std::bad_alloc&) {
        std::fprintf(stderr,
                     "tcpfp: engine: out of DPDK memory (%u worker(s) x [engine] chunk_count x "
                     "chunk_size = %llu MiB each); raise EAL -m or lower the [engine] sizes\n",
                     cfg.workers,
                     static_cast<unsigned long long>(cfg.engine.chunk_count) *
                         cfg.engine.chunk_size / (1u << 20));
        workers.clear();
        return false;
    }
    return true;
}

bool all_finished(const Workers& workers) {
    for (const auto& w : workers) {
        if (!w->finished()) return false;
    }
    return true;
}

// -i and --cmdline-file on the main lcore while the workers run; returns 1
// when a script without -i failed, else 0.
int run_prompt(const AppArgs& args, const AppConfig& cfg, const Port& port, Shared& shared,
               Workers& workers, const std::vector<unsigned>& lcores) {
    int rc = 0;
    // The main lcore runs the prompt; engine work goes to the workers' mailboxes.
    auto waiting = [&] {
        for (unsigned i = 0; i < workers.size(); ++i) {
            if (shared.stats[i].lcore.load() == 0 && lcores[i] != 0) return true;
        }
        return false;
    };
    for (int i = 0; i < 200 && waiting(); ++i) usleep(5000);
    {
        cli::Prompt p(cfg, port, shared, g_signals);
        bool ok = true;
        if (!args.cmdline_file.empty()) ok = p.run_file(args.cmdline_file);
        if (args.interactive && !p.quit_requested() && g_signals.load() == 0) p.interact();
        if (!args.interactive && !ok) rc = 1;
    }  // the prompt ends while the workers run: its generators detach from it first
    for (auto& w : workers) w->stop();
    return rc;
}

// Each worker on its own lcore; the main lcore runs the prompt when asked
// for one, then waits for the workers to finish. Returns the exit status.
int run_on_worker_lcores(const AppArgs& args, const AppConfig& cfg, const Port& port,
                         Shared& shared, Workers& workers, const std::vector<unsigned>& lcores) {
    int rc = 0;
    for (unsigned i = 0; i < workers.size(); ++i) {
        rte_eal_remote_launch(worker_main, workers[i].get(), lcores[i]);
    }
    const bool prompt = args.interactive || !args.cmdline_file.empty();
    if (prompt) rc = run_prompt(args, cfg, port, shared, workers, lcores);
    // The main lcore does control: here, waiting for a signal.
    while (!all_finished(workers)) {
        if (g_signals.load() > 0) {
            for (auto& w : workers) w->stop();
        }
        usleep(10000);
    }
    for (unsigned l : lcores) rc |= rte_eal_wait_lcore(l);
    return rc;
}

// The single worker on the main lcore; returns its exit status.
int run_on_main_lcore(Worker& worker) {
    TLOG(NOTICE, app, "only one lcore: the worker runs on the main lcore (-l 0-1 gives it its own)");
    // Signals reach this thread directly; a watcher is not needed.
    struct Watch {
        static void* run(void* w) {
            while (!static_cast<Worker*>(w)->finished()) {
                if (g_signals.load() > 0) static_cast<Worker*>(w)->stop();
                usleep(10000);
            }
            return nullptr;
        }
    };
    pthread_t t;
    pthread_create(&t, nullptr, Watch::run, &worker);
    const int rc = worker.run();
    pthread_join(t, nullptr);
    return rc;
}

// After the workers have stopped: what is left in the hand-off rings, then
// the workers' and the port's counters.
void print_final_statistics(const AppConfig& cfg, const Port& port, const Shared& shared,
                            Workers& workers) {
    unsigned stranded = 0;
    for (auto& w : workers) stranded += w->drain_rings();
    std::printf("=== tcpfp final statistics ===\n");
    std::printf("unmap guard: %" PRIu64 " munmap call(s) waited for the workers to leave their bursts "
                "(workers' barrier: %s)\n",
                unmap_guard::waits(), unmap_guard::asymmetric() ? "membarrier" : "a locked add per iteration");
    std::printf("steering: %s, %u worker(s); %u frame(s) left in hand-off rings at exit\n",
                to_string(shared.steering.mode()), cfg.workers, stranded);
    for (const auto& w : workers) w->print_stats();
    print_port_stats(port);
}

}  // namespace

int main(int argc, char** argv) {
    std::setvbuf(stdout, nullptr, _IOLBF, 0);  // logs interleave sensibly when piped
    int split = argc;
    AppArgs args;
    if (int rc = read_args(argc, argv, split, args); rc >= 0) return rc;
    std::optional<AppConfig> cfg;
    if (int rc = load_app_config(args, cfg); rc >= 0) return rc;
    if (!start_eal(split, argv)) return 1;

    auto shared = std::make_unique<Shared>();
    shared->workers = cfg->workers;
    std::string error;
    auto port = open_port(*cfg, shared->steering, error);
    if (!port) {
        std::fprintf(stderr, "tcpfp: port 0: %s\n", error.c_str());
        rte_eal_cleanup();
        return 1;
    }
    const std::vector<unsigned> lcores = worker_lcores(cfg->workers);
    const bool own_lcore = !lcores.empty();
    if (lcores.size() < cfg->workers && (cfg->workers > 1 || own_lcore)) {
        std::fprintf(stderr, "tcpfp: [lcores] workers = %u needs %u lcores (EAL -l 0-%u)\n",
                     cfg->workers, cfg->workers + 1, cfg->workers);
        return fail_after_port_open(*port);
    }
    if (!make_rings(*shared, error) || !cli::make_mailboxes(*shared, error)) {
        std::fprintf(stderr, "tcpfp: %s\n", error.c_str());
        return fail_after_port_open(*port);
    }
    Workers workers;
    if (!create_workers(*cfg, *port, *shared, lcores, workers)) return fail_after_port_open(*port);
    TLOG(INFO, app, "config %s: %zu address(es), %u worker(s)", cfg->path.c_str(),
         cfg->port.addresses.size(), cfg->workers);
    start_observability(*cfg, *port, *shared);
    // A memif client whose server is not there yet: the workers stay off
    // the port until the link watcher has started it.
    shared->link.pause.store(!port->started, std::memory_order_seq_cst);
    LinkWatch link_watch(*port, shared->link, cfg->workers);
    (void)link_watch.start();

    int rc = 0;
    if (own_lcore) {
        rc = run_on_worker_lcores(args, *cfg, *port, *shared, workers, lcores);
    } else if (args.interactive || !args.cmdline_file.empty()) {
        std::fprintf(stderr, "tcpfp: the prompt needs the worker on its own lcore (EAL -l 0-1)\n");
        rc = 1;
    } else {
        rc = run_on_main_lcore(*workers[0]);
    }
    link_watch.stop();
    stop_observability();
    print_final_statistics(*cfg, *port, *shared, workers);
    workers.clear();  // the engines' memory goes back before EAL cleanup
    free_rings(*shared);
    cli::free_mailboxes(*shared);
    close_port(*port);
    cleanup_eal_within(rc, 5);
    return rc;
}
