// Named counters for every frame the application drops before (or after)
// the TCP engine, which counts its own drops (tcp/engine/counters.hpp).
#pragma once

#include <array>
#include <cstdint>

namespace tcpfp::app {

#define TCPFP_APP_DROPS(X)                                                            \
    X(eth_malformed, "Ethernet frame too short or bad VLAN tagging")                  \
    X(eth_not_for_us, "destination MAC is neither ours nor broadcast")                \
    X(eth_own_source, "source MAC is our own (net_tap kernel side sharing our MAC?)") \
    X(eth_bad_source, "source MAC is multicast or broadcast (never a sender's)")      \
    X(eth_unknown_type, "EtherType is neither IPv4 nor ARP (IPv6, LLDP, ...)")        \
    X(arp_malformed, "ARP packet not Ethernet/IPv4 or truncated")                     \
    X(arp_not_for_us, "ARP request for an address we do not own")                    \
    X(arp_bad_sender, "ARP sender address is unusable or one of ours")                \
    X(ip_truncated, "IPv4 packet shorter than the 20-byte header")                   \
    X(ip_bad_version, "IPv4 header: version is not 4")                               \
    X(ip_bad_ihl, "IPv4 header: IHL below 5 or past the frame")                       \
    X(ip_bad_length, "IPv4 header: total length below the header or past the frame")  \
    X(ip_bad_checksum, "IPv4 header checksum wrong")                                  \
    X(ip_fragment, "IPv4 fragment (no reassembly)")                                   \
    X(ip_ttl_zero, "IPv4 TTL 0")                                                      \
    X(ip_not_for_us, "IPv4 destination is not a local address")                       \
    X(ip_land, "IPv4 source equals destination (LAND attack)")                       \
    X(ip_bad_source, "IPv4 source is broadcast, multicast, unspecified or our own")   \
    X(ip_unknown_proto, "IPv4 protocol is neither TCP nor ICMP")                      \
    X(icmp_malformed, "ICMP message truncated or bad checksum")                       \
    X(icmp_not_echo_request, "ICMP message other than an echo request")               \
    X(tx_no_route, "no local subnet or gateway for the destination")                  \
    X(tx_no_mbuf, "mempool empty when building a packet")                             \
    X(tx_serialize, "segment did not fit an mbuf")                                    \
    X(tx_ring_full, "TX queue still full after retries and backlog: packet freed unsent") \
    X(tx_link_down, "frame over the backlog while the port restarts (link down): freed unsent") \
    X(tx_oversize, "frame longer than the port MTU allows: freed unsent (an engine bug)") \
    X(handoff_ring_full, "owning worker's hand-off ring full: frame freed")            \
    X(impair_loss, "lost on purpose by the [impair] test stage")                       \
    X(arp_queue_full, "packet waiting for ARP dropped: queue full")                   \
    X(arp_unresolved, "packet waiting for ARP dropped: no reply in time")

enum class AppDrop : std::uint8_t {
#define TCPFP_X(name, desc) name,
    TCPFP_APP_DROPS(TCPFP_X)
#undef TCPFP_X
        count_
};

const char* name(AppDrop d);
const char* describe(AppDrop d);

struct AppCounters {
    std::array<std::uint64_t, static_cast<std::size_t>(AppDrop::count_)> drops{};
    std::uint64_t rx_packets = 0;
    std::uint64_t tx_packets = 0;
    std::uint64_t arp_requests_sent = 0;
    std::uint64_t arp_replies_sent = 0;
    std::uint64_t icmp_echo_replies = 0;
    std::uint64_t icmp_errors_in = 0;  // handed to the engine (its counters say what became of them)
    std::uint64_t tcp_in = 0;
    std::uint64_t tcp_out = 0;
    std::uint64_t tx_deferred = 0;  // frames a full TX ring deferred at least once (each counted once)
    std::uint64_t tso_frames = 0;    // super-segments handed to the port's TSO (in tx_packets)
    std::uint64_t tso_segments = 0;  // the TCP segments it cuts from them (in tcp_out)
    void drop(AppDrop d) { drops[static_cast<std::size_t>(d)] += 1; }
    std::uint64_t get(AppDrop d) const { return drops[static_cast<std::size_t>(d)]; }
};

}  // namespace tcpfp::app
