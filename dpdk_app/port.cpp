#include "dpdk_app/port.hpp"

#include <rte_ethdev.h>
#include <rte_mbuf.h>

#include <algorithm>
#include <cinttypes>
#include <cstdio>
#include <cstring>

#include "dpdk_app/log.hpp"

namespace tcpfp::app {

namespace {
constexpr std::uint64_t kRxCsum = RTE_ETH_RX_OFFLOAD_IPV4_CKSUM | RTE_ETH_RX_OFFLOAD_TCP_CKSUM;
constexpr std::uint64_t kTxCsum = RTE_ETH_TX_OFFLOAD_IPV4_CKSUM | RTE_ETH_TX_OFFLOAD_TCP_CKSUM;

std::string errstr(const std::string& what, int rc) {
    return what + ": " + std::strerror(rc < 0 ? -rc : rc);
}
}  // namespace

std::optional<Port> open_port(const AppConfig& cfg, std::string& error) {
    Port port;
    if (rte_eth_dev_count_avail() == 0) {
        error = "no DPDK port: pass one to EAL, e.g. --vdev=net_tap0,iface=tcpfp0 or a PCI "
                "device bound to vfio-pci (see config/nic.ini)";
        return std::nullopt;
    }
    port.id = 0;
    if (!rte_eth_dev_is_valid_port(port.id)) {
        error = "port 0 is not valid";
        return std::nullopt;
    }
    rte_eth_dev_info info{};
    if (int rc = rte_eth_dev_info_get(port.id, &info); rc != 0) {
        error = errstr("rte_eth_dev_info_get", rc);
        return std::nullopt;
    }
    port.driver = info.driver_name;
    port.socket = std::max(rte_eth_dev_socket_id(port.id), 0);

    // Room for a full frame (MTU + Ethernet + one VLAN tag) in one segment.
    const auto data_room = static_cast<std::uint16_t>(
        std::max<std::uint32_t>(RTE_MBUF_DEFAULT_DATAROOM, cfg.port.mtu + 18u) + RTE_PKTMBUF_HEADROOM);
    port.pool = rte_pktmbuf_pool_create("tcpfp_mbufs", cfg.mbufs, cfg.mbuf_cache, 0, data_room,
                                        port.socket);
    if (port.pool == nullptr) {
        error = errstr("mempool of " + std::to_string(cfg.mbufs) +
                           " mbufs (lower [mempool] mbufs or raise EAL -m)",
                       rte_errno);
        return std::nullopt;
    }

    rte_eth_conf conf{};
    if (cfg.port.checksum_offload) {
        port.rx_checksum = (info.rx_offload_capa & kRxCsum) == kRxCsum;
        port.tx_checksum = (info.tx_offload_capa & kTxCsum) == kTxCsum;
    }
    if (port.rx_checksum) conf.rxmode.offloads |= kRxCsum;
    if (port.tx_checksum) conf.txmode.offloads |= kTxCsum;
    if (int rc = rte_eth_dev_configure(port.id, 1, 1, &conf); rc != 0) {
        error = errstr("rte_eth_dev_configure", rc);
        return std::nullopt;
    }
    if (cfg.port.mtu != 1500) {
        if (int rc = rte_eth_dev_set_mtu(port.id, cfg.port.mtu); rc != 0) {
            error = errstr("[port0] mtu " + std::to_string(cfg.port.mtu), rc);
            return std::nullopt;
        }
    }
    std::uint16_t rxd = cfg.port.rx_desc;
    std::uint16_t txd = cfg.port.tx_desc;
    (void)rte_eth_dev_adjust_nb_rx_tx_desc(port.id, &rxd, &txd);
    rte_eth_rxconf rxq = info.default_rxconf;
    rxq.offloads = conf.rxmode.offloads;
    rte_eth_txconf txq = info.default_txconf;
    txq.offloads = conf.txmode.offloads;
    if (int rc = rte_eth_rx_queue_setup(port.id, 0, rxd, static_cast<unsigned>(port.socket), &rxq,
                                        port.pool);
        rc != 0) {
        error = errstr("rte_eth_rx_queue_setup", rc);
        return std::nullopt;
    }
    if (int rc = rte_eth_tx_queue_setup(port.id, 0, txd, static_cast<unsigned>(port.socket), &txq);
        rc != 0) {
        error = errstr("rte_eth_tx_queue_setup", rc);
        return std::nullopt;
    }
    if (cfg.port.mac) {
        rte_ether_addr a{};
        std::copy(cfg.port.mac->bytes.begin(), cfg.port.mac->bytes.end(), a.addr_bytes);
        if (int rc = rte_eth_dev_default_mac_addr_set(port.id, &a); rc != 0) {
            error = errstr("[port0] mac", rc);
            return std::nullopt;
        }
    }
    if (int rc = rte_eth_dev_start(port.id); rc != 0) {
        error = errstr("rte_eth_dev_start", rc);
        return std::nullopt;
    }
    rte_ether_addr a{};
    (void)rte_eth_macaddr_get(port.id, &a);
    std::copy(a.addr_bytes, a.addr_bytes + 6, port.mac.bytes.begin());
    TLOG(INFO, port, "port %u (%s) up: MAC %s, MTU %u, %u RX / %u TX descriptors, checksums %s/%s",
         port.id, port.driver.c_str(), port.mac.to_string().c_str(), cfg.port.mtu, rxd, txd,
         port.rx_checksum ? "RX offload" : "RX software",
         port.tx_checksum ? "TX offload" : "TX software");
    return port;
}

void print_port_stats(const Port& port) {
    rte_eth_stats s{};
    if (rte_eth_stats_get(port.id, &s) != 0) return;
    std::printf("port %u: rx %" PRIu64 " packets %" PRIu64 " bytes, tx %" PRIu64
                " packets %" PRIu64 " bytes, rx missed %" PRIu64 ", rx errors %" PRIu64
                ", tx errors %" PRIu64 ", rx no mbuf %" PRIu64 "\n",
                port.id, s.ipackets, s.ibytes, s.opackets, s.obytes, s.imissed, s.ierrors,
                s.oerrors, s.rx_nombuf);
}

void close_port(Port& port) {
    (void)rte_eth_dev_stop(port.id);
    (void)rte_eth_dev_close(port.id);
    if (port.pool != nullptr) rte_mempool_free(port.pool);
    port.pool = nullptr;
}

}  // namespace tcpfp::app
