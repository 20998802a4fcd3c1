#include "dpdk_app/port.hpp"

#include <rte_dev.h>
#include <rte_devargs.h>
#include <rte_ethdev.h>
#include <rte_mbuf.h>

#include <linux/bpf.h>

#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cinttypes>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "dpdk_app/af_xdp.hpp"
#include "dpdk_app/log.hpp"

namespace tcpfp::app {

namespace {
// net_memif with role=client (its devargs say so; server is the default).
bool is_memif_client(const rte_eth_dev_info& info) {
    if (std::strcmp(info.driver_name, "net_memif") != 0 || info.device == nullptr) return false;
    const rte_devargs* args = rte_dev_devargs(info.device);
    return args != nullptr && args->args != nullptr && std::strstr(args->args, "role=client") != nullptr;
}

constexpr std::uint64_t kRxCsum = RTE_ETH_RX_OFFLOAD_IPV4_CKSUM | RTE_ETH_RX_OFFLOAD_TCP_CKSUM;
constexpr std::uint64_t kTxCsum = RTE_ETH_TX_OFFLOAD_IPV4_CKSUM | RTE_ETH_TX_OFFLOAD_TCP_CKSUM;

// A TSO super-segment is a chain of mbufs: the port must take both.
constexpr std::uint64_t kTxTso = RTE_ETH_TX_OFFLOAD_TCP_TSO | RTE_ETH_TX_OFFLOAD_MULTI_SEGS;

// TCP segmentation offload, when the port has it and the configuration
// allows it. It needs TX checksum offload: each segment the port cuts gets
// its checksums there (RTE_MBUF_F_TX_TCP_SEG implies them).
void choose_tso(const AppConfig& cfg, const rte_eth_dev_info& info, Port& port) {
    if ((info.tx_offload_capa & kTxTso) != kTxTso) {
        port.tso_state = "off (not offered by the port)";
        return;
    }
    if (!cfg.port.tso) {
        port.tso_state = "off ([port0] tso = off)";
        return;
    }
    if (!port.tx_checksum) {
        port.tso_state = "off (needs TX checksum offload, which is off)";
        return;
    }
    port.tso = true;
    port.tso_max_mbufs = info.tx_desc_lim.nb_seg_max == 0 ? UINT16_MAX : info.tx_desc_lim.nb_seg_max;
    port.tso_state = "on";
    // net_tap segments in software (rte_gso, drivers/net/tap/rte_eth_tap.c)
    // and refuses a super-segment whose tso_segsz plus Ethernet, IPv4 and
    // TCP headers exceeds its MTU, as if the Ethernet header were part of
    // the MTU; ethdev will not raise the tap's MTU past max_rx_pktlen (1522)
    // to make room. So its segments are 14 bytes short of the MTU's.
    // Its checksums of the segments it cuts are right only for even cut
    // sizes (tcp::TsoLimits::even_cut).
    if (std::strcmp(info.driver_name, "net_tap") == 0) {
        port.tso_even_cut = true;
        port.send_mtu = static_cast<std::uint16_t>(cfg.port.mtu - RTE_ETHER_HDR_LEN);
        port.tso_state += " (net_tap: segments sent up to IPv4 " + std::to_string(port.send_mtu) +
                          " bytes, as its TSO counts the Ethernet header in the MTU; it cuts them "
                          "in the PMD, one writev each)";
    }
}

std::string errstr(const std::string& what, int rc) {
    return what + ": " + std::strerror(rc < 0 ? -rc : rc);
}


// RSS is used only when asked for (or auto) and the port can hash IPv4/TCP
// into enough queues with our key and table. net_tap advertises RSS but
// implements it through rte_flow and a kernel multiq qdisc that sandboxes
// refuse (FIELD-NOTES), and its queues are chosen by the kernel otherwise:
// under auto it gets software steering.
SteerMode choose_steering(const AppConfig& cfg, const rte_eth_dev_info& info, std::string& error) {
    if (cfg.workers == 1) return SteerMode::single;
    const bool capable = (info.flow_type_rss_offloads & RTE_ETH_RSS_NONFRAG_IPV4_TCP) != 0 &&
                         info.hash_key_size == Steering::kKeyLen &&
                         info.reta_size >= Steering::kRetaSize &&
                         info.reta_size % Steering::kRetaSize == 0;
    const bool tap = std::strcmp(info.driver_name, "net_tap") == 0;
    if (cfg.steering == SteerChoice::software) return SteerMode::software;
    if (cfg.steering == SteerChoice::rss) {
        if (!capable) error = "[lcores] steering = rss: the port cannot hash IPv4/TCP with a 40-byte key";
        return SteerMode::rss;
    }
    return capable && !tap ? SteerMode::rss : SteerMode::software;
}

// net_af_xdp offers no checksum offload and no RSS; what matters is in the
// kernel (af_xdp.hpp): logged once and kept for `show port info`, with a
// warning for each setting that loses frames.
void report_af_xdp(Port& port, const rte_eth_dev_info& info) {
    const AfXdpReport r = inspect_af_xdp(info.if_index);
    port.detail = r.summary();
    TLOG(INFO, port, "port %u: %s", port.id, port.detail.c_str());
    if (!r.up) {
        TLOG(WARNING, port, "port %u: %s is down: no frame passes until `ip link set %s up`", port.id,
             r.iface.c_str(), r.iface.c_str());
    }
    if (r.peer_tx_checksum) {
        // veth passes Linux's segments on with CHECKSUM_PARTIAL (only the
        // pseudo-header summed); AF_XDP hands them over as they are, and
        // nothing in the frame tells them from corrupt ones.
        TLOG(WARNING, port,
             "port %u: Linux's end %s has TX checksum offload on: its TCP segments arrive with partial "
             "checksums and are dropped (tcp_bad_checksum); run `ethtool -K %s tx off`",
             port.id, r.peer.c_str(), r.peer.c_str());
    }
}

// Programs the redirection table so hardware and Steering::owner agree.
int program_reta(std::uint16_t port_id, const rte_eth_dev_info& info, const Steering& steering) {
    std::vector<rte_eth_rss_reta_entry64> reta(info.reta_size / RTE_ETH_RETA_GROUP_SIZE);
    for (std::size_t i = 0; i < info.reta_size; ++i) {
        auto& group = reta[i / RTE_ETH_RETA_GROUP_SIZE];
        group.mask |= 1ull << (i % RTE_ETH_RETA_GROUP_SIZE);
        group.reta[i % RTE_ETH_RETA_GROUP_SIZE] = steering.reta(i % Steering::kRetaSize);
    }
    return rte_eth_dev_rss_reta_update(port_id, reta.data(), info.reta_size);
}

// Port 0 exists and is valid; fills `info` and the port's driver and socket.
bool probe_port(Port& port, rte_eth_dev_info& info, std::string& error) {
    if (rte_eth_dev_count_avail() == 0) {
        error = "no DPDK port: pass one to EAL, e.g. --vdev=net_tap0,iface=tcpfp0 or a PCI "
                "device bound to vfio-pci (see config/nic.ini)";
        return false;
    }
    port.id = 0;
    if (!rte_eth_dev_is_valid_port(port.id)) {
        error = "port 0 is not valid";
        return false;
    }
    if (int rc = rte_eth_dev_info_get(port.id, &info); rc != 0) {
        error = errstr("rte_eth_dev_info_get", rc);
        return false;
    }
    port.driver = info.driver_name;
    port.socket = std::max(rte_eth_dev_socket_id(port.id), 0);
    return true;
}

bool create_mbuf_pool(const AppConfig& cfg, Port& port, std::string& error) {
    // Room for a full frame (MTU + Ethernet + one VLAN tag) in one segment.
    // net_af_xdp makes each mbuf a UMEM chunk, and the kernel writes a frame
    // XDP_PACKET_HEADROOM into the chunk's data room: without that extra, a
    // frame above 1792 bytes finds no room and the kernel drops it (counted
    // as rx missed). A chunk must fit in a 4 KiB page; with the mempool's
    // object header and its odd-cache-line padding that holds up to MTU
    // 3438 (the PMD's max_mtu, 3542, does not count those).
    const std::uint32_t xdp_headroom = port.driver == "net_af_xdp" ? XDP_PACKET_HEADROOM : 0;
    const auto data_room = static_cast<std::uint16_t>(
        std::max<std::uint32_t>(RTE_MBUF_DEFAULT_DATAROOM, cfg.port.mtu + 18u + xdp_headroom) +
        RTE_PKTMBUF_HEADROOM);
    port.pool = rte_pktmbuf_pool_create("tcpfp_mbufs", cfg.mbufs, cfg.mbuf_cache, 0, data_room,
                                        port.socket);
    if (port.pool == nullptr) {
        error = errstr("mempool of " + std::to_string(cfg.mbufs) +
                           " mbufs (lower [mempool] mbufs or raise EAL -m)",
                       rte_errno);
        return false;
    }
    return true;
}

// Checksum offloads (those the port has, when configured) and TSO.
void choose_offloads(const AppConfig& cfg, const rte_eth_dev_info& info, Port& port,
                     rte_eth_conf& conf) {
    if (cfg.port.checksum_offload) {
        port.rx_checksum = (info.rx_offload_capa & kRxCsum) == kRxCsum;
        port.tx_checksum = (info.tx_offload_capa & kTxCsum) == kTxCsum;
    }
    if (port.rx_checksum) conf.rxmode.offloads |= kRxCsum;
    if (port.tx_checksum) conf.txmode.offloads |= kTxCsum;
    choose_tso(cfg, info, port);
    if (port.tso) conf.txmode.offloads |= kTxTso;
}

// One queue pair per worker, and the way flows reach them.
std::optional<SteerMode> choose_queues(const AppConfig& cfg, const rte_eth_dev_info& info,
                                       Steering& steering, Port& port, rte_eth_conf& conf,
                                       std::string& error) {
    port.queues = static_cast<std::uint16_t>(cfg.workers);
    if (info.max_rx_queues < port.queues || info.max_tx_queues < port.queues) {
        error = "[lcores] workers = " + std::to_string(cfg.workers) + ": the port has only " +
                std::to_string(std::min(info.max_rx_queues, info.max_tx_queues)) + " queue pair(s)";
        return std::nullopt;
    }
    const SteerMode mode = choose_steering(cfg, info, error);
    if (!error.empty()) return std::nullopt;
    steering.configure(mode, cfg.workers);
    if (mode == SteerMode::rss) {
        conf.rxmode.mq_mode = RTE_ETH_MQ_RX_RSS;
        conf.rx_adv_conf.rss_conf.rss_key = const_cast<std::uint8_t*>(steering.key().data());
        conf.rx_adv_conf.rss_conf.rss_key_len = Steering::kKeyLen;
        conf.rx_adv_conf.rss_conf.rss_hf = RTE_ETH_RSS_NONFRAG_IPV4_TCP & info.flow_type_rss_offloads;
    }
    return mode;
}

bool configure_device(const AppConfig& cfg, const Port& port, const rte_eth_conf& conf,
                      std::string& error) {
    if (int rc = rte_eth_dev_configure(port.id, port.queues, port.queues, &conf); rc != 0) {
        error = errstr("rte_eth_dev_configure", rc);
        return false;
    }
    if (cfg.port.mtu != 1500) {
        if (int rc = rte_eth_dev_set_mtu(port.id, cfg.port.mtu); rc != 0) {
            error = errstr("[port0] mtu " + std::to_string(cfg.port.mtu), rc);
            return false;
        }
    }
    return true;
}

// An RX and a TX queue of `rxd` and `txd` descriptors for each worker.
bool setup_queues(const Port& port, const rte_eth_dev_info& info, const rte_eth_conf& conf,
                  std::uint16_t rxd, std::uint16_t txd, std::string& error) {
    rte_eth_rxconf rxq = info.default_rxconf;
    rxq.offloads = conf.rxmode.offloads;
    rte_eth_txconf txq = info.default_txconf;
    txq.offloads = conf.txmode.offloads;
    for (std::uint16_t q = 0; q < port.queues; ++q) {
        if (int rc = rte_eth_rx_queue_setup(port.id, q, rxd, static_cast<unsigned>(port.socket),
                                            &rxq, port.pool);
            rc != 0) {
            error = errstr("rte_eth_rx_queue_setup", rc);
            // The PMD creates the UMEM, the AF_XDP socket and the XDP
            // program here; its own lines above say which the kernel refused.
            if (port.driver == "net_af_xdp") {
                error += " (net_af_xdp: the kernel refused the UMEM, the AF_XDP socket or the XDP "
                         "program, see the lines above; an mbuf must fit one 4 KiB UMEM chunk, so "
                         "[port0] mtu <= 3438; on a veth the peer's MTU must be <= 3506)";
            }
            return false;
        }
        if (int rc = rte_eth_tx_queue_setup(port.id, q, txd, static_cast<unsigned>(port.socket),
                                            &txq);
            rc != 0) {
            error = errstr("rte_eth_tx_queue_setup", rc);
            return false;
        }
    }
    return true;
}

bool set_configured_mac(const Port& port, const wire::MacAddr& mac, std::string& error) {
    rte_ether_addr a{};
    std::copy(mac.bytes.begin(), mac.bytes.end(), a.addr_bytes);
    if (int rc = rte_eth_dev_default_mac_addr_set(port.id, &a); rc != 0) {
        error = errstr("[port0] mac", rc);
        return false;
    }
    return true;
}

// Starts the port; a memif client without its server yet is left stopped.
bool start_port(Port& port, const rte_eth_dev_info& info, std::string& error) {
    port.memif_client = is_memif_client(info);
    if (int rc = rte_eth_dev_start(port.id); rc != 0) {
        if (!port.memif_client) {
            error = errstr("rte_eth_dev_start", rc);
            return false;
        }
        // No server at the socket yet: the link watcher starts the port later.
        TLOG(NOTICE, port, "port %u: memif client found no server yet; retrying with backoff", port.id);
    } else {
        port.started = true;
    }
    return true;
}

void log_port_up(const AppConfig& cfg, const Port& port, SteerMode mode, std::uint16_t rxd,
                 std::uint16_t txd) {
    TLOG(INFO, port, "port %u (%s) up: MAC %s, MTU %u, %u RX / %u TX descriptors, checksums %s/%s",
         port.id, port.driver.c_str(), port.mac.to_string().c_str(), cfg.port.mtu, rxd, txd,
         port.rx_checksum ? "RX offload" : "RX software",
         port.tx_checksum ? "TX offload" : "TX software");
    TLOG(INFO, port, "port %u: %u queue pair(s), steering: %s", port.id, port.queues,
         to_string(mode));
    TLOG(INFO, port, "port %u: TSO %s", port.id, port.tso_state.c_str());
}
}  // namespace

std::optional<Port> open_port(const AppConfig& cfg, Steering& steering, std::string& error) {
    Port port;
    rte_eth_dev_info info{};
    if (!probe_port(port, info, error) || !create_mbuf_pool(cfg, port, error)) return std::nullopt;
    rte_eth_conf conf{};
    choose_offloads(cfg, info, port, conf);
    const std::optional<SteerMode> mode = choose_queues(cfg, info, steering, port, conf, error);
    if (!mode || !configure_device(cfg, port, conf, error)) return std::nullopt;
    std::uint16_t rxd = cfg.port.rx_desc;
    std::uint16_t txd = cfg.port.tx_desc;
    (void)rte_eth_dev_adjust_nb_rx_tx_desc(port.id, &rxd, &txd);
    if (!setup_queues(port, info, conf, rxd, txd, error)) return std::nullopt;
    if (cfg.port.mac && !set_configured_mac(port, *cfg.port.mac, error)) return std::nullopt;
    if (!start_port(port, info, error)) return std::nullopt;
    if (*mode == SteerMode::rss) {
        if (int rc = program_reta(port.id, info, steering); rc != 0) {
            error = errstr("RSS redirection table", rc);
            return std::nullopt;
        }
    }
    rte_ether_addr a{};
    (void)rte_eth_macaddr_get(port.id, &a);
    std::copy(a.addr_bytes, a.addr_bytes + 6, port.mac.bytes.begin());
    log_port_up(cfg, port, *mode, rxd, txd);
    if (port.driver == "net_af_xdp") report_af_xdp(port, info);
    return port;
}

namespace {
// The value of `key=` in a comma-separated devargs string, or "".
std::string devarg(const std::string& args, const std::string& key) {
    std::size_t at = 0;
    while (at <= args.size()) {
        const std::size_t end = std::min(args.find(',', at), args.size());
        const std::string item = args.substr(at, end - at);
        if (item.rfind(key + "=", 0) == 0) return item.substr(key.size() + 1);
        at = end + 1;
    }
    return "";
}

// True when a unix socket file exists at `path` and nothing accepts on it.
bool is_stale_socket(const std::string& path) {
    struct stat st {};
    if (stat(path.c_str(), &st) != 0 || !S_ISSOCK(st.st_mode)) return false;
    const int fd = socket(AF_UNIX, SOCK_SEQPACKET, 0);
    if (fd < 0) return false;
    sockaddr_un sun{};
    sun.sun_family = AF_UNIX;
    if (path.size() >= sizeof sun.sun_path) {
        close(fd);
        return false;
    }
    std::copy(path.begin(), path.end(), sun.sun_path);
    const bool refused = connect(fd, reinterpret_cast<sockaddr*>(&sun), sizeof sun) != 0 && errno == ECONNREFUSED;
    close(fd);
    return refused;
}
}  // namespace

void remove_stale_memif_sockets(int eal_argc, char** eal_argv) {
    for (int i = 1; i < eal_argc; ++i) {
        std::string arg = eal_argv[i];
        if (arg == "--vdev" && i + 1 < eal_argc) arg = eal_argv[++i];
        else if (arg.rfind("--vdev=", 0) == 0) arg = arg.substr(7);
        else continue;
        if (arg.rfind("net_memif", 0) != 0) continue;
        const std::string path = devarg(arg, "socket");
        if (devarg(arg, "role") != "server" || devarg(arg, "socket-abstract") != "no" || path.empty()) continue;
        if (is_stale_socket(path) && unlink(path.c_str()) == 0) {
            std::fprintf(stderr, "tcpfp: removed stale memif socket %s (nothing accepted on it)\n", path.c_str());
        }
    }
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
    if (port.started) (void)rte_eth_dev_stop(port.id);
    port.started = false;
    (void)rte_eth_dev_close(port.id);
    if (port.pool != nullptr) rte_mempool_free(port.pool);
    port.pool = nullptr;
}

}  // namespace tcpfp::app
