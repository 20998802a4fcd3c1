#include "dpdk_app/link.hpp"

#include <rte_alarm.h>
#include <rte_lcore.h>
#include <rte_pause.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <thread>

#include "dpdk_app/log.hpp"

namespace tcpfp::app {

namespace {
constexpr auto kPoll = std::chrono::milliseconds(10);
constexpr std::uint64_t kFirstBackoffMs = 100;
constexpr std::uint64_t kMaxBackoffMs = 5000;
constexpr auto kPauseTimeout = std::chrono::seconds(1);

// A port restart handed to the EAL interrupt thread (below).
struct RestartJob {
    std::uint16_t port = 0;
    bool was_started = false;
    int rc = 0;
    std::atomic<bool> done{false};
};

void restart_in_interrupt_thread(void* arg) {
    auto* job = static_cast<RestartJob*>(arg);
    if (job->was_started) (void)rte_eth_dev_stop(job->port);
    job->rc = rte_eth_dev_start(job->port);
    job->done.store(true, std::memory_order_release);
}

std::uint64_t steady_ms() {
    return static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                          std::chrono::steady_clock::now().time_since_epoch())
                                          .count());
}
}  // namespace

LinkWatch::LinkWatch(Port& port, LinkShared& link, unsigned workers)
    : port_(port), link_(link), workers_(workers) {}

LinkWatch::~LinkWatch() { stop(); }

bool LinkWatch::start() {
    running_ = rte_ctrl_thread_create(&thread_, "tcpfp-link", nullptr, &LinkWatch::thread_main, this) == 0;
    if (!running_) TLOG(WARNING, port, "link watcher thread not started: link changes go unseen");
    return running_;
}

void LinkWatch::stop() {
    if (!running_) return;
    stop_.store(true, std::memory_order_relaxed);
    pthread_join(thread_, nullptr);
    running_ = false;
    link_.pause.store(false, std::memory_order_release);
}

void* LinkWatch::thread_main(void* self) {
    static_cast<LinkWatch*>(self)->run();
    return nullptr;
}

void LinkWatch::run() {
    while (!stop_.load(std::memory_order_relaxed)) {
        const std::uint64_t now = steady_ms();
        observe(now);
        if (port_.memif_client && !up_ && now - since_ms_ >= backoff_ms_) restart(now);
        std::this_thread::sleep_for(kPoll);
    }
}

// Logs and counts a change of the port's link state.
void LinkWatch::observe(std::uint64_t now_ms) {
    rte_eth_link l{};
    if (port_.started && rte_eth_link_get_nowait(port_.id, &l) != 0) return;
    const bool up = port_.started && l.link_status == RTE_ETH_LINK_UP;
    if (up == up_ && since_ms_ != 0) return;
    if (up) {
        link_.ups.fetch_add(1, std::memory_order_relaxed);
        TLOG(NOTICE, port, "port %u: link up, %u Mbps %s-duplex", port_.id, l.link_speed,
             l.link_duplex == RTE_ETH_LINK_FULL_DUPLEX ? "full" : "half");
        backoff_ms_ = kFirstBackoffMs;
    } else {
        if (up_) link_.downs.fetch_add(1, std::memory_order_relaxed);
        TLOG(NOTICE, port, "port %u: link down%s", port_.id,
             port_.memif_client ? " (memif client: reconnecting with backoff)" : "");
        backoff_ms_ = up_ ? 0 : kFirstBackoffMs;  // a link that was up retries at once
    }
    up_ = up;
    since_ms_ = now_ms;
    link_.up.store(up, std::memory_order_relaxed);
    link_.speed_mbps.store(up ? l.link_speed : 0, std::memory_order_relaxed);
}

// memif client: stop and start the port (which connects again), with the
// workers off the port meanwhile; the next try waits twice as long.
void LinkWatch::restart(std::uint64_t now_ms) {
    if (!pause_workers()) {
        if (port_.started) resume_workers();
        TLOG(WARNING, port, "port %u: a worker did not leave the port within 1 s: no restart", port_.id);
        since_ms_ = now_ms;
        return;
    }
    // The stop and the start run in the EAL interrupt thread, as an alarm:
    // the memif PMD runs its control-channel callbacks there, and a stop or
    // start from this thread could free or replace the control channel
    // while a callback still used it (a survivor died in rte_intr_fd_get
    // under memif_intr_handler, memif_link round 10 under load; DPDK
    // 22.11). In that thread the two never overlap.
    RestartJob job;
    job.port = port_.id;
    job.was_started = port_.started;
    if (rte_eal_alarm_set(1, &restart_in_interrupt_thread, &job) == 0) {
        while (!job.done.load(std::memory_order_acquire)) std::this_thread::sleep_for(std::chrono::microseconds(200));
    } else {
        TLOG(WARNING, port, "port %u: no EAL alarm for the restart: restarting from the link thread", port_.id);
        restart_in_interrupt_thread(&job);
    }
    const int rc = job.rc;
    port_.started = rc == 0;
    if (port_.started) resume_workers();  // a port that did not start stays off limits
    link_.restarts.fetch_add(1, std::memory_order_relaxed);
    if (rc != 0) link_.restart_failures.fetch_add(1, std::memory_order_relaxed);
    TLOG(INFO, port, "port %u: memif client restarted (%s); next try in %llu ms if still down",
         port_.id, rc == 0 ? "connecting" : "start failed: no server yet",
         static_cast<unsigned long long>(std::min(backoff_ms_ * 2, kMaxBackoffMs)));
    since_ms_ = now_ms;
    backoff_ms_ = std::min(std::max(backoff_ms_, kFirstBackoffMs) * 2, kMaxBackoffMs);
}

bool LinkWatch::pause_workers() {
    link_.pause.store(true, std::memory_order_seq_cst);
    const auto deadline = std::chrono::steady_clock::now() + kPauseTimeout;
    for (unsigned w = 0; w < workers_; ++w) {
        while (link_.polling[w].load(std::memory_order_acquire) &&
               !link_.idle[w].load(std::memory_order_acquire)) {
            if (std::chrono::steady_clock::now() > deadline) return false;
            rte_pause();
        }
    }
    return true;
}

void LinkWatch::resume_workers() { link_.pause.store(false, std::memory_order_release); }

}  // namespace tcpfp::app
