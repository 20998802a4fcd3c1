// tcpfp: EAL arguments, then "--", then application arguments (as testpmd).
#include <rte_eal.h>
#include <rte_version.h>

#include <cstdio>
#include <cstring>
#include <string_view>

namespace {

void print_usage(const char* prog) {
    std::printf(
        "Usage: %s [EAL options] -- [--config FILE] [-i] [--cmdline-file FILE] [--help]\n"
        "\n"
        "tcpfp %s, a DPDK fast-path TCP/IPv4 stack, built against %s.\n"
        "\n"
        "Application options:\n"
        "  --config FILE        INI configuration (default config/tap.ini)\n"
        "  -i                   interactive tcpfp> prompt\n"
        "  --cmdline-file FILE  run a command script at start\n"
        "  --help               this text\n"
        "\n"
        "Status: the wire-format layer (Ethernet, ARP, IPv4, ICMP echo, TCP and its\n"
        "options, checksums, sequence numbers) is implemented and tested; the engine\n"
        "and the poll-mode application are being built (see README.md).\n",
        prog, TCPFP_VERSION, rte_version());
}

}  // namespace

int main(int argc, char** argv) {
    // --help is answered before EAL initialisation so it needs no privileges.
    for (int i = 1; i < argc; ++i) {
        if (std::strcmp(argv[i], "--help") == 0 || std::strcmp(argv[i], "-h") == 0) {
            print_usage(argv[0]);
            return 0;
        }
    }
    print_usage(argv[0]);
    return 0;
}
