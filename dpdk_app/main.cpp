// tcpfp: EAL arguments, then "--", then application arguments (as testpmd).
// Order matters: arguments and configuration are validated completely
// before rte_eal_init, so a mistake never touches a port.
#include <rte_eal.h>
#include <rte_lcore.h>
#include <rte_version.h>

#include <atomic>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <new>
#include <string>
#include <sys/random.h>
#include <unistd.h>
#include <vector>

#include "dpdk_app/app_config.hpp"
#include "dpdk_app/log.hpp"
#include "dpdk_app/port.hpp"
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
        "  -i                   interactive tcpfp> prompt (not yet implemented)\n"
        "  --cmdline-file FILE  run a command script at start (not yet implemented)\n"
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
        } else if (a == "-i" || a == "--cmdline-file") {
            std::fprintf(stderr, "tcpfp: %s: not yet implemented\n", a.c_str());
            return 2;
        } else {
            std::fprintf(stderr, "tcpfp: unknown option '%s' (see --help)\n", a.c_str());
            return 2;
        }
    }
    return -1;
}

int worker_main(void* arg) { return static_cast<Worker*>(arg)->run(); }

}  // namespace

int main(int argc, char** argv) {
    std::setvbuf(stdout, nullptr, _IOLBF, 0);  // logs interleave sensibly when piped
    // Split at "--": EAL gets the left part (with argv[0]), we parse the right.
    int split = argc;
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
    AppArgs args;
    const int app_argc = split < argc ? argc - split - 1 : 0;
    if (int rc = parse_app_args(app_argc, argv + split + (split < argc ? 1 : 0), argv[0], args);
        rc >= 0) {
        return rc;
    }
    std::string error;
    auto cfg = load_config(args.config, error);
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
    if (rte_eal_init(split, argv) < 0) {
        std::fprintf(stderr, "tcpfp: EAL initialisation failed: %s\n", rte_strerror(rte_errno));
        return 1;
    }
    register_log_types();
    std::signal(SIGINT, on_signal);
    std::signal(SIGTERM, on_signal);

    auto port = open_port(*cfg, error);
    if (!port) {
        std::fprintf(stderr, "tcpfp: port 0: %s\n", error.c_str());
        rte_eal_cleanup();
        return 1;
    }
    const unsigned lcore = rte_get_next_lcore(static_cast<unsigned>(-1), 1, 0);
    const bool own_lcore = lcore < RTE_MAX_LCORE;
    auto worker = std::make_unique<Worker>(*cfg, *port);
    try {
        worker->init(static_cast<int>(rte_lcore_to_socket_id(own_lcore ? lcore : rte_lcore_id())));
    } catch (const std::bad_alloc&) {
        std::fprintf(stderr,
                     "tcpfp: engine: out of DPDK memory ([engine] buffer_count x buffer_size = "
                     "%llu MiB); raise EAL -m or lower the [engine] sizes\n",
                     static_cast<unsigned long long>(cfg->engine.buffer_count) *
                         cfg->engine.buffer_size / (1u << 20));
        close_port(*port);
        rte_eal_cleanup();
        return 1;
    }
    TLOG(INFO, app, "config %s: %zu address(es), %u worker(s)", cfg->path.c_str(),
         cfg->port.addresses.size(), cfg->workers);

    int rc = 0;
    if (own_lcore) {
        rte_eal_remote_launch(worker_main, worker.get(), lcore);
        // The main lcore does control: here, waiting for a signal.
        while (!worker->finished()) {
            if (g_signals.load() > 0) worker->stop();
            usleep(10000);
        }
        rc = rte_eal_wait_lcore(lcore);
    } else {
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
        pthread_create(&t, nullptr, Watch::run, worker.get());
        rc = worker->run();
        pthread_join(t, nullptr);
    }
    std::printf("=== tcpfp final statistics ===\n");
    worker->print_stats();
    print_port_stats(*port);
    worker.reset();  // the engine's memory goes back before EAL cleanup
    close_port(*port);
    rte_eal_cleanup();
    return rc;
}
