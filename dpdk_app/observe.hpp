// Observability from outside the process: rte_telemetry commands
// /tcpfp/info, /tcpfp/stats and /tcpfp/conns (dpdk-telemetry.py, or the
// socket /var/run/dpdk/<file-prefix>/dpdk_telemetry.v2), and rte_pdump so
// dpdk-dumpcap can capture the port. The telemetry callbacks run on DPDK's
// telemetry thread: they read the workers' published blocks and ask workers
// for connection snapshots (shared.hpp), never touching an engine.
#pragma once

#include "dpdk_app/app_config.hpp"
#include "dpdk_app/port.hpp"
#include "dpdk_app/shared.hpp"

namespace tcpfp::app {

// After rte_eal_init and the port: registers the telemetry commands and
// initialises pdump. Logs (and carries on) if pdump cannot start.
void start_observability(const AppConfig& cfg, const Port& port, Shared& shared);
// Before the workers, the port and Shared go: the commands answer an error
// from then on (telemetry cannot unregister), and pdump stops.
void stop_observability();

}  // namespace tcpfp::app
