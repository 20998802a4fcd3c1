// net_tap's RX signal. DPDK 22.11's net_tap reads its kernel queue only after
// a real-time signal (fcntl F_SETSIG, owner the whole process) bumped its
// trigger, and the kernel queues one such signal per frame. These helpers
// keep that signal on the worker that reads the queue (dpdk_app/README.md,
// "net_tap notes").
#pragma once

namespace tcpfp::app {

// Blocks SIGRTMIN+1..SIGRTMAX and SIGIO on the calling thread. Called
// before EAL starts, so every thread EAL creates inherits the mask. SIGIO
// is what the kernel sends instead of a real-time signal it cannot queue
// (the user's RLIMIT_SIGPENDING reached, fcntl(2) F_SETSIG); its default
// action ends the process, so it stays blocked and worker 0 takes it
// (take_pending_sigio).
void block_realtime_signals();

// Lifts this process's RLIMIT_SIGPENDING to unlimited (or to its hard
// limit, without CAP_SYS_RESOURCE). The count it bounds is per user: with
// the limit of a shell, other processes of the same user (another tcpfp
// under a SYN flood) could fill it and leave net_tap's RX signals unqueued.
// Returns the soft limit now in force (RLIM_INFINITY when unlimited).
unsigned long raise_signal_queue_limit();
// The soft RLIMIT_SIGPENDING in force (RLIM_INFINITY when unlimited).
unsigned long signal_queue_limit();

// True when a SIGIO was pending for the process, which it consumes: a
// real-time signal was lost, and with it net_tap's RX trigger for a frame.
bool take_pending_sigio();

// The signal net_tap claimed for RX: DPDK 22.11 takes the first real-time
// signal above SIGRTMIN that still has the default action, so it is the
// first one that has a handler now. -1 when there is none.
int tap_rx_signal();

// Unblocks `sig` on the calling thread, which then takes every such signal
// sent to the process. False when the mask could not be changed.
bool take_signal(int sig);

}  // namespace tcpfp::app
