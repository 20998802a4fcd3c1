// An in-memory worker for app tests: engine A of the tests/engine harness
// link runs a Host with the apps under test; engine B plays the peer (the
// test drives it directly). One step() is one worker-loop iteration: the
// link moves for `step` of virtual time, then the host routes A's events,
// polls its apps and, once a millisecond, ticks them.
#pragma once

#include <functional>

#include "dpdk_app/apps/host.hpp"
#include "engine/harness.hpp"

namespace tcpfp::app::test {

// Every next hop is resolved at once (there is no ARP on the test link).
class ResolvedNeighbors : public Neighbors {
public:
    bool resolve(wire::Ipv4Addr, std::uint64_t) override { ++calls; return true; }
    unsigned calls = 0;
};

class AppNet {
public:
    explicit AppNet(const tcp::EngineConfig& a = tcp::test::test_config(),
                    const tcp::EngineConfig& b = tcp::test::test_config())
        : net_(a, b), host_(net_.a(), neighbors_, 0) {
        net_.leave_events_in_a(true);
        host_.set_drain({[](void* ctx, Instant) { static_cast<AppNet*>(ctx)->net_.flush(); }, this});
    }

    tcp::test::Net& net() { return net_; }
    Host& host() { return host_; }
    tcp::Engine& peer() { return net_.b(); }
    Instant now() const { return net_.now(); }

    Stack& add(App& app, bool poll = false) { return host_.add(app, poll); }
    void start() {
        host_.start(net_.now());
        net_.flush();
    }

    void step(tcp::Duration d = tcp::Duration::micros(50)) {
        net_.run_for(d);
        host_.dispatch(net_.now());
        host_.poll(net_.now());
        if (net_.now().millis() != last_tick_ms_) {
            last_tick_ms_ = net_.now().millis();
            host_.tick(net_.now());
        }
        net_.flush();
    }
    bool run_until(const std::function<bool()>& pred,
                   tcp::Duration limit = tcp::Duration::seconds(10)) {
        const Instant end = net_.now() + limit;
        while (net_.now() < end) {
            step();
            if (pred()) return true;
        }
        return pred();
    }

private:
    tcp::test::Net net_;
    ResolvedNeighbors neighbors_;
    Host host_;
    std::uint64_t last_tick_ms_ = 0;
};

}  // namespace tcpfp::app::test
