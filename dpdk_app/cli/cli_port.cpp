// The prompt's port and lcore commands, after testpmd's: show port
// info|stats|xstats, clear port stats, show lcores (the workers' published
// figures, no mailbox trip).
#include <rte_ethdev.h>
#include <rte_lcore.h>

#include <cinttypes>
#include <cstdio>

#include "dpdk_app/cli/prompt.hpp"

namespace tcpfp::app::cli {

namespace {

std::vector<std::uint16_t> ports_of(PromptState& st, const std::string& which) {
    std::vector<std::uint16_t> out;
    if (which == "all") {
        for (unsigned p = 0; p < RTE_MAX_ETHPORTS; ++p) {
            if (rte_eth_dev_is_valid_port(static_cast<std::uint16_t>(p))) {
                out.push_back(static_cast<std::uint16_t>(p));
            }
        }
        return out;
    }
    auto v = parse_u64(which);
    if (!v || *v >= RTE_MAX_ETHPORTS || !rte_eth_dev_is_valid_port(static_cast<std::uint16_t>(*v))) {
        st.failf("bad argument: no port '%s' (a port number or all)", which.c_str());
        return out;
    }
    out.push_back(static_cast<std::uint16_t>(*v));
    return out;
}

// testpmd's "show port xstats": every extended counter by name.
void show_xstats(PromptState& st, std::uint16_t p) {
    const int n = rte_eth_xstats_get(p, nullptr, 0);
    if (n < 0) return st.failf("port %u: extended statistics unavailable", p);
    std::vector<rte_eth_xstat> vals(static_cast<std::size_t>(n));
    std::vector<rte_eth_xstat_name> names(static_cast<std::size_t>(n));
    if (rte_eth_xstats_get(p, vals.data(), static_cast<unsigned>(n)) != n ||
        rte_eth_xstats_get_names(p, names.data(), static_cast<unsigned>(n)) != n) {
        return st.failf("port %u: extended statistics changed while read", p);
    }
    std::printf("###### NIC extended statistics for port %-2u #########\n", p);
    for (const auto& v : vals) {
        if (v.id < names.size()) std::printf("%s: %" PRIu64 "\n", names[v.id].name, v.value);
    }
    std::printf("#################################################\n");
}

// What the workers handed to the port against the TCP segments they sent:
// with TSO, one frame carries many segments. A port that segments in
// software (net_tap) counts each segment in TX-packets above.
void show_tx_frames(PromptState& st) {
    std::uint64_t frames = 0, segments = 0, tso_frames = 0, tso_segments = 0;
    for (unsigned w = 0; w < st.workers(); ++w) {
        const auto& s = st.shared.stats[w];
        frames += s.tx_packets.load(std::memory_order_relaxed);
        segments += s.tcp_out.load(std::memory_order_relaxed);
        tso_frames += s.tso_frames.load(std::memory_order_relaxed);
        tso_segments += s.tso_segments.load(std::memory_order_relaxed);
    }
    std::printf("  tcpfp: TX-frames handed to the port: %-12" PRIu64 " TCP segments sent: %" PRIu64 "\n",
                frames, segments);
    std::printf("  tcpfp: TSO %s: %" PRIu64 " super-segments carrying %" PRIu64 " segments\n",
                st.port.tso ? "on" : "off", tso_frames, tso_segments);
}

void show_port(PromptState& st, const std::string& what, const std::string& which) {
    for (std::uint16_t p : ports_of(st, which)) {
        if (what == "info") {
            rte_eth_dev_info info{};
            rte_ether_addr mac{};
            rte_eth_link link{};
            (void)rte_eth_dev_info_get(p, &info);
            (void)rte_eth_macaddr_get(p, &mac);
            (void)rte_eth_link_get_nowait(p, &link);
            std::uint16_t mtu = 0;
            (void)rte_eth_dev_get_mtu(p, &mtu);
            char name[RTE_ETH_NAME_MAX_LEN] = {};
            (void)rte_eth_dev_get_name_by_port(p, name);
            std::printf("********************* Infos for port %u *********************\n", p);
            std::printf("Name: %s\nDriver: %s\nMAC address: " RTE_ETHER_ADDR_PRT_FMT "\n", name,
                        info.driver_name, RTE_ETHER_ADDR_BYTES(&mac));
            std::printf("Socket: %d\nLink: %s, %u Mbps, %s duplex\nMTU: %u\n",
                        rte_eth_dev_socket_id(p), link.link_status ? "up" : "down",
                        link.link_speed, link.link_duplex ? "full" : "half", mtu);
            std::printf("Queues: rx %u, tx %u (one pair per worker)\n", info.nb_rx_queues,
                        info.nb_tx_queues);
            if (p == st.port.id) {
                const LinkShared& l = st.shared.link;
                std::printf("Link changes: %" PRIu64 " up, %" PRIu64 " down; port restarts %" PRIu64
                            " (%" PRIu64 " failed)%s\n",
                            l.ups.load(), l.downs.load(), l.restarts.load(), l.restart_failures.load(),
                            st.port.memif_client ? "; memif client: reconnects with backoff" : "");
                if (!st.port.detail.empty()) std::printf("AF_XDP: %s\n", st.port.detail.c_str());
                std::printf("Checksum offload: rx %s, tx %s\nTSO: %s\nSteering: %s\nAddresses:",
                            st.port.rx_checksum ? "on" : "off", st.port.tx_checksum ? "on" : "off",
                            st.port.tso_state.c_str(), to_string(st.shared.steering.mode()));
                for (const auto& a : st.cfg.port.addresses) {
                    std::printf(" %s", a.addr.to_string().c_str());
                }
                std::printf("\n");
            }
        } else if (what == "xstats") {
            show_xstats(st, p);
        } else {
            rte_eth_stats s{};
            if (rte_eth_stats_get(p, &s) != 0) {
                st.failf("port %u: statistics unavailable", p);
                return;
            }
            std::printf("######################## NIC statistics for port %u ########################\n", p);
            std::printf("  RX-packets: %-12" PRIu64 " RX-missed: %-12" PRIu64 " RX-bytes: %" PRIu64 "\n",
                        s.ipackets, s.imissed, s.ibytes);
            std::printf("  RX-errors: %" PRIu64 "\n  RX-nombuf: %" PRIu64 "\n", s.ierrors, s.rx_nombuf);
            std::printf("  TX-packets: %-12" PRIu64 " TX-errors: %-12" PRIu64 " TX-bytes: %" PRIu64 "\n",
                        s.opackets, s.oerrors, s.obytes);
            if (p == st.port.id) show_tx_frames(st);
        }
    }
}

void show_lcores(PromptState& st) {
    std::printf("main lcore %u: prompt and control\n", rte_get_main_lcore());
    for (unsigned w = 0; w < st.workers(); ++w) {
        const auto& s = st.shared.stats[w];
        std::printf("worker %u: lcore %u, RX/TX queue %u, rx %" PRIu64 " tx %" PRIu64
                    " frames, tcp in %" PRIu64 " out %" PRIu64 ", %" PRIu64
                    " control block(s), %" PRIu64 " TIME_WAIT, handoff out %" PRIu64 " in %" PRIu64
                    ", loop %" PRIu64 " iterations, %" PRIu64 " with frames, busy %.3f s\n",
                    w, s.lcore.load(), w, s.rx_packets.load(), s.tx_packets.load(),
                    s.tcp_in.load(), s.tcp_out.load(), s.connections.load(), s.time_wait.load(),
                    s.handed_off.load(), s.handoff_in.load(), s.loop_iterations.load(),
                    s.loop_rx_bursts.load(), static_cast<double>(s.loop_busy_us.load()) / 1e6);
    }
}

}  // namespace

void add_port_commands(PromptState& st) {
    st.add("show port info#stats#xstats <port>",
           "port details, NIC counters or extended counters (<port> = number or all)",
           [&st](const Args& a) { show_port(st, a.s[2], a.s[3]); });
    st.add("clear port stats all", "reset the NIC counters of every port", [](const Args&) {
        for (unsigned p = 0; p < RTE_MAX_ETHPORTS; ++p) {
            if (rte_eth_dev_is_valid_port(static_cast<std::uint16_t>(p))) {
                (void)rte_eth_stats_reset(static_cast<std::uint16_t>(p));
            }
        }
        std::printf("port statistics cleared\n");
    });
    st.add("show lcores", "the main lcore and each worker's lcore, queue and traffic",
           [&st](const Args&) { show_lcores(st); });
}

}  // namespace tcpfp::app::cli
