// Observability from the main lcore: rte_telemetry commands /tcpfp/stats
// and /tcpfp/conns, and rte_pdump so dpdk-dumpcap can capture the port.
#pragma once

#include <memory>
#include <vector>

#include "dpdk_app/shared.hpp"

namespace tcpfp::app {

class Worker;

void start_observability(Shared& shared, std::vector<std::unique_ptr<Worker>>& workers);
void stop_observability();

}  // namespace tcpfp::app
