// Prints the sizes the memory budget rests on, as one JSON line for
// scripts/bench.sh: the control block (goal <= 256 B) and the compact
// TIME_WAIT record (goal <= 64 B).
#include <cstdio>

#include "tcp/engine/tcb.hpp"

int main() {
    std::printf("{\"sizeof_tcb\":%zu,\"sizeof_time_wait_record\":%zu}\n", sizeof(tcpfp::tcp::Tcb),
                sizeof(tcpfp::tcp::TimeWaitRecord));
    return 0;
}
