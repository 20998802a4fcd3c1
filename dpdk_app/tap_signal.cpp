#include "dpdk_app/tap_signal.hpp"

#include <pthread.h>
#include <sys/resource.h>

#include <csignal>
#include <ctime>

namespace tcpfp::app {

void block_realtime_signals() {
    sigset_t set;
    sigemptyset(&set);
    for (int sig = SIGRTMIN + 1; sig <= SIGRTMAX; ++sig) sigaddset(&set, sig);
    sigaddset(&set, SIGIO);
    (void)pthread_sigmask(SIG_BLOCK, &set, nullptr);
}

unsigned long raise_signal_queue_limit() {
    rlimit lim{RLIM_INFINITY, RLIM_INFINITY};
    if (setrlimit(RLIMIT_SIGPENDING, &lim) == 0) return RLIM_INFINITY;
    if (getrlimit(RLIMIT_SIGPENDING, &lim) != 0) return 0;
    lim.rlim_cur = lim.rlim_max;  // no CAP_SYS_RESOURCE: as far as the hard limit
    (void)setrlimit(RLIMIT_SIGPENDING, &lim);
    (void)getrlimit(RLIMIT_SIGPENDING, &lim);
    return lim.rlim_cur;
}

unsigned long signal_queue_limit() {
    rlimit lim{};
    return getrlimit(RLIMIT_SIGPENDING, &lim) == 0 ? lim.rlim_cur : 0;
}

bool take_pending_sigio() {
    sigset_t pending;
    if (sigpending(&pending) != 0 || sigismember(&pending, SIGIO) != 1) return false;
    sigset_t io;
    sigemptyset(&io);
    sigaddset(&io, SIGIO);
    const timespec now{0, 0};
    return sigtimedwait(&io, nullptr, &now) == SIGIO;
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
