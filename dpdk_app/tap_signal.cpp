#include "dpdk_app/tap_signal.hpp"

#include <pthread.h>

#include <csignal>

namespace tcpfp::app {

void block_realtime_signals() {
    sigset_t set;
    sigemptyset(&set);
    for (int sig = SIGRTMIN + 1; sig <= SIGRTMAX; ++sig) sigaddset(&set, sig);
    (void)pthread_sigmask(SIG_BLOCK, &set, nullptr);
}

int tap_rx_signal() {
    for (int sig = SIGRTMIN + 1; sig <= SIGRTMAX; ++sig) {
        struct sigaction sa {};
        const bool handled = sigaction(sig, nullptr, &sa) == 0 && sa.sa_handler != SIG_DFL &&
                             sa.sa_handler != SIG_IGN;
        if (handled) return sig;
    }
    return -1;
}

bool take_signal(int sig) {
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, sig);
    return pthread_sigmask(SIG_UNBLOCK, &set, nullptr) == 0;
}

}  // namespace tcpfp::app
