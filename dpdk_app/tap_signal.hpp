// net_tap's RX signal. DPDK 22.11's net_tap reads its kernel queue only after
// a real-time signal (fcntl F_SETSIG, owner the whole process) bumped its
// trigger, and the kernel queues one such signal per frame. These helpers
// keep that signal on the worker that reads the queue (dpdk_app/README.md,
// "net_tap notes").
#pragma once

namespace tcpfp::app {

// Blocks SIGRTMIN+1..SIGRTMAX on the calling thread. Called before EAL
// starts, so every thread EAL creates inherits the mask.
void block_realtime_signals();

// The signal net_tap claimed for RX: DPDK 22.11 takes the first real-time
// signal above SIGRTMIN that still has the default action, so it is the
// first one that has a handler now. -1 when there is none.
int tap_rx_signal();

// Unblocks `sig` on the calling thread, which then takes every such signal
// sent to the process. False when the mask could not be changed.
bool take_signal(int sig);

}  // namespace tcpfp::app
