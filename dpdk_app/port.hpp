// Port bring-up and tear-down: mempool, one RX and one TX queue per worker,
// RSS with a symmetric key when the port honours it,
// checksum offloads when (and only when) the device reports them.
#pragma once

#include <rte_mempool.h>

#include <cstdint>
#include <optional>
#include <string>

#include "dpdk_app/app_config.hpp"
#include "dpdk_app/steering.hpp"
#include "tcp/wire/addr.hpp"

namespace tcpfp::app {

struct Port {
    std::uint16_t id = 0;
    std::string driver;
    rte_mempool* pool = nullptr;
    wire::MacAddr mac;
    bool rx_checksum = false;  // RX flags say GOOD/BAD for IPv4 and TCP
    bool tx_checksum = false;  // the NIC fills IPv4 and TCP checksums
    // TCP segmentation offload in use: the worker hands runs of segments to
    // the port as one chain (tcp::tso_run, RTE_MBUF_F_TX_TCP_SEG).
    bool tso = false;
    std::uint16_t tso_max_mbufs = 0;  // mbufs one TSO chain may take (tx_desc_lim.nb_seg_max)
    bool tso_even_cut = false;        // tcp::TsoLimits::even_cut (net_tap)
    // The engine's EngineConfig::send_mtu (0: the MTU). net_tap's TSO
    // compares payload + Ethernet, IPv4 and TCP headers with its MTU, so a
    // full-size segment would fail there: its segments are 14 bytes short.
    std::uint16_t send_mtu = 0;
    std::string tso_state;  // for the log and `show port info`
    int socket = 0;
    std::uint16_t queues = 1;  // RX and TX queue pairs: one per worker
    bool memif_client = false;  // net_memif with role=client: LinkWatch reconnects it
    bool started = false;       // rte_eth_dev_start succeeded (a memif client may start later)
    std::string detail;         // what the kernel made of a net_af_xdp port (af_xdp.hpp), else ""
};

// Configures and starts port 0 with one queue pair per worker, and decides
// how flows are steered (`steering` is configured here). On failure returns
// nullopt with `error`.
std::optional<Port> open_port(const AppConfig& cfg, Steering& steering, std::string& error);
// Before EAL starts: a net_memif server (`--vdev=net_memif...,role=server,
// socket=PATH,socket-abstract=no`) whose socket file is left over from a
// process that died (nothing accepts on it) would fail with "Address already
// in use"; such a file is removed, with a log line. A live socket is left alone.
void remove_stale_memif_sockets(int eal_argc, char** eal_argv);
void print_port_stats(const Port& port);
void close_port(Port& port);

}  // namespace tcpfp::app
