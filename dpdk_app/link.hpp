// The link watcher: a control thread that reads port 0's link every 10 ms,
// logs and counts each change (either role, any driver), and, when the port
// is a net_memif client whose link is down, restarts the port with backoff
// until a server accepts it. DPDK 22.11's memif client connects once, at
// rte_eth_dev_start, and never again: not when the server was not there yet,
// not when the server refused it ("ID 0 not found": its device not started),
// not after the server went away (dpdk_app/README.md, "memif notes").
//
// A restart stops and starts the port, which unmaps memif's shared rings, so
// the workers must not be inside an RX or TX burst: the watcher raises
// LinkShared::pause and waits until every polling worker says it is idle.
#pragma once

#include <rte_ethdev.h>

#include <atomic>
#include <cstdint>
#include <pthread.h>

#include "dpdk_app/port.hpp"
#include "dpdk_app/shared.hpp"

namespace tcpfp::app {

class LinkWatch {
public:
    LinkWatch(Port& port, LinkShared& link, unsigned workers);
    ~LinkWatch();
    LinkWatch(const LinkWatch&) = delete;
    LinkWatch& operator=(const LinkWatch&) = delete;

    // Starts the thread; false when it could not be created.
    bool start();
    // Stops and joins it (before the port closes).
    void stop();

private:
    static void* thread_main(void* self);
    void run();
    void observe(std::uint64_t now_ms);
    void restart(std::uint64_t now_ms);
    bool pause_workers();
    void resume_workers();

    Port& port_;
    LinkShared& link_;
    unsigned workers_;
    pthread_t thread_{};
    bool running_ = false;
    std::atomic<bool> stop_{false};
    bool up_ = false;
    std::uint64_t since_ms_ = 0;  // when the state last changed; 0: not read yet
    std::uint64_t backoff_ms_ = 0;
};

}  // namespace tcpfp::app
