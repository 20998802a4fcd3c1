// net_af_xdp: what the kernel made of the port. The PMD reports neither the
// mode its XDP program runs in nor how its sockets are bound, and on a veth
// the far end's checksum offload decides whether Linux's TCP segments pass
// tcpfp's checksum check (dpdk_app/README.md, "af_xdp notes").
#pragma once

#include <cstdint>
#include <string>

namespace tcpfp::app {

struct AfXdpReport {
    std::string iface;          // the interface the PMD bound (iface=)
    bool up = false;            // IFF_UP: the PMD does not bring it up
    bool carrier = false;       // IFF_RUNNING: a veth has it only while its peer is up
    std::string mode = "none";  // native (driver), generic (skb), offloaded, none
    std::uint32_t prog_id = 0;  // the XDP program attached to iface
    unsigned sockets = 0;       // AF_XDP sockets this process holds
    unsigned zero_copy = 0;     // of which bound zero-copy (the rest copy)
    int busy_poll_budget = 0;   // SO_BUSY_POLL_BUDGET on the first (PMD's busy_budget=; 0: off)
    std::string driver;         // the kernel driver of iface (ethtool), e.g. veth
    std::string peer;           // a veth's other end, when it is in this namespace
    bool peer_tx_checksum = false;  // that end leaves TCP checksums to the device

    // One line for the log and `show port info`.
    std::string summary() const;
};

// Reads the kernel's view of interface `if_index` (rte_eth_dev_info::if_index).
AfXdpReport inspect_af_xdp(unsigned if_index);

}  // namespace tcpfp::app
