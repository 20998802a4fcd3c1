// A netem-like impairment stage for tests where the kernel has no sch_netem:
// drops a share of frames, delays the rest, and lets a share jump the delay
// line (so they overtake earlier frames: reordering, as netem's "reorder").
// Off unless [impair] sets it; one instance each for a worker's RX and TX.
#pragma once

#include <rte_cycles.h>
#include <rte_mbuf.h>

#include <cstdint>
#include <vector>

namespace tcpfp::app {

struct ImpairConfig {
    std::uint32_t loss_permille = 0;
    std::uint32_t reorder_permille = 0;
    std::uint32_t delay_us = 0;
    bool enabled() const { return loss_permille != 0 || reorder_permille != 0 || delay_us != 0; }
};

class Impair {
public:
    Impair(const ImpairConfig& cfg, std::uint64_t seed)
        : cfg_(cfg), delay_tsc_(rte_get_tsc_hz() / 1000000 * cfg.delay_us), rng_(seed | 1) {}

    bool enabled() const { return cfg_.enabled(); }
    // Takes a frame: returns false when it is lost (the caller frees it).
    bool admit(rte_mbuf* m, std::uint64_t now_tsc) {
        if (chance(cfg_.loss_permille)) return false;
        const bool jump = chance(cfg_.reorder_permille);
        line_.push_back({jump ? now_tsc : now_tsc + delay_tsc_, m});
        return true;
    }
    // Appends the frames now due to `out`, in arrival order among them.
    template <class Out>
    void release(std::uint64_t now_tsc, Out&& out) {
        std::size_t keep = 0;
        for (auto& e : line_) {
            if (e.due <= now_tsc) {
                out(e.m);
            } else {
                line_[keep++] = e;
            }
        }
        line_.resize(keep);
    }
    std::size_t held() const { return line_.size(); }

private:
    bool chance(std::uint32_t permille) {
        if (permille == 0) return false;
        rng_ ^= rng_ << 13;  // xorshift64: fast, and reproducible from the seed
        rng_ ^= rng_ >> 7;
        rng_ ^= rng_ << 17;
        return rng_ % 1000 < permille;
    }
    struct Entry {
        std::uint64_t due;
        rte_mbuf* m;
    };
    ImpairConfig cfg_;
    std::uint64_t delay_tsc_;
    std::uint64_t rng_;
    std::vector<Entry> line_;
};

}  // namespace tcpfp::app
