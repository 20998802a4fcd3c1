// Flow steering: which worker owns a TCP flow. Both directions of a flow
// must reach the engine that holds its control block.
//
// One function decides ownership in every mode: the Toeplitz hash with a
// symmetric key (0x6d5a repeated, so hash(A->B) == hash(B->A)) looked up in a
// redirection table. With `rss`, the NIC computes the same hash and uses the
// same table, so packets arrive where they belong; with `software` (net_tap
// in a sandbox, or a NIC without RSS) the receiving worker computes it and
// hands strays to the owner over a ring. Active opens choose source ports
// whose hash maps to the opening worker (engine PortFilter) in both modes.
#pragma once

#include <cstdint>
#include <span>

#include "tcp/base/four_tuple.hpp"

namespace tcpfp::app {

enum class SteerMode : std::uint8_t { single, rss, software };
const char* to_string(SteerMode m);

class Steering {
public:
    static constexpr std::size_t kKeyLen = 40;
    static constexpr std::size_t kRetaSize = 128;  // a power of two: the NIC masks the hash

    Steering();
    void configure(SteerMode mode, unsigned workers);

    SteerMode mode() const { return mode_; }
    unsigned workers() const { return workers_; }
    std::span<const std::uint8_t> key() const { return key_; }
    // Redirection table entry i (a queue = worker index).
    std::uint16_t reta(std::size_t i) const { return reta_[i]; }

    // Owner of the flow between (a_ip, a_port) and (b_ip, b_port), host
    // order; the same for either argument order.
    unsigned owner(std::uint32_t a_ip, std::uint32_t b_ip, std::uint16_t a_port,
                   std::uint16_t b_port) const;
    unsigned owner(const tcp::FourTuple& t) const {
        return owner(t.remote_ip.value, t.local_ip.value, t.remote_port, t.local_port);
    }
    // The owner of an IPv4 packet (header first): for TCP its flow's, for an
    // ICMP error the quoted flow's; `self` when neither can be read.
    unsigned owner_of_packet(std::span<const std::uint8_t> ip, unsigned self) const;

private:
    unsigned owner_of_icmp_error(std::span<const std::uint8_t> icmp, unsigned self) const;

    SteerMode mode_ = SteerMode::single;
    unsigned workers_ = 1;
    std::uint8_t key_[kKeyLen];
    std::uint16_t reta_[kRetaSize] = {};
};

// For Engine::set_port_filter: accept an ephemeral port only if the flow
// maps back to this worker.
struct PortFilterCtx {
    const Steering* steering;
    unsigned self;
    static bool accept(void* ctx, const tcp::FourTuple& t) {
        const auto* c = static_cast<const PortFilterCtx*>(ctx);
        return c->steering->owner(t) == c->self;
    }
};

}  // namespace tcpfp::app
